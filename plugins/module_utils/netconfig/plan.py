# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan the changes that bring one network namespace to its declaration.

plan() compares the declaration with the state read over netlink and
returns an ordered list of Actions: a sentence and the function that does
it. Check mode reports the sentences; a real run calls the functions in the
same order, so the two lists cannot differ. Functions look indexes up by
name when they run, since earlier actions create the links.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import (
    CLEAR,
    LATE,
    LINKS,
    PEERS,
    Action,
    change,
    in_phase,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.links import (
    Doomed,
    kept_links,
    mismatch,
    purge_links,
    replace_link,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.routes import Gone, plan_routes
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import link_index
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import vxlan as vxlan_plan
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import ipr_in, open_in, rtnl_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.links import Kept
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import (
        Address,
        Interface,
        LinkInfo,
        NetState,
    )

IPVLAN_MODE_NUMBER = {'l2': 0, 'l3': 1, 'l3s': 2}

# the phases and Action live in netconfig.action (routes uses them too);
# converge takes them from here
__all__ = [
    'CLEAR',
    'LATE',
    'LINKS',
    'PEERS',
    'Action',
    'Doomed',
    'Side',
    'in_phase',
    'kept_links',
    'link_writes',
    'plan',
]


class Side:
    """One network namespace as the planner sees it: a label for texts, its
    netlink socket (None in check mode for a namespace not created yet),
    its fd for IFLA_NET_NS_FD, and its current state. lookup(name) finds
    the ifindex of a link created during the run (default: one RTM_GETLINK
    over a plain netlink socket in the namespace)."""

    state: NetState
    # link name -> ifindex, and bridge index -> name (set_state)
    _indexes: dict[str, int]
    masters: dict[int, str]

    def __init__(
        self,
        label: str,
        state: NetState,
        path: str | None = None,
        ipr: Any = None,
        fd: int | None = None,
        lookup: Callable[[str], int | None] | None = None,
    ) -> None:
        self.label = label
        self.path = path
        self._ipr = ipr
        self._fd = fd
        self._lookup = lookup or self._lookup_by_netlink
        self.set_state(state)

    def _lookup_by_netlink(self, name: str) -> int | None:
        with rtnl_in(self.entered_fd) as sock:
            return link_index(sock, name)

    def set_state(self, state: NetState) -> None:
        self.state = state
        self._indexes = dict((name, link['index']) for name, link in state.links.items())
        # bridge index -> name, for comparing a link's master with a name
        self.masters = dict((link['index'], name) for name, link in state.links.items())

    # The namespace's fd and socket are opened when an action needs them and
    # closed after each namespace, so a call over a thousand namespaces does
    # not hold a thousand sockets.
    @property
    def fd(self) -> int | None:
        if self._fd is None and self.path:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        return self._fd

    @property
    def entered_fd(self) -> int:
        """fd, for the steps that enter the namespace: they run only once it
        exists (never in check mode, for one not created yet)."""
        fd = self.fd
        if fd is None:
            raise RuntimeError(f'{self.label} has no namespace to enter yet')
        return fd

    @property
    def ipr(self) -> Any:
        if self._ipr is None and self.fd is not None:
            self._ipr = ipr_in(self.fd)
        return self._ipr

    def close(self) -> None:
        """Close the socket, and the fd when the Side opened it from path."""
        if self._ipr is not None and self.fd is not None:
            self._ipr.close()
            self._ipr = None
        if self.path and self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def index(self, name: str) -> int:
        """The ifindex of a link: known from the state read at the start, or
        asked for once (links created during the run). A lookup by dump
        would cost a full link dump per call."""
        if name not in self._indexes:
            index = self._lookup(name)
            if index is None:
                raise LookupError(f'link {name} not found in {self.label}')
            self._indexes[name] = index
        return self._indexes[name]

    def forget(self, name: str) -> None:
        self._indexes.pop(name, None)

    def object_name(self, name: str, outside: bool = False) -> str:
        """A link's name as the object of a change: qualified by where it
        is when it is not in the namespace the change is reported for."""
        return f'{name} ({self.label})' if outside else name


def _create(link: dict[str, Any], ns: Side, host: Side, peer_side: Side | None) -> Action:
    kind = link['kind']
    name = link['name']
    if kind == 'veth':
        peer = link['peer']
        far = cast('Side', peer_side)  # a veth's peer side is never None (_peer_side)
        text = f'create veth {name} in {ns.label} with peer {peer["name"]} in {far.label}'
        return Action(
            text,
            lambda: ns.ipr.link('add', ifname=name, kind='veth', peer={'ifname': peer['name'], 'net_ns_fd': far.fd}),
            change=change('link', name, after={'kind': 'veth', 'peer': far.object_name(peer['name'], outside=True)}),
        )
    if kind in ('bridge', 'dummy'):
        return Action(
            f'create {kind} {name} in {ns.label}',
            lambda: ns.ipr.link('add', ifname=name, kind=kind),
            change=change('link', name, after={'kind': kind}),
        )
    if kind == 'vxlan':
        return vxlan_plan.create(link, ns, host)
    if kind == 'physical':
        text = f'move host link {link["parent"]} into {ns.label} as {name}'

        def move() -> None:
            host.ipr.link('set', index=host.index(link['parent']), net_ns_fd=ns.fd, ifname=name)
            host.forget(link['parent'])

        return Action(text, move, change=change('link', name, after={'kind': 'physical', 'parent': link['parent']}))
    extra: dict[str, Any] = {}
    if kind == 'vlan':
        extra['vlan_id'] = link['vlan_id']
        detail = f'id {link["vlan_id"]}'
    elif kind == 'macvlan':
        extra['macvlan_mode'] = link['mode']
        detail = f'mode {link["mode"]}'
    else:
        extra['ipvlan_mode'] = IPVLAN_MODE_NUMBER[link['mode']]
        detail = f'mode {link["mode"]}'
    text = f'create {kind} {name} ({detail}) on host link {link["parent"]}, in {ns.label}'
    return Action(
        text,
        lambda: host.ipr.link('add', ifname=name, kind=kind, link=host.index(link['parent']), net_ns_fd=ns.fd, **extra),
        change=change('link', name, after={'kind': kind, 'parent': link['parent']}),
    )


def _attributes(
    side: Side, name: str, want: dict[str, Any], current: LinkInfo | None, outside: bool = False
) -> list[Action]:
    """Actions for mtu, MAC, master, state and addresses of one link end
    (outside: of a peer in another namespace or on the host)."""
    obj = side.object_name(name, outside)
    return _link_settings(side, name, obj, want, current) + _address_actions(side, name, obj, want, current)


def _link_settings(side: Side, name: str, obj: str, want: dict[str, Any], current: LinkInfo | None) -> list[Action]:
    """Actions for mtu, MAC, alias (no netns_config option: a caller's own
    mark), master and state of one link end, obj naming it in the changes
    (current None: the link is not there yet)."""
    actions = []
    cur = current or {'up': False, 'mtu': None, 'address': None, 'master': None}
    if want['mtu'] is not None and cur['mtu'] != want['mtu']:
        actions.append(
            Action(
                f'set mtu of {name} in {side.label} to {want["mtu"]}',
                lambda: side.ipr.link('set', index=side.index(name), mtu=want['mtu']),
                change=change('link', obj, {'mtu': cur['mtu']} if current else None, {'mtu': want['mtu']}),
            )
        )
    if want.get('address') is not None and cur['address'] != want['address']:
        actions.append(
            Action(
                f'set MAC address of {name} in {side.label} to {want["address"]}',
                lambda: side.ipr.link('set', index=side.index(name), address=want['address']),
                change=change('link', obj, {'mac': cur['address']} if current else None, {'mac': want['address']}),
            )
        )
    if want.get('alias') is not None and cur.get('alias') != want['alias']:
        # not a netns_config option: only a link its callers declare (the hosts' lab marks) has one
        actions.append(
            Action(
                f'set alias of {name} in {side.label} to {want["alias"]!r}',
                lambda: side.ipr.link('set', index=side.index(name), ifalias=want['alias']),
                change=change('link', obj, {'alias': cur.get('alias')} if current else None, {'alias': want['alias']}),
            )
        )
    if want['master'] is not None and (current is None or side.masters.get(cur['master']) != want['master']):
        was = side.masters.get(cur['master']) if current is not None else None
        actions.append(
            Action(
                f'attach {name} in {side.label} to bridge {want["master"]}',
                lambda: side.ipr.link('set', index=side.index(name), master=side.index(want['master'])),
                change=change('link', obj, {'master': was} if current else None, {'master': want['master']}),
            )
        )
    wanted_up = want['state'] == 'up'
    if cur['up'] != wanted_up:
        actions.append(
            Action(
                f'set {name} in {side.label} {want["state"]}',
                lambda: side.ipr.link('set', index=side.index(name), state=want['state']),
                change=change(
                    'link', obj, {'state': 'up' if cur['up'] else 'down'} if current else None, {'state': want['state']}
                ),
            )
        )
    return actions


def _address_actions(side: Side, name: str, obj: str, want: dict[str, Any], current: LinkInfo | None) -> list[Action]:
    """Actions adding the declared addresses one link end lacks, obj naming
    it in the changes (current None: the link is not there yet, nor any of
    its addresses)."""
    actions = []
    have = set(side.state.addresses.get(name, [])) if current is not None else set()
    for address in want['addresses']:
        if address in have:
            continue
        # the kernel keeps one IPv6 address per link whatever its prefix
        # length (adding the new one is EEXIST): delete, then add
        old = [a for a in have if a.version == 6 and a.ip == address.ip]
        if old:
            actions.append(
                Action(
                    f'change prefix length of {address.ip} on {name} in {side.label} '
                    f'from /{old[0].network.prefixlen} to /{address.network.prefixlen}',
                    functools.partial(_change_prefix, side, name, old[0], address),
                    change=change('address', obj, str(old[0]), str(address)),
                )
            )
        else:
            actions.append(
                Action(
                    f'add address {address} to {name} in {side.label}',
                    functools.partial(_add_address, side, name, address),
                    change=change('address', obj, None, str(address)),
                )
            )
    return actions


def _change_prefix(side: Side, name: str, old: Interface, new: Interface) -> None:
    """Replace an IPv6 address by the same one with another prefix length."""
    _del_address(side, name, old)
    _add_address(side, name, new)


def _add_address(side: Side, name: str, address: Interface) -> None:
    side.ipr.addr('add', index=side.index(name), address=str(address.ip), prefixlen=address.network.prefixlen)


def _del_address(side: Side, name: str, address: Interface) -> None:
    """Delete one address. Deleting an IPv4 primary address also deletes
    the secondaries of its subnet (a renumbered .2 added beside .1), and
    with them every route through the link, unless promote_secondaries is
    on: so it is turned on for the deletion and set back afterwards."""
    if address.version == 6:
        side.ipr.addr('del', index=side.index(name), address=str(address.ip), prefixlen=address.network.prefixlen)
        return
    path = f'/proc/sys/net/ipv4/conf/{name}/promote_secondaries'
    with open_in(side.entered_fd, path, 'r') as handle:
        before = handle.read().strip()
    if before != '1':
        write_sysctl(side, path, '1')
    try:
        side.ipr.addr('del', index=side.index(name), address=str(address.ip), prefixlen=address.network.prefixlen)
    finally:
        if before != '1':
            write_sysctl(side, path, before)


def write_sysctl(side: Side, path: str, value: str) -> None:
    """Write a /proc/sys file of side's network namespace."""
    with open_in(side.entered_fd, path, 'w') as handle:
        handle.write(value)


def plan(
    decl: dict[str, Any],
    ns: Side,
    host: Side,
    sides: dict[str, Side],
    owned_elsewhere: Iterable[str],
    purge: bool,
    linked: bool = False,
    kept: Kept | None = None,
    doomed: Doomed | None = None,
) -> list[Action]:
    """Ordered actions for one namespace declaration.

    sides maps a managed namespace name to its Side (for veth peers);
    owned_elsewhere is the set of link names in this namespace that other
    declarations create (veth peers), which purge must leave alone; linked
    says the namespace is joined to another one of the call by a veth (see
    the phases above); kept (see kept_links) lets purge leave a veth end
    whose peer another namespace keeps; doomed (a Doomed, shared by the
    namespaces of the call) holds the links that earlier plans delete, veth
    ends whose peer goes included. Raises NamespaceError for a link of
    another kind than declared (without purge), before anything is done."""
    actions: list[Action] = []
    state = ns.state
    keep = set(lk['name'] for lk in decl['links']) | set(owned_elsewhere)
    if doomed is None:
        doomed = Doomed(sorted(sides.items(), key=lambda kv: kv[0]) + [(None, host)])
    # ifindexes the run deletes: their addresses and routes go with them
    gone = set(doomed.of(ns))
    if purge:
        actions.extend(purge_links(ns, keep, gone, doomed, kept))
    if decl['loopback'] and not state.links.get('lo', {}).get('up'):
        actions.append(
            Action(
                f'set lo in {ns.label} up',
                lambda: ns.ipr.link('set', index=ns.index('lo'), state='up'),
                change=change('link', 'lo', {'state': 'down'}, {'state': 'up'}),
            )
        )
    # bridges first, so that links can be attached to them
    for link in sorted(decl['links'], key=lambda lk: lk['kind'] != 'bridge'):
        actions.extend(_link_actions(link, ns, host, sides, purge, keep, gone, doomed, kept))
    removed: set[Address] = set()
    bare: set[int] = set()
    if purge:
        actions.extend(_purge_addresses(decl, ns, gone, removed, bare))
    route_actions = plan_routes(ns, decl['routes'], purge, Gone(gone, bare, _gone_sources(state, removed, gone)))
    actions.extend(in_phase(route_actions, LATE) if linked else route_actions)
    return actions


def _link_actions(
    link: dict[str, Any],
    ns: Side,
    host: Side,
    sides: dict[str, Side],
    purge: bool,
    keep: set[str],
    gone: set[int],
    doomed: Doomed,
    kept: Kept | None,
) -> list[Action]:
    """The actions for one declared link (and its veth peer). The ifindexes
    of the links it replaces are added to gone, which later links and the
    routes read."""
    actions: list[Action] = []
    state = ns.state
    current = state.links.get(link['name'])
    if current is not None and current['index'] in gone:
        current = None  # a veth end whose peer an earlier namespace deletes: created again
    problem = mismatch(link, current, ns, sides, host) if current is not None else None
    if current is not None and problem:
        also, action = replace_link(ns, link, current, purge, keep, problem, doomed)
        actions.append(action)
        gone.add(current['index'])
        gone.update(state.links[n]['index'] for n in also)
        current = None
    if link['kind'] == 'vxlan':
        vxlan_plan.check_underlay(link, ns, host, (kept or {}).get(None, ()))
        found = vxlan_plan.differences(link, current, host) if current is not None else None
        if current is not None and found:  # the declared link with other settings: no purge needed to put it right
            actions.append(vxlan_plan.replace(link, ns, host, found))
            gone.add(current['index'])
            current = None
    peer_side = _peer_side(link, ns, sides, host) if link['kind'] == 'veth' else None
    if current is None and peer_side is not None and (peer_side is host or not purge):
        _check_free(link['peer']['name'], peer_side)
    if link['kind'] == 'veth' and link['peer']['netns'] is None and link['peer']['master'] is not None:
        _check_host_bridge(link['peer']['master'], host)
    return actions + link_writes(link, ns, host, current, peer_side)


def link_writes(
    link: dict[str, Any], ns: Side, host: Side, current: LinkInfo | None, peer_side: Side | None = None
) -> list[Action]:
    """What brings one declared link (a normalized one, as netconfig.spec
    makes it) to its declaration, its checks done: its creation when it is
    not there (current None; then the first action), its settings and
    addresses, its static forwarding entries, and a veth's peer's settings
    (peer_side: where the peer is; in phase PEERS when it is in a namespace).
    netns_config's plan and the hosts' lab both write links through it."""
    actions = [] if current is not None else [_create(link, ns, host, peer_side)]
    actions.extend(_attributes(ns, link['name'], link, current))
    if link['fdb'] is not None:
        have = ns.state.fdb.get(link['name'], []) if current is not None else []
        actions.extend(vxlan_plan.fdb_actions(ns, link, have))
    if link['kind'] == 'veth':
        peer = link['peer']
        far = cast('Side', peer_side)  # a veth's peer side is never None (_peer_side)
        peer_current = far.state.links.get(peer['name']) if current is not None else None
        peer_actions = _attributes(far, peer['name'], peer, peer_current, outside=True)
        actions.extend(in_phase(peer_actions, PEERS) if peer['netns'] else peer_actions)
    return actions


def _purge_addresses(
    decl: dict[str, Any], ns: Side, gone: set[int], removed: set[Address], bare: set[int]
) -> list[Action]:
    """Under purge, the removal of the addresses a declared link has and does
    not declare. The addresses removed go into removed and the ifindexes left
    without an IPv4 address into bare, for the routes that go with them."""
    actions: list[Action] = []
    state = ns.state
    for link in decl['links']:
        if link['name'] not in state.links or state.links[link['name']]['index'] in gone:
            continue
        wanted = set(link['addresses'])
        replaced = set(a.ip for a in wanted if a.version == 6)  # prefix changes, done above
        had_v4 = False
        for address in state.addresses.get(link['name'], []):
            had_v4 = had_v4 or address.version == 4
            if address in wanted or address.ip.is_link_local or address.ip in replaced:
                continue
            removed.add(address.ip)
            actions.append(
                Action(
                    f'remove address {address} from {link["name"]} in {ns.label} (not declared; purge)',
                    functools.partial(_del_address, ns, link['name'], address),
                    change=change('address', link['name'], str(address), None),
                )
            )
        if had_v4 and not any(a.version == 4 for a in wanted):
            bare.add(state.links[link['name']]['index'])
    return actions


def _check_free(name: str, side: Side) -> None:
    """A veth end cannot be created under a name its namespace already has
    (EEXIST half-way through the run). Under purge, an undeclared link of a
    managed namespace may go first, so only the host is checked then."""
    if name in side.state.links:
        raise NamespaceError(
            f'the veth end {name!r} cannot be created in {side.label}: '
            f'a {(side.state.links[name]["kind"] or "physical")} link has that name there',
            hint='Nothing was changed in this namespace. Choose another peer name, or delete that link.',
        )


def _check_host_bridge(name: str, host: Side) -> None:
    """A host end's master is not declared by the call: it must be a bridge
    on the host already."""
    kind = host.state.links[name]['kind'] if name in host.state.links else None
    if kind != 'bridge':
        what = f'a {(kind or "physical")} link, not a bridge' if name in host.state.links else 'no link there'
        raise NamespaceError(
            f'the master {name!r} of a veth end on the host is {what}',
            hint='Nothing was changed in this namespace. Create the bridge on the host first.',
        )


def _peer_side(link: dict[str, Any], ns: Side, sides: dict[str, Side], host: Side) -> Side:
    netns = link['peer']['netns']
    if netns is None:
        return host
    if netns not in sides:
        raise NamespaceError(
            f"the peer of veth {link['name']} in {ns.label} goes into namespace '{netns}', "
            'which could not be made ready',
            hint='Nothing was changed in it. See the error of that namespace.',
        )
    return sides[netns]


def _gone_sources(state: NetState, removed: set[Address], gone: set[int]) -> set[Address]:
    """IPv4 addresses the run removes from the namespace altogether: the
    kernel drops the routes that use them as source."""
    remaining: set[Address] = set()
    for name, addresses in state.addresses.items():
        if state.links[name]['index'] not in gone:
            remaining.update(a.ip for a in addresses if a.ip not in removed)
    lost = set(removed)
    for name, addresses in state.addresses.items():
        if state.links[name]['index'] in gone:
            lost.update(a.ip for a in addresses)
    return set(ip for ip in lost if ip.version == 4 and ip not in remaining)
