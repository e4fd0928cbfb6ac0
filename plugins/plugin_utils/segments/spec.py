# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of a whole netns_segments list, fleet-wide, before anything is touched.

Every host checks every segment, not only its own: a mistake anywhere fails
on every host of the play, so no host converges half a fleet. Messages name
the segment (by index and name), the option, the value (repr) and the host.
"""

import ipaddress
import numbers

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import ADDRESS_TEXT, usable_hosts
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem, unprintable

VNI_MAX = 16777215  # 24 bits
SEGMENT_KEYS = {'name', 'id', 'subnet', 'members', 'namespace', 'port', 'mtu', 'learning', 'addresses'}
HINT = 'Nothing was changed: fix netns_segments and run again.'
# the shortest prefix a segment may have: shorter ones hold other networks'
# routes (IPv4 /8 is a whole class A, IPv6 /16 far beyond any tenant's /64)
SHORTEST_PREFIX = {4: 8, 6: 16}
# blocks no member address may come from (ipaddress' is_* properties judge a
# network only by its two ends, so overlaps are checked instead)
SPECIAL_BLOCKS = {
    4: [(ipaddress.ip_network(n), what) for n, what in (
        ('0.0.0.0/8', 'unspecified ("this network")'), ('127.0.0.0/8', 'loopback'), ('169.254.0.0/16', 'link-local'),
        ('224.0.0.0/4', 'multicast'), ('240.0.0.0/4', 'reserved and broadcast'))],
    6: [(ipaddress.ip_network(n), what) for n, what in (
        ('::/128', 'unspecified'), ('::1/128', 'loopback'), ('fe80::/10', 'link-local'), ('ff00::/8', 'multicast'))],
}


class Segment(object):
    """One checked segment; addresses and members as given (members deduplicated, in order)."""

    def __init__(self, name, vni, subnet, members, namespace, port, mtu, learning, addresses):
        self.name = name
        self.vni = vni
        self.subnet = subnet
        self.members = members
        self.namespace = namespace
        self.port = port
        self.mtu = mtu
        self.learning = learning
        self.addresses = addresses

    @property
    def bridge(self):
        return 'br%d' % self.vni

    @property
    def vxlan(self):
        return 'vx%d' % self.vni


def fail(where, message):
    raise NamespaceError('netns_segments%s: %s' % (where, message), hint=HINT)


def _label(index, item):
    name = item.get('name') if isinstance(item, dict) else None
    return '[%d]' % index if not isinstance(name, str) else '[%d] (segment %r)' % (index, name)


def _int(value, where, option, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        fail(where, '%s %r must be an integer from %d to %d' % (option, value, low, high))
    return int(value)


def _name(value, where, option):
    problem = name_problem(value)
    if problem:
        fail(where, '%s %r %s (it names the network namespace on every member)' % (option, value, problem))
    return value


def _subnet(value, where):
    if not isinstance(value, str) or not ADDRESS_TEXT.match(value) or '/' not in value:
        fail(where, 'subnet %r must be a network in CIDR notation, such as 10.200.0.0/24' % (value,))
    try:
        subnet = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        fail(where, 'subnet %r is not a network: %s' % (value, exc))
    problem = subnet_problem(subnet)
    if problem:
        fail(where, 'subnet %r %s; a segment needs a unicast subnet of its own, such as 10.200.0.0/24' % (value, problem))
    return subnet


def subnet_problem(subnet):
    """Why subnet cannot be a segment's, or None. Each member's bridge gets
    the subnet's connected route: a default route (/0) or a huge prefix would
    take the namespace's other traffic into the tunnel, and an address from a
    special block (multicast, loopback, link-local, unspecified, reserved)
    is not one a bridge can hold and reach others with."""
    if subnet.prefixlen == 0:
        return 'is the default route (every address)'
    if subnet.prefixlen < SHORTEST_PREFIX[subnet.version]:
        return 'has the prefix /%d, too short for a segment (at least /%d)' % (
            subnet.prefixlen, SHORTEST_PREFIX[subnet.version])
    for block, what in SPECIAL_BLOCKS[subnet.version]:
        if subnet.overlaps(block):
            return 'overlaps %s, the %s addresses' % (block, what)
    return None


def _members(value, where):
    if not isinstance(value, list):
        fail(where, 'members %r must be a list of inventory host names (e.g. "{{ groups[\'routers\'] }}"), not %s'
             % (value, type(value).__name__))
    seen = []
    for host in value:
        if not isinstance(host, str) or not host or unprintable(host):
            fail(where, 'members: %r is not an inventory host name' % (host,))
        if host not in seen:  # groups['a'] + groups['b'] may overlap
            seen.append(host)
    return seen


def _address(value, where, option, subnet):
    if not isinstance(value, str) or not ADDRESS_TEXT.match(value) or '/' in value:
        fail(where, '%s %r must be an address without a prefix length, inside %s' % (option, value, subnet))
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        fail(where, '%s %r is not an IP address' % (option, value))
    if address.version != subnet.version or address not in subnet:
        fail(where, '%s %s is outside the subnet %s' % (option, address, subnet))
    first, last = usable_range(subnet)
    if not first <= int(address) <= last:
        fail(where, '%s %s is the network or broadcast address of %s; use one from %s to %s'
             % (option, address, subnet, ipaddress.ip_address(first), ipaddress.ip_address(last)))
    return address


def usable_range(subnet):
    """The first and last address (as integers) a member may get (netconfig's usable_hosts)."""
    return tuple(int(address) for address in usable_hosts(subnet))


def check_segment(index, item):
    where = _label(index, item)
    if not isinstance(item, dict):
        fail(where, 'must be a dict with name, id, subnet and members, not %s' % type(item).__name__)
    unknown = sorted(set(item) - SEGMENT_KEYS)
    if unknown:
        fail(where, 'unknown key(s) %s; known: %s' % (', '.join(unknown), ', '.join(sorted(SEGMENT_KEYS))))
    for key in ('name', 'id', 'subnet', 'members'):
        if item.get(key) is None:
            fail(where, '%s is required' % key)
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
        fail(where, 'learning %r must be true or false' % (learning,))
    overrides = item.get('addresses') or {}
    if not isinstance(overrides, dict):
        fail(where, 'addresses %r must be a dict of host: address' % (overrides,))
    addresses = {}
    taken = {}
    for host in sorted(overrides, key=str):
        option = 'addresses[%r]' % (host,)
        if host not in members:
            fail(where, '%s: host %r is not a member of the segment (members: %s); remove the override or add '
                 'the host' % (option, host, ', '.join(members) or 'none'))
        address = _address(overrides[host], where, option, subnet)
        if address in taken:
            fail(where, '%s %s is also the address of host %r' % (option, address, taken[address]))
        taken[address] = host
        addresses[host] = address
    first, last = usable_range(subnet)
    if len(members) > last - first + 1:
        fail(where, 'subnet %s has %d usable addresses, too few for its %d members (%s)'
             % (subnet, last - first + 1, len(members), ', '.join(members)))
    return Segment(name, vni, subnet, members, namespace, port, mtu, learning, addresses)


def check_segments(items):
    """Checked Segments of a whole netns_segments list: each one, then what they must not share."""
    if items is None:
        return []
    if not isinstance(items, list):
        fail('', 'must be a list of segments, not %s' % type(items).__name__)
    segments = [check_segment(index, item) for index, item in enumerate(items)]
    names, vnis = {}, {}
    for index, segment in enumerate(segments):
        where = _label(index, items[index])
        if segment.name in names:
            fail(where, 'name %r is also the name of netns_segments[%d]; segment names must be unique'
                 % (segment.name, names[segment.name]))
        names[segment.name] = index
        if segment.vni in vnis:
            fail(where, 'id %d is also the id (VNI) of segment %r; every segment needs its own VNI'
                 % (segment.vni, segments[vnis[segment.vni]].name))
        vnis[segment.vni] = index
        for earlier in segments[:index]:
            # two bridges of one namespace in one subnet: both get its connected route
            if earlier.namespace == segment.namespace and earlier.subnet.version == segment.subnet.version \
                    and earlier.subnet.overlaps(segment.subnet):
                fail(where, 'subnet %s overlaps %s of segment %r, which is in the same namespace %r; give segments '
                     'that share a namespace disjoint subnets'
                     % (segment.subnet, earlier.subnet, earlier.name, segment.namespace))
    return segments


def check_underlays(segments, underlays):
    """Every member's underlay address, parsed: an IP address, unique per segment, of one family per segment.

    underlays maps host -> (address text or None, where it came from), as the caller found them;
    where it came from is None for a host the inventory does not have.
    """
    parsed = {}
    for segment in segments:
        owners = {}
        for host in segment.members:
            text, source = underlays.get(host, (None, None))
            where = ' (segment %r, host %r)' % (segment.name, host)
            if source is None:
                fail(where, 'the member is not in the inventory of this run (a sliced job on AWX or Automation '
                     'Controller holds only its own slice of hosts: run plays with segments unsliced); add it '
                     'there, or remove it from members')
            if text in (None, ''):
                fail(where, 'the member has no underlay address (%s); set netns_underlay_address for the host, '
                     'or name the variable that holds it in netns_underlay_address_var' % source)
            try:
                address = ipaddress.ip_address(text) if isinstance(text, str) and ADDRESS_TEXT.match(text) else None
            except ValueError:
                address = None
            if address is None:
                fail(where, 'underlay address %r (%s) is not an IP address; set netns_underlay_address for the '
                     'host, or name the variable that holds it in netns_underlay_address_var' % (text, source))
            if underlay_problem(address):
                fail(where, 'underlay address %r (%s) is %s, no unicast address a tunnel can use as its end; set '
                     'netns_underlay_address for the host, or name the variable that holds it in '
                     'netns_underlay_address_var' % (text, source, underlay_problem(address)))
            if address in owners:
                fail(where, 'underlay address %s is also the underlay address of host %r' % (address, owners[address]))
            families = set(a.version for a in owners)
            if families and address.version not in families:
                fail(where, 'underlay address %s is IPv%d while the other members use IPv%d; a VXLAN segment '
                     'needs one family' % (address, address.version, families.pop()))
            owners[address] = host
            parsed[host] = address
    return parsed


def underlay_problem(address):
    """What makes address useless as a tunnel end (the others send their
    VXLAN packets to it), or None: unspecified, multicast, loopback (it
    names the sender itself on every member), IPv4's reserved block with
    the broadcast address 255.255.255.255."""
    for test, what in (('is_unspecified', 'unspecified'), ('is_multicast', 'multicast'), ('is_loopback', 'loopback')):
        if getattr(address, test):
            return 'a %s address' % what
    if address.version == 4 and address.is_reserved:
        return 'a reserved or broadcast address'
    return None
