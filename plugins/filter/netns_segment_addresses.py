# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: netns_segment_addresses
short_description: The address every member gets in each fleet segment
version_added: 0.2.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Takes the C(netns_segments) list of the P(nsfd.namespaces.netns#role) role and returns, by segment name, the
    address (without prefix length) each member gets on the segment's bridge, as
    P(nsfd.namespaces.netns_segments#filter) allocates it. For reports and checks (ping every other member).
  - The segments are checked as P(nsfd.namespaces.netns_segments#filter) checks them, underlay addresses aside.
options:
  _input:
    description: The segments, as for P(nsfd.namespaces.netns_segments#filter).
    type: list
    elements: dict
    required: true
'''

EXAMPLES = r'''
- name: Ping every other member of segment red from inside it
  ansible.builtin.command: "ip netns exec red ping -c 1 -W 2 {{ item.value }}"
  loop: "{{ (netns_segments | nsfd.namespaces.netns_segment_addresses)['red'] | dict2items
            | rejectattr('key', 'equalto', inventory_hostname) }}"
  changed_when: false
'''

RETURN = r'''
_value:
  description: "C({segment: {host: address}}), e.g. C({red: {host1: 10.200.0.17, host2: 10.200.0.93}})."
  type: dict
'''

from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.allocate import allocate
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import check_segments
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain

if TYPE_CHECKING:
    from collections.abc import Callable


def netns_segment_addresses(segments: Any) -> dict[str, dict[str, str]]:
    try:
        checked = check_segments(to_plain(segments))
    except NamespaceError as exc:
        raise AnsibleFilterError(str(exc))
    return dict(
        (segment.name, dict((host, str(interface.ip)) for host, interface in allocate(segment).items()))
        for segment in checked
    )


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {'netns_segment_addresses': netns_segment_addresses}
