# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: netns_segments
short_description: Expand fleet-wide network segments into one host's netns_config namespaces
version_added: 0.2.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Takes the C(netns_segments) list of the P(nsfd.namespaces.netns#role) role (tenant networks that span hosts over
    VXLAN) and returns the O(nsfd.namespaces.netns_config#module:namespaces) list of one host, its declared
    namespaces (O(namespaces)) merged with the segments it is a member of.
  - "On a member, a segment with C(id: N) is its namespace (the segment's C(namespace), default its C(name)) with a
    bridge C(brN) holding the member's address (with a stable, locally administered MAC derived from the host name
    and N, so after a reboot the other members' neighbour caches still hold) and a C(vxlan) link C(vxN), a port of
    C(brN), with VNI N, C(local) the member's underlay address, and an all-zeros-MAC C(fdb) entry towards the
    underlay address of every other member (head-end replication: no multicast)."
  - "A member's address is stable: a SHA-256 hash of its inventory name within the usable addresses of C(subnet),
    the members in name order each taking the first free address at or after their hashed one, as if there were no
    overrides. An explicit C(addresses) override then replaces its own member's address only, and a member whose
    address an override takes moves to the first address at or after it that nobody holds. An address moves only
    when an override is put on it, or when a member that sorts earlier and probes through the same addresses joins
    or leaves; an override put on (or taken off) one member moves no other."
  - "Each member's underlay address is its C(netns_underlay_address) host variable, else the variable named by
    O(underlay_var) (C(ansible_host) by default, which Ansible defaults to the inventory name) when it is an IP
    address."
  - The VXLAN device's C(underlay_dev) is O(underlay_device), else the interface O(facts) show holding the host's
    own underlay address. Without one, the VXLAN gets 1450 (IPv6 1430, as for a 1500 underlay; the kernel would give
    it 1500) unless the segment declares C(mtu); with one, the kernel derives it (underlay MTU - 50, IPv6 - 70).
  - Every segment and every member's underlay address is checked, whichever host asks, and any mistake fails
    naming the segment, the host, the option and the value, so every host of a play fails before anything is
    touched; duplicate names or ids, a subnet too small for its members, an override outside the subnet, on its
    network or broadcast address, colliding or for a non-member, a member without a unicast IP underlay address,
    two members with the same underlay address, overlapping subnets of segments that share a namespace, members that
    are not a list, and names that cannot be namespace names.
  - A segment namespace also declared in O(namespaces) gets the segment's links added to its declared ones; a
    declared link named like a generated one (C(brN), C(vxN)), or the namespace declared C(state=absent), fails.
options:
  _input:
    description:
      - "The segments: a list of dicts with C(name) (the segment, and its namespace's name unless C(namespace) is
        given), C(id) (the VNI, 1 to 16777215, unique), C(subnet) (CIDR), C(members) (a list of inventory host
        names), and optionally C(namespace), C(port) (UDP destination port, default 4789), C(mtu), C(learning)
        (default true) and C(addresses) (a dict of host: address overrides)."
    type: list
    elements: dict
    required: true
  host:
    description: The host to expand for (C(inventory_hostname)).
    type: str
    required: true
  hostvars:
    description: The inventory's variables by host (C(hostvars)), where the members' underlay addresses come from.
    type: dict
    required: true
  namespaces:
    description: The host's declared namespaces, which the segments are merged into.
    type: list
    elements: dict
    default: []
  underlay_var:
    description: The host variable that holds a member's underlay address when C(netns_underlay_address) is not set.
    type: str
    default: ansible_host
  underlay_device:
    description: The host's underlay device; empty to find it in O(facts).
    type: str
    default: ''
  facts:
    description: The host's gathered network facts (C(ansible_facts)), to find the underlay device.
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: One call converges the declared namespaces and the segments of this host
  nsfd.namespaces.netns_config:
    namespaces: >-
      {{ netns_segments | nsfd.namespaces.netns_segments(inventory_hostname, hostvars,
         namespaces=netns_namespaces, facts=ansible_facts) }}
  vars:
    netns_segments:
      - name: red
        id: 100
        subnet: 10.200.0.0/24
        members: "{{ groups['routers'] }}"
        addresses: {host1: 10.200.0.1}
'''

RETURN = r'''
_value:
  description: The O(nsfd.namespaces.netns_config#module:namespaces) list of the host.
  type: list
  elements: dict
'''

from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.fleet import expand_for_host
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.hostvars import MemberVars

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


def netns_segments(
    segments: Any,
    host: Any,
    hostvars: Mapping[str, Any],
    namespaces: Any = None,
    underlay_var: Any = 'ansible_host',
    underlay_device: Any = '',
    facts: Mapping[str, Any] | None = None,
) -> list[Any]:
    try:
        return expand_for_host(
            to_plain(segments),
            to_plain(host),
            MemberVars(hostvars),
            namespaces=to_plain(namespaces),
            underlay_var=to_plain(underlay_var),
            underlay_device=to_plain(underlay_device) or None,
            facts=facts,
        )
    except NamespaceError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {'netns_segments': netns_segments}
