# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a network namespace holds now, read over one plain netlink socket
(see rtnl for why not pyroute2)."""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import socket
import struct
from typing import TYPE_CHECKING, Any, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import nsid as nsid_util, rtnl
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.rtnetlink import (
    AF_BRIDGE,
    IFADDRMSG,
    IFA_ADDRESS,
    IFA_LOCAL,
    IFF_UP,
    IFINFOMSG,
    IFLA_ADDRESS,
    IFLA_IFALIAS,
    IFLA_IFNAME,
    IFLA_INFO_DATA,
    IFLA_INFO_KIND,
    IFLA_LINK,
    IFLA_LINKINFO,
    IFLA_LINK_NETNSID,
    IFLA_MASTER,
    IFLA_MTU,
    IFLA_VXLAN_ID,
    IFLA_VXLAN_LEARNING,
    IFLA_VXLAN_LINK,
    IFLA_VXLAN_LOCAL,
    IFLA_VXLAN_LOCAL6,
    IFLA_VXLAN_PORT,
    NDA_DST,
    NDA_LLADDR,
    NDA_PORT,
    NDA_VNI,
    NDMSG,
    NTF_EXT_LEARNED,
    NTF_SELF,
    NUD_NOARP,
    NUD_PERMANENT,
    RTA_DST,
    RTA_GATEWAY,
    RTA_OIF,
    RTA_PREFSRC,
    RTA_PRIORITY,
    RTA_TABLE,
    RTMSG,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETROUTE,
    RTN_UNICAST,
    RT_TABLE_COMPAT,
)

if TYPE_CHECKING:
    from typing import Union

    # name -> {index, kind, up, mtu, address, master, link, link_netnsid, vxlan, alias}:
    # a link as read (see NetState.links)
    LinkInfo = dict[str, Any]
    # {dst, via, oif, src, metric, table, proto, family, tos, scope, type}: a route as read
    RouteInfo = dict[str, Any]
    Interface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
    Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
    FdbEntry = dict[str, Any]


@dataclasses.dataclass(eq=False)
class NetState:
    """Links by name, addresses by link name, routes, as plain values.
    Compared by identity (eq=False), as a plain class is."""

    # name -> {index, kind, up, mtu, address, master, link, link_netnsid, vxlan,
    # alias}: link is the ifindex of a veth's peer or a macvlan's parent (IFLA_LINK),
    # in the namespace link_netnsid names (None: this one); vxlan is None,
    # or a vxlan's {vni, local, underlay, port, learning} (underlay: an
    # ifindex in the namespace of its socket, which link_netnsid names);
    # alias is the link's ifalias (None: none)
    links: dict[str, LinkInfo] = dataclasses.field(default_factory=dict)
    addresses: dict[str, list[Interface]] = dataclasses.field(default_factory=dict)  # name -> [ip_interface]
    # vxlan link name -> [{mac, dst}]: its static forwarding entries
    # (learned ones are not listed: they are never touched)
    fdb: dict[str, list[FdbEntry]] = dataclasses.field(default_factory=dict)
    # [{dst, via, oif, src, metric, table, proto, family, tos, scope, type}]:
    # every type (blackhole, local...) and protocol, for purge to choose
    routes: list[RouteInfo] = dataclasses.field(default_factory=list)

    @classmethod
    def empty(cls) -> NetState:
        state = cls()
        state.links['lo'] = {
            'index': 1,
            'kind': None,
            'up': False,
            'mtu': 65536,
            'address': None,
            'master': None,
            'link': None,
            'link_netnsid': None,
            'vxlan': None,
            'alias': None,
        }
        return state

    def name_of(self, index: int | None) -> str | None:
        for name, link in self.links.items():
            if link['index'] == index:
                return name
        return None


def _mac(payload: bytes | None) -> str | None:
    return ':'.join(f'{b:02x}' for b in bytearray(payload)) if payload else None


def _ip(family: int, payload: bytes | None) -> str | None:
    return socket.inet_ntop(family, payload) if payload else None


def _read_links(sock: rtnl.Socket, state: NetState) -> None:
    for buf, start, end in sock.dump(RTM_GETLINK, IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
        index, flags = IFINFOMSG.unpack_from(buf, start)[2:4]
        attrs = rtnl.attributes(buf, start + IFINFOMSG.size, end)
        info = rtnl.attributes(attrs[IFLA_LINKINFO], 0, len(attrs[IFLA_LINKINFO])) if IFLA_LINKINFO in attrs else {}
        kind = rtnl.text(info.get(IFLA_INFO_KIND))
        # the kernel names every link it reports
        state.links[cast(str, rtnl.text(attrs.get(IFLA_IFNAME)))] = {
            'index': index,
            'kind': kind,
            'up': bool(flags & IFF_UP),
            'mtu': rtnl.u32(attrs.get(IFLA_MTU)),
            'address': _mac(attrs.get(IFLA_ADDRESS)),
            'master': rtnl.u32(attrs.get(IFLA_MASTER)),
            'link': rtnl.u32(attrs.get(IFLA_LINK)),
            'link_netnsid': struct.unpack('=i', attrs[IFLA_LINK_NETNSID])[0] if IFLA_LINK_NETNSID in attrs else None,
            'vxlan': _vxlan(info.get(IFLA_INFO_DATA)) if kind == 'vxlan' else None,
            'alias': rtnl.text(attrs.get(IFLA_IFALIAS)) or None,
        }


def _vxlan(data: bytes | None) -> dict[str, Any]:
    attrs = rtnl.attributes(data, 0, len(data)) if data else {}
    raw = attrs.get(IFLA_VXLAN_LOCAL6) or attrs.get(IFLA_VXLAN_LOCAL)
    local = ipaddress.ip_address(bytes(raw)) if raw and any(bytearray(raw)) else None
    learning = attrs.get(IFLA_VXLAN_LEARNING)
    return {
        'vni': rtnl.u32(attrs.get(IFLA_VXLAN_ID)),
        'local': local,
        'underlay': rtnl.u32(attrs.get(IFLA_VXLAN_LINK)) or None,
        'port': struct.unpack('!H', attrs[IFLA_VXLAN_PORT])[0] if IFLA_VXLAN_PORT in attrs else None,
        'learning': bool(bytearray(learning)[0]) if learning else None,
    }


def _read_fdb(sock: rtnl.Socket, state: NetState) -> None:
    """The static entries of the vxlan links: each destination of an entry
    comes as a message of its own (several for the all-zeros MAC)."""
    vxlans = dict((link['index'], name) for name, link in state.links.items() if link['kind'] == 'vxlan')
    if not vxlans:
        return  # no dump on the hot path of namespaces without vxlan links
    for name in vxlans.values():
        state.fdb[name] = []
    for buf, start, end in sock.dump(RTM_GETNEIGH, NDMSG.pack(AF_BRIDGE, 0, 0, 0, 0)):
        family, index, nud, flags = NDMSG.unpack_from(buf, start)[:4]
        if (
            family != AF_BRIDGE
            or index not in vxlans
            or not flags & NTF_SELF
            or flags & NTF_EXT_LEARNED
            or not nud & (NUD_PERMANENT | NUD_NOARP)
        ):
            continue
        attrs = rtnl.attributes(buf, start + NDMSG.size, end)
        dst, mac = attrs.get(NDA_DST), _mac(attrs.get(NDA_LLADDR))
        if dst and mac:
            entry: dict[str, Any] = {'mac': mac, 'dst': ipaddress.ip_address(bytes(dst))}
            # the kernel sends a port and VNI only where they are not the device's: such an entry (made by
            # hand) sends elsewhere than a declared one, which has neither
            if attrs.get(NDA_PORT):
                entry['port'] = struct.unpack('!H', attrs[NDA_PORT][:2])[0]
            if attrs.get(NDA_VNI):
                entry['vni'] = rtnl.u32(attrs[NDA_VNI])
            state.fdb[vxlans[index]].append(entry)


def _read_addresses(sock: rtnl.Socket, state: NetState) -> None:
    names = dict((link['index'], name) for name, link in state.links.items())
    for buf, start, end in sock.dump(RTM_GETADDR, IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
        family, prefixlen, _flags, _scope, index = IFADDRMSG.unpack_from(buf, start)
        attrs = rtnl.attributes(buf, start + IFADDRMSG.size, end)
        local = _ip(family, attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS))
        if index in names and local is not None:
            state.addresses.setdefault(names[index], []).append(ipaddress.ip_interface(f'{local}/{prefixlen}'))


def _read_routes(sock: rtnl.Socket, state: NetState) -> None:
    for family in (socket.AF_INET, socket.AF_INET6):
        for buf, start, end in sock.dump(RTM_GETROUTE, RTMSG.pack(family, 0, 0, 0, 0, 0, 0, 0, 0)):
            msg_family, dst_len, _src_len, tos, table, proto, scope, kind, _flags = RTMSG.unpack_from(buf, start)
            if msg_family != family:
                continue
            attrs = rtnl.attributes(buf, start + RTMSG.size, end)
            dst = _ip(family, attrs.get(RTA_DST)) or ('::' if family == socket.AF_INET6 else '0.0.0.0')
            gateway = _ip(family, attrs.get(RTA_GATEWAY))
            src = _ip(family, attrs.get(RTA_PREFSRC))
            state.routes.append(
                {
                    'dst': ipaddress.ip_network(f'{dst}/{dst_len}'),
                    'via': ipaddress.ip_address(gateway) if gateway else None,
                    'oif': rtnl.u32(attrs.get(RTA_OIF)),
                    'src': ipaddress.ip_address(src) if src else None,
                    'metric': rtnl.u32(attrs.get(RTA_PRIORITY)) or 0,
                    'table': rtnl.u32(attrs.get(RTA_TABLE)) or table,
                    'proto': proto,
                    'family': family,
                    'tos': tos,
                    'scope': scope,
                    'type': kind,
                }
            )


def read(sock: rtnl.Socket) -> NetState:
    """The NetState of the namespace sock (an rtnl.Socket) lives in."""
    state = NetState()
    _read_links(sock, state)
    _read_fdb(sock, state)
    _read_addresses(sock, state)
    _read_routes(sock, state)
    return state


def delete_route(sock: rtnl.Socket, route: RouteInfo) -> None:
    """Delete one route read by read(), matched by its whole identity (table,
    dst, tos, type, scope, protocol, metric, and its single next hop): the
    kernel takes a missing scope for 'universe' and so would not find a
    link-scope route, and the metric tells same-destination routes apart."""
    table = RT_TABLE_COMPAT if route['table'] > 255 else route['table']
    body = RTMSG.pack(
        route['family'],
        route['dst'].prefixlen,
        0,
        route['tos'],
        table,
        route['proto'],
        route['scope'],
        route['type'],
        0,
    )
    if route['dst'].prefixlen:
        body += _attr_bytes(RTA_DST, route['dst'].network_address.packed)
    body += rtnl.attr(RTA_TABLE, '=I', route['table']) + rtnl.attr(RTA_PRIORITY, '=I', route['metric'])
    if route['type'] == RTN_UNICAST:
        if route['oif']:
            body += rtnl.attr(RTA_OIF, '=I', route['oif'])
        if route['via'] is not None:
            body += _attr_bytes(RTA_GATEWAY, route['via'].packed)
    sock.request(RTM_DELROUTE, body)


def _attr_bytes(kind: int, payload: bytes) -> bytes:
    return rtnl.attr(kind, f'{len(payload)}s', payload) + b'\0' * (-len(payload) % 4)


def nsid_seen_from(sock: rtnl.Socket, fd: int) -> int | None:
    """The nsid that the namespace of sock gives the network namespace
    behind fd (what IFLA_LINK_NETNSID of its links says), or None."""
    reply = sock.request(nsid_util.RTM_GETNSID, nsid_util.RTGENMSG + rtnl.attr(nsid_util.NETNSA_FD, '=I', fd), flags=0)
    raw = rtnl.attributes(reply, len(nsid_util.RTGENMSG), len(reply)).get(nsid_util.NETNSA_NSID) if reply else None
    value = struct.unpack('=i', raw)[0] if raw is not None else nsid_util.NSID_NOT_ASSIGNED
    return None if value == nsid_util.NSID_NOT_ASSIGNED else value


def link_index(sock: rtnl.Socket, name: str) -> int | None:
    """The ifindex of the link called name, or None when there is none: one
    RTM_GETLINK by name instead of a dump (links created during a run)."""
    raw = name.encode('utf-8') + b'\0'
    body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + rtnl.attr(IFLA_IFNAME, f'{len(raw)}s', raw)
    try:
        reply = sock.request(RTM_GETLINK, body + b'\0' * (-len(body) % 4), flags=0)
    except OSError as exc:
        if exc.errno == errno.ENODEV:
            return None
        raise
    # the kernel answers a GETLINK by name with the link, never with a bare ack
    return IFINFOMSG.unpack_from(cast(bytes, reply), 0)[2]
