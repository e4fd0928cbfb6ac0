# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stable member addresses inside a segment's subnet.

A member's preferred address is a hash of its inventory name (SHA-256, not
Python's per-process hash()) within the usable addresses of the subnet, so it
does not depend on the order or number of members. Every member's address is
first worked out as if there were no overrides: the members, in name order,
each take the first free address at or after their preferred one (wrapping
around). Then the explicit overrides replace their own members' addresses,
and a member whose address an override takes moves to the first address at
or after it that nobody holds. So an override moves no other member unless
it is put on that member's address, and otherwise an address only moves
when a member that sorts earlier and probes through the same addresses joins
or leaves.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import TYPE_CHECKING, Union

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import usable_range

if TYPE_CHECKING:
    from collections.abc import Container, Iterable

    from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import Address, Segment

# what ipaddress.ip_interface gives
Interface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]


def preferred_offset(host: str, size: int) -> int:
    digest = hashlib.sha256(host.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') % size


def _probe(host: str, size: int, taken: Container[int]) -> int:
    """The first offset at or after host's preferred one that taken lacks."""
    offset = preferred_offset(host, size)
    # check_segment made sure there is a free address for every member
    while offset in taken:
        offset = (offset + 1) % size
    return offset


def hashed_offsets(members: Iterable[str], size: int) -> dict[str, int]:
    """{host: offset} of every member as if none had an override. Overrides
    are left out on purpose: a member with one still holds its hashed slot
    here, so putting an override on it (or taking it off) moves nobody else."""
    taken: set[int] = set()
    result: dict[str, int] = {}
    for host in sorted(members):
        result[host] = _probe(host, size, taken)
        taken.add(result[host])
    return result


def allocate(segment: Segment) -> dict[str, Interface]:
    """{host: ipaddress.ip_interface} for every member of a checked Segment."""
    first, last = usable_range(segment.subnet)
    size = last - first + 1
    overridden = set(int(address) - first for address in segment.addresses.values())
    hashed = hashed_offsets(segment.members, size)
    # the members whose hashed address is free of overrides keep it
    kept = dict(
        (host, offset) for host, offset in hashed.items() if host not in segment.addresses and offset not in overridden
    )
    taken = overridden | set(kept.values())
    for host in sorted(h for h in hashed if h not in segment.addresses and h not in kept):
        kept[host] = _probe(host, size, taken)  # an override took its address: the next one nobody holds
        taken.add(kept[host])
    result: dict[str, Address] = dict((host, ipaddress.ip_address(first + offset)) for host, offset in kept.items())
    result.update(segment.addresses)
    return dict(
        (host, ipaddress.ip_interface(f'{address}/{segment.subnet.prefixlen}')) for host, address in result.items()
    )
