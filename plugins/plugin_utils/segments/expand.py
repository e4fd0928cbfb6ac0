# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One host's part of the fleet's segments, as netns_config namespace items.

On a member, segment S (VNI N) is its namespace with a bridge brN holding the
member's address and a VXLAN device vxN, a port of brN, whose underlay end
stays in the host's own network namespace (local = the member's underlay
address) and whose all-zeros-MAC forwarding entries send broadcast and
unknown traffic to every other member (head-end replication: no multicast
in the underlay).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.allocate import allocate
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import HINT

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import Address, Segment

FLOOD_MAC = '00:00:00:00:00:00'
# Without an underlay device the kernel gives a vxlan 1500, which a 1500
# underlay cannot carry once encapsulated: leave room for the outer headers
# (IPv4 50 bytes, IPv6 70), as the kernel does from a device's MTU
DEVICELESS_MTU = {4: 1450, 6: 1430}


def bridge_mac(host: str, vni: int) -> str:
    """A locally administered unicast MAC for the member's bridge, the same on every run and after a reboot.

    The kernel gives a new bridge a random MAC: after a reboot the other
    members' neighbour caches would point at the old one until they expire.
    """
    digest = hashlib.sha256((f'{host}\0{vni}').encode()).digest()
    return ':'.join(f'{b:02x}' for b in (0x02,) + tuple(digest[:5]))


def segment_item(
    segment: Segment, host: str, underlays: Mapping[str, Address], underlay_dev: str | None = None
) -> dict[str, Any]:
    """The namespace item of one segment on one member host."""
    addresses = allocate(segment)
    # `segment` tags both links: netns_config records them as the segment's and
    # removes them once the segment (or its id) no longer declares them
    vxlan: dict[str, Any] = {
        'name': segment.vxlan,
        'kind': 'vxlan',
        'vni': segment.vni,
        'local': str(underlays[host]),
        'master': segment.bridge,
        'segment': segment.name,
        'fdb': [
            {'mac': FLOOD_MAC, 'dst': str(underlays[other])}
            for other in sorted(segment.members, key=lambda h: underlays[h])
            if other != host
        ],
    }
    if underlay_dev:
        vxlan['underlay_dev'] = underlay_dev
    elif segment.mtu is None:
        vxlan['mtu'] = DEVICELESS_MTU[underlays[host].version]
    for key in ('port', 'mtu', 'learning'):
        if getattr(segment, key) is not None:
            vxlan[key] = getattr(segment, key)
    bridge: dict[str, Any] = {
        'name': segment.bridge,
        'kind': 'bridge',
        'segment': segment.name,
        'address': bridge_mac(host, segment.vni),
        'addresses': [str(addresses[host])],
    }
    if segment.mtu is not None:
        bridge['mtu'] = segment.mtu
    return {'name': segment.namespace, 'links': [bridge, vxlan]}


def host_items(
    segments: Iterable[Segment], host: str, underlays: Mapping[str, Address], underlay_dev: str | None = None
) -> list[dict[str, Any]]:
    """The namespace items of every segment the host is a member of, one per namespace."""
    items: list[dict[str, Any]] = []
    for segment in segments:
        if host not in segment.members:
            continue
        item = segment_item(segment, host, underlays, underlay_dev)
        same = [i for i in items if i['name'] == item['name']]
        if same:  # two segments in one namespace: one item with both bridges and VXLAN devices
            same[0]['links'].extend(item['links'])
        else:
            items.append(item)
    return items


def merge(namespaces: Iterable[Any] | None, items: Iterable[dict[str, Any]], host: str) -> list[Any]:
    """netns_namespaces (the role's declared list) with the segment items added.

    A segment namespace that is also declared gets the segment's links added
    to its own; a declared link of the same name, or a declared state: absent,
    is a clash and fails, naming the host, the namespace and the link.
    """
    # the items are plain data (the filter converted them); only a merged
    # item's `links` is replaced, so a shallow copy of each keeps the caller's intact
    merged = [dict(n) if isinstance(n, dict) else n for n in namespaces or []]
    for item in items:
        declared = [n for n in merged if isinstance(n, dict) and n.get('name') == item['name']]
        if not declared:
            merged.append(item)
            continue
        target = declared[0]
        where = f'netns_segments (host {host!r}, namespace {item["name"]!r})'
        if target.get('state', 'present') != 'present':
            raise NamespaceError(
                f'{where}: netns_namespaces declares the namespace state {target.get("state")!r} '
                'while the host is a member of a segment in it',
                hint=HINT,
            )
        links = target.get('links') or []
        if not isinstance(links, list):
            raise NamespaceError(f'{where}: netns_namespaces declares links {links!r}, not a list', hint=HINT)
        names = set(link.get('name') for link in links if isinstance(link, dict))
        for link in item['links']:
            if link['name'] in names:
                raise NamespaceError(
                    f'{where}: link {link["name"]!r} is generated by the segment '
                    'and also declared in netns_namespaces; rename or remove the declared one',
                    hint=HINT,
                )
        target['links'] = links + item['links']
    return merged
