# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of a whole netns_segments list, fleet-wide, before anything is touched.

Every host checks every segment, not only its own: a mistake anywhere fails
on every host of the play, so no host converges half a fleet. Messages name
the segment (by index and name), the option, the value (repr) and the host.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import numbers
from typing import TYPE_CHECKING, Any, NoReturn, Union

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import ADDRESS_TEXT, usable_hosts
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem, unprintable

if TYPE_CHECKING:
    from collections.abc import Mapping

# what ipaddress.ip_network and ip_address give
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

VNI_MAX = 16777215  # 24 bits
SEGMENT_KEYS = {'name', 'id', 'subnet', 'members', 'namespace', 'port', 'mtu', 'learning', 'addresses'}
HINT = 'Nothing was changed: fix netns_segments and run again.'
# the shortest prefix a segment may have: shorter ones hold other networks'
# routes (IPv4 /8 is a whole class A, IPv6 /16 far beyond any tenant's /64)
SHORTEST_PREFIX = {4: 8, 6: 16}
# blocks no member address may come from (ipaddress' is_* properties judge a
# network only by its two ends, so overlaps are checked instead)
SPECIAL_BLOCKS = [
    (ipaddress.ip_network(block), what)
    for block, what in (
        ('0.0.0.0/8', 'unspecified ("this network")'),
        ('127.0.0.0/8', 'loopback'),
        ('169.254.0.0/16', 'link-local'),
        ('224.0.0.0/4', 'multicast'),
        ('240.0.0.0/4', 'reserved and broadcast'),
        ('::/128', 'unspecified'),
        ('::1/128', 'loopback'),
        ('fe80::/10', 'link-local'),
        ('ff00::/8', 'multicast'),
    )
]


@dataclasses.dataclass(frozen=True)
class Segment:
    """One checked segment; addresses and members as given (members deduplicated, in order)."""

    name: str
    vni: int
    subnet: Network
    members: list[str]
    namespace: str
    port: int | None
    mtu: int | None
    learning: bool | None
    addresses: dict[str, Address]

    @property
    def bridge(self) -> str:
        return f'br{self.vni}'

    @property
    def vxlan(self) -> str:
        return f'vx{self.vni}'


def fail(where: str, message: str) -> NoReturn:
    raise NamespaceError(f'netns_segments{where}: {message}', hint=HINT)


def _label(index: int, item: object) -> str:
    name = item.get('name') if isinstance(item, dict) else None
    return f'[{index}]' if not isinstance(name, str) else f'[{index}] (segment {name!r})'


def _int(value: Any, where: str, option: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        # numbers.Integral declares no comparison with int, though every integral type has one
        or not low <= value <= high  # type: ignore[operator]
    ):
        fail(where, f'{option} {value!r} must be an integer from {low} to {high}')
    return int(value)


def _name(value: Any, where: str, option: str) -> str:
    problem = name_problem(value)
    if problem:
        fail(where, f'{option} {value!r} {problem} (it names the network namespace on every member)')
    return value


def _subnet(value: Any, where: str) -> Network:
    if not isinstance(value, str) or not ADDRESS_TEXT.match(value) or '/' not in value:
        fail(where, f'subnet {value!r} must be a network in CIDR notation, such as 10.200.0.0/24')
    try:
        subnet = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        fail(where, f'subnet {value!r} is not a network: {exc}')
    problem = subnet_problem(subnet)
    if problem:
        fail(where, f'subnet {value!r} {problem}; a segment needs a unicast subnet of its own, such as 10.200.0.0/24')
    return subnet


def subnet_problem(subnet: Network) -> str | None:
    """Why subnet cannot be a segment's, or None. Each member's bridge gets
    the subnet's connected route: a default route (/0) or a huge prefix would
    take the namespace's other traffic into the tunnel, and an address from a
    special block (multicast, loopback, link-local, unspecified, reserved)
    is not one a bridge can hold and reach others with."""
    if subnet.prefixlen == 0:
        return 'is the default route (every address)'
    if subnet.prefixlen < SHORTEST_PREFIX[subnet.version]:
        return (
            f'has the prefix /{subnet.prefixlen}, too short for a segment (at least /{SHORTEST_PREFIX[subnet.version]})'
        )
    for block, what in SPECIAL_BLOCKS:
        if block.version == subnet.version and subnet.overlaps(block):
            return f'overlaps {block}, the {what} addresses'
    return None


def _members(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        fail(
            where,
            f'members {value!r} must be a list of inventory host names (e.g. "{{{{ groups[\'routers\'] }}}}"), '
            f'not {type(value).__name__}',
        )
    seen: list[str] = []
    for host in value:
        if not isinstance(host, str) or not host or unprintable(host):
            fail(where, f'members: {host!r} is not an inventory host name')
        if host not in seen:  # groups['a'] + groups['b'] may overlap
            seen.append(host)
    return seen


def _address(value: Any, where: str, option: str, subnet: Network) -> Address:
    if not isinstance(value, str) or not ADDRESS_TEXT.match(value) or '/' in value:
        fail(where, f'{option} {value!r} must be an address without a prefix length, inside {subnet}')
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        fail(where, f'{option} {value!r} is not an IP address')
    if address.version != subnet.version or address not in subnet:
        fail(where, f'{option} {address} is outside the subnet {subnet}')
    first, last = usable_range(subnet)
    if not first <= int(address) <= last:
        fail(
            where,
            f'{option} {address} is the network or broadcast address of {subnet}; '
            f'use one from {ipaddress.ip_address(first)} to {ipaddress.ip_address(last)}',
        )
    return address


def usable_range(subnet: Network) -> tuple[int, int]:
    """The first and last address (as integers) a member may get (netconfig's usable_hosts)."""
    first, last = usable_hosts(subnet)
    return int(first), int(last)


def check_segment(index: int, item: Any) -> Segment:
    where = _label(index, item)
    if not isinstance(item, dict):
        fail(where, f'must be a dict with name, id, subnet and members, not {type(item).__name__}')
    unknown = sorted(set(item) - SEGMENT_KEYS)
    if unknown:
        fail(where, f'unknown key(s) {", ".join(unknown)}; known: {", ".join(sorted(SEGMENT_KEYS))}')
    for key in ('name', 'id', 'subnet', 'members'):
        if item.get(key) is None:
            fail(where, f'{key} is required')
    name = _name(item['name'], where, 'name')
    namespace = _name(item.get('namespace') or name, where, 'namespace')
    vni = _int(item['id'], where, 'id (the VXLAN network identifier)', 1, VNI_MAX)
    subnet = _subnet(item['subnet'], where)
    members = _members(item['members'], where)
    port = None if item.get('port') is None else _int(item['port'], where, 'port', 1, 65535)
    lowest_mtu = 1280 if subnet.version == 6 else 68
    mtu = None if item.get('mtu') is None else _int(item['mtu'], where, 'mtu', lowest_mtu, 65535)
    learning = item.get('learning')
    if learning is not None and not isinstance(learning, bool):
        fail(where, f'learning {learning!r} must be true or false')
    overrides = item.get('addresses') or {}
    if not isinstance(overrides, dict):
        fail(where, f'addresses {overrides!r} must be a dict of host: address')
    addresses: dict[str, Address] = {}
    taken: dict[Address, str] = {}
    for host in sorted(overrides, key=str):
        option = f'addresses[{host!r}]'
        if host not in members:
            fail(
                where,
                f'{option}: host {host!r} is not a member of the segment (members: {(", ".join(members) or "none")}); '
                'remove the override or add the host',
            )
        address = _address(overrides[host], where, option, subnet)
        if address in taken:
            fail(where, f'{option} {address} is also the address of host {taken[address]!r}')
        taken[address] = host
        addresses[host] = address
    first, last = usable_range(subnet)
    if len(members) > last - first + 1:
        fail(
            where,
            f'subnet {subnet} has {last - first + 1} usable addresses, '
            f'too few for its {len(members)} members ({", ".join(members)})',
        )
    return Segment(name, vni, subnet, members, namespace, port, mtu, learning, addresses)


def check_segments(items: Any) -> list[Segment]:
    """Checked Segments of a whole netns_segments list: each one, then what they must not share."""
    if items is None:
        return []
    if not isinstance(items, list):
        fail('', f'must be a list of segments, not {type(items).__name__}')
    segments = [check_segment(index, item) for index, item in enumerate(items)]
    names: dict[str, int] = {}
    vnis: dict[int, int] = {}
    for index, segment in enumerate(segments):
        where = _label(index, items[index])
        if segment.name in names:
            fail(
                where,
                f'name {segment.name!r} is also the name of netns_segments[{names[segment.name]}]; '
                'segment names must be unique',
            )
        names[segment.name] = index
        if segment.vni in vnis:
            fail(
                where,
                f'id {segment.vni} is also the id (VNI) of segment {segments[vnis[segment.vni]].name!r}; '
                'every segment needs its own VNI',
            )
        vnis[segment.vni] = index
        for earlier in segments[:index]:
            # two bridges of one namespace in one subnet: both get its connected route
            if (
                earlier.namespace == segment.namespace
                and earlier.subnet.version == segment.subnet.version
                and earlier.subnet.overlaps(segment.subnet)
            ):
                fail(
                    where,
                    f'subnet {segment.subnet} overlaps {earlier.subnet} of segment {earlier.name!r}, which is in the '
                    f'same namespace {segment.namespace!r}; give segments '
                    'that share a namespace disjoint subnets',
                )
    return segments


def check_underlays(segments: list[Segment], underlays: Mapping[str, tuple[Any, str | None]]) -> dict[str, Address]:
    """Every member's underlay address, parsed: an IP address, unique per segment, of one family per segment.

    underlays maps host -> (address text or None, where it came from), as the caller found them;
    where it came from is None for a host the inventory does not have.
    """
    parsed: dict[str, Address] = {}
    for segment in segments:
        owners: dict[Address, str] = {}
        for host in segment.members:
            text, source = underlays.get(host, (None, None))
            where = f' (segment {segment.name!r}, host {host!r})'
            if source is None:
                fail(
                    where,
                    'the member is not in the inventory of this run (a sliced job on AWX or Automation '
                    'Controller holds only its own slice of hosts: run plays with segments unsliced); add it '
                    'there, or remove it from members',
                )
            if text in (None, ''):
                fail(
                    where,
                    f'the member has no underlay address ({source}); set netns_underlay_address for the host, '
                    'or name the variable that holds it in netns_underlay_address_var',
                )
            try:
                address = ipaddress.ip_address(text) if isinstance(text, str) and ADDRESS_TEXT.match(text) else None
            except ValueError:
                address = None
            if address is None:
                fail(
                    where,
                    f'underlay address {text!r} ({source}) is not an IP address; set netns_underlay_address for the '
                    'host, or name the variable that holds it in netns_underlay_address_var',
                )
            if underlay_problem(address):
                fail(
                    where,
                    f'underlay address {text!r} ({source}) is {underlay_problem(address)}, '
                    'no unicast address a tunnel can use as its end; set '
                    'netns_underlay_address for the host, or name the variable that holds it in '
                    'netns_underlay_address_var',
                )
            if address in owners:
                fail(where, f'underlay address {address} is also the underlay address of host {owners[address]!r}')
            families = set(a.version for a in owners)
            if families and address.version not in families:
                fail(
                    where,
                    f'underlay address {address} is IPv{address.version} '
                    f'while the other members use IPv{families.pop()}; a VXLAN segment needs one family',
                )
            owners[address] = host
            parsed[host] = address
    return parsed


def underlay_problem(address: Address) -> str | None:
    """What makes address useless as a tunnel end (the others send their
    VXLAN packets to it), or None: unspecified, multicast, loopback (it
    names the sender itself on every member), IPv4's reserved block with
    the broadcast address 255.255.255.255."""
    for test, what in (('is_unspecified', 'unspecified'), ('is_multicast', 'multicast'), ('is_loopback', 'loopback')):
        if getattr(address, test):
            return f'a {what} address'
    if address.version == 4 and address.is_reserved:
        return 'a reserved or broadcast address'
    return None
