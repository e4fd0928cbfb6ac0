# -*- coding: utf-8 -*-
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

import os

from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import (
    MAIN_TABLE, RTPROT_BOOT, RTPROT_STATIC, link_index)
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import ipr_in, rtnl_in

IPVLAN_MODE_NUMBER = {'l2': 0, 'l3': 1, 'l3s': 2}


# Execution phases across all namespaces of a call. A veth end that one
# namespace's declaration puts into another can only be attached to that
# namespace's bridge once the bridge exists, and a route over it only once it
# is up: so namespaces joined by such veths get their links first (phase
# LINKS, every namespace), then the far ends' settings (PEERS), then routes,
# sysctls and files (LATE). Namespaces without such veths run in one pass.
LINKS, PEERS, LATE = 1, 2, 3


class Action(object):
    __slots__ = ('text', 'run', 'phase')

    def __init__(self, text, run, phase=LINKS):
        self.text = text
        self.run = run
        self.phase = phase


def in_phase(actions, phase):
    for action in actions:
        action.phase = phase
    return actions


class Side(object):
    """One network namespace as the planner sees it: a label for texts, its
    netlink socket (None in check mode for a namespace not created yet),
    its fd for IFLA_NET_NS_FD, and its current state. lookup(name) finds
    the ifindex of a link created during the run (default: one RTM_GETLINK
    over a plain netlink socket in the namespace)."""

    def __init__(self, label, state, path=None, ipr=None, fd=None, lookup=None):
        self.label = label
        self.path = path
        self._ipr = ipr
        self._fd = fd
        self._lookup = lookup or self._lookup_by_netlink
        self.set_state(state)

    def _lookup_by_netlink(self, name):
        with rtnl_in(self.fd) as sock:
            return link_index(sock, name)

    def set_state(self, state):
        self.state = state
        self._indexes = dict((name, link['index']) for name, link in state.links.items())
        # bridge index -> name, for comparing a link's master with a name
        self.masters = dict((link['index'], name) for name, link in state.links.items())

    # The namespace's fd and socket are opened when an action needs them and
    # closed after each namespace, so a call over a thousand namespaces does
    # not hold a thousand sockets.
    @property
    def fd(self):
        if self._fd is None and self.path:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        return self._fd

    @property
    def ipr(self):
        if self._ipr is None and self.fd is not None:
            self._ipr = ipr_in(self.fd)
        return self._ipr

    def close(self):
        """Close the socket, and the fd when the Side opened it from path."""
        if self._ipr is not None and self.fd is not None:
            self._ipr.close()
            self._ipr = None
        if self.path and self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def index(self, name):
        """The ifindex of a link: known from the state read at the start, or
        asked for once (links created during the run). A lookup by dump
        would cost a full link dump per call."""
        if name not in self._indexes:
            index = self._lookup(name)
            if index is None:
                raise LookupError('link %s not found in %s' % (name, self.label))
            self._indexes[name] = index
        return self._indexes[name]

    def forget(self, name):
        self._indexes.pop(name, None)


def _default_route_metric(route):
    return route['metric'] if route['metric'] is not None else (1024 if route['dst'].version == 6 else 0)


def _create(link, ns, host, peer_side):
    kind = link['kind']
    name = link['name']
    if kind == 'veth':
        peer = link['peer']
        text = 'create veth %s in %s with peer %s in %s' % (name, ns.label, peer['name'], peer_side.label)
        return Action(text, lambda: ns.ipr.link('add', ifname=name, kind='veth',
                                                peer={'ifname': peer['name'], 'net_ns_fd': peer_side.fd}))
    if kind in ('bridge', 'dummy'):
        return Action('create %s %s in %s' % (kind, name, ns.label), lambda: ns.ipr.link('add', ifname=name, kind=kind))
    if kind == 'physical':
        text = 'move host link %s into %s as %s' % (link['parent'], ns.label, name)

        def move():
            host.ipr.link('set', index=host.index(link['parent']), net_ns_fd=ns.fd, ifname=name)
            host.forget(link['parent'])
        return Action(text, move)
    extra = {}
    if kind == 'vlan':
        extra['vlan_id'] = link['vlan_id']
        detail = 'id %d' % link['vlan_id']
    elif kind == 'macvlan':
        extra['macvlan_mode'] = link['mode']
        detail = 'mode %s' % link['mode']
    else:
        extra['ipvlan_mode'] = IPVLAN_MODE_NUMBER[link['mode']]
        detail = 'mode %s' % link['mode']
    text = 'create %s %s (%s) on host link %s, in %s' % (kind, name, detail, link['parent'], ns.label)
    return Action(text, lambda: host.ipr.link('add', ifname=name, kind=kind, link=host.index(link['parent']),
                                              net_ns_fd=ns.fd, **extra))


def _attributes(side, name, want, current):
    """Actions for mtu, MAC, master, state and addresses of one link end."""
    actions = []
    cur = current or {'up': False, 'mtu': None, 'address': None, 'master': None}
    if want['mtu'] is not None and cur['mtu'] != want['mtu']:
        actions.append(Action('set mtu of %s in %s to %d' % (name, side.label, want['mtu']),
                              lambda: side.ipr.link('set', index=side.index(name), mtu=want['mtu'])))
    if want.get('address') is not None and cur['address'] != want['address']:
        actions.append(Action('set MAC address of %s in %s to %s' % (name, side.label, want['address']),
                              lambda: side.ipr.link('set', index=side.index(name), address=want['address'])))
    if want['master'] is not None and (current is None or side.masters.get(cur['master']) != want['master']):
        actions.append(Action('attach %s in %s to bridge %s' % (name, side.label, want['master']),
                              lambda: side.ipr.link('set', index=side.index(name), master=side.index(want['master']))))
    wanted_up = want['state'] == 'up'
    if cur['up'] != wanted_up:
        actions.append(Action('set %s in %s %s' % (name, side.label, want['state']),
                              lambda: side.ipr.link('set', index=side.index(name), state=want['state'])))
    have = set(side.state.addresses.get(name, [])) if current is not None else set()
    for address in want['addresses']:
        if address not in have:
            actions.append(Action('add address %s to %s in %s' % (address, name, side.label),
                                  lambda a=address: side.ipr.addr('add', index=side.index(name), address=str(a.ip),
                                                                  prefixlen=a.network.prefixlen)))
    return actions


def _route_key(route):
    return (route['dst'], route['table'], _default_route_metric(route))


def _route_matches(want, have, side):
    if want['via'] != have['via'] or want['src'] is not None and want['src'] != have['src']:
        return False
    return want['dev'] is None or side.state.name_of(have['oif']) == want['dev']


def _route_text(route):
    parts = [str(route['dst']) if route['dst'].prefixlen else 'default (%s)' % route['dst']]
    if route['via']:
        parts.append('via %s' % route['via'])
    if route['dev']:
        parts.append('dev %s' % route['dev'])
    if route['src']:
        parts.append('src %s' % route['src'])
    if route['metric'] is not None:
        parts.append('metric %d' % route['metric'])
    if route['table'] != MAIN_TABLE:
        parts.append('table %d' % route['table'])
    return ' '.join(parts)


def _route_action(side, route, verb):
    def run():
        args = {'dst': str(route['dst']), 'table': route['table'], 'proto': RTPROT_STATIC}
        if route['via']:
            args['gateway'] = str(route['via'])
        if route['dev']:
            args['oif'] = side.index(route['dev'])
        if route['src']:
            args['prefsrc'] = str(route['src'])
        args['priority'] = _default_route_metric(route)
        side.ipr.route('replace', **args)
    return Action('%s route %s in %s' % (verb, _route_text(route), side.label), run)


def plan(decl, ns, host, sides, owned_elsewhere, purge, linked=False):
    """Ordered actions for one namespace declaration.

    sides maps a managed namespace name to its Side (for veth peers);
    owned_elsewhere is the set of link names in this namespace that other
    declarations create (veth peers), which purge must leave alone; linked
    says the namespace is joined to another one of the call by a veth (see
    the phases above)."""
    actions = []
    state = ns.state
    declared = set(l['name'] for l in decl['links'])
    if purge:
        for name in sorted(state.links):
            if name != 'lo' and name not in declared and name not in owned_elsewhere:
                actions.append(Action('delete link %s from %s (not declared; purge)' % (name, ns.label),
                                      lambda n=name: (ns.ipr.link('del', index=ns.index(n)), ns.forget(n))))
    if decl['loopback'] and not state.links.get('lo', {}).get('up'):
        actions.append(Action('set lo in %s up' % ns.label, lambda: ns.ipr.link('set', index=ns.index('lo'), state='up')))
    # bridges first, so that links can be attached to them
    for link in sorted(decl['links'], key=lambda l: l['kind'] != 'bridge'):
        current = state.links.get(link['name'])
        if current is None:
            peer_side = None
            if link['kind'] == 'veth':
                peer_side = sides[link['peer']['netns']] if link['peer']['netns'] else host
            actions.append(_create(link, ns, host, peer_side))
        actions.extend(_attributes(ns, link['name'], link, current))
        if link['kind'] == 'veth':
            peer = link['peer']
            peer_side = sides[peer['netns']] if peer['netns'] else host
            peer_current = peer_side.state.links.get(peer['name']) if current is not None else None
            peer_actions = _attributes(peer_side, peer['name'], peer, peer_current)
            actions.extend(in_phase(peer_actions, PEERS) if peer['netns'] else peer_actions)
    if purge:
        for link in decl['links']:
            wanted = set(link['addresses'])
            for address in state.addresses.get(link['name'], []):
                if address not in wanted and not address.ip.is_link_local:
                    actions.append(Action('remove address %s from %s in %s (not declared; purge)'
                                          % (address, link['name'], ns.label),
                                          lambda a=address, n=link['name']: ns.ipr.addr(
                                              'del', index=ns.index(n), address=str(a.ip),
                                              prefixlen=a.network.prefixlen)))
    route_actions = []
    existing = dict((_route_key(r), r) for r in state.routes if r['proto'] in (RTPROT_BOOT, RTPROT_STATIC))
    wanted_keys = set()
    for route in decl['routes']:
        key = _route_key(route)
        wanted_keys.add(key)
        have = existing.get(key)
        if have is None:
            route_actions.append(_route_action(ns, route, 'add'))
        elif not _route_matches(route, have, ns):
            route_actions.append(_route_action(ns, route, 'change'))
    if purge:
        tables = set([MAIN_TABLE] + [r['table'] for r in decl['routes']])
        for key, have in sorted(existing.items(), key=lambda kv: str(kv[0])):
            if key not in wanted_keys and have['table'] in tables:
                route_actions.append(Action('delete route %s table %d in %s (not declared; purge)'
                                            % (have['dst'], have['table'], ns.label),
                                            lambda h=have: ns.ipr.route('del', dst=str(h['dst']), table=h['table'],
                                                                        priority=h['metric'])))
    actions.extend(in_phase(route_actions, LATE) if linked else route_actions)
    return actions
