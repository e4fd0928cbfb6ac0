# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a host's underlay comes from: the inventory, and its gathered facts.

Each member's underlay address is netns_underlay_address when set, else the
variable netns_underlay_address_var names (ansible_host by default, which
Ansible defaults to the inventory name) when that is an IP address. The local
underlay device is the interface the gathered network facts show holding the
host's own underlay address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.expand import host_items, merge
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import check_segments, check_underlays

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ansible_collections.nsfd.namespaces.plugins.plugin_utils.hostvars import MemberVars

    # the members' variables: the filters' MemberVars over hostvars, or plain {host: {name: value}}
    HostVars = Union[MemberVars, Mapping[str, Mapping[str, Any]]]

EXPLICIT = 'netns_underlay_address'


def underlay_source(host: str, hostvars: HostVars, var: str) -> tuple[Any, str | None]:
    """(address text or None, where it came from) for one host, from its inventory variables;
    (None, None) for a host the inventory does not have."""
    # Ansible's hostvars answers an unknown host with an undefined value that
    # fails when read, not with KeyError: ask first
    if host not in hostvars:
        return None, None
    variables = hostvars[host]
    explicit = variables.get(EXPLICIT)
    if explicit not in (None, ''):
        return explicit, f'{EXPLICIT} = {explicit!r}'
    value = variables.get(var)
    if value in (None, '') and var == 'ansible_host':
        value = host  # Ansible's own default for ansible_host
    return value, (f'{var} = {value!r}' if value not in (None, '') else f'{var} is not set')


def device_of(address: object, facts: Mapping[str, Any] | None) -> str | None:
    """The interface gathered network facts show holding address, or None."""
    text = str(address)
    for value in (facts or {}).values():
        if not isinstance(value, dict) or not isinstance(value.get('device'), str):
            continue
        ipv4 = [value.get('ipv4') or {}] + list(value.get('ipv4_secondaries') or [])
        ipv6 = list(value.get('ipv6') or [])
        if any(isinstance(a, dict) and a.get('address') == text for a in ipv4 + ipv6):
            return value['device']
    return None


def expand_for_host(
    segments: Any,
    host: str,
    hostvars: HostVars,
    namespaces: Iterable[Any] | None = None,
    underlay_var: str = 'ansible_host',
    underlay_device: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> list[Any]:
    """The netns_config namespaces of one host: its declared ones merged with its segments.

    Every segment is checked, and every member's underlay address with it,
    whichever host asks: a mistake anywhere fails everywhere.
    """
    checked = check_segments(segments)
    members = sorted(set(h for s in checked for h in s.members))
    underlays = check_underlays(checked, dict((h, underlay_source(h, hostvars, underlay_var)) for h in members))
    device = underlay_device or (device_of(underlays[host], facts) if host in underlays else None)
    return merge(namespaces, host_items(checked, host, underlays, device), host)
