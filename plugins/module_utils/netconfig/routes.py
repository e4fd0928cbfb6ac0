# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan the routes of one network namespace with the kernel's own rules.

A route is identified as the kernel does: table, destination, tos and
metric (an IPv6 route asked for with metric 0, or none, is stored with
1024). Purge owns every route in the main table and in the tables the
declaration uses - any type (unicast, blackhole, unreachable, prohibit,
throw...) and any protocol - except those the kernel adds itself (proto
kernel: prefix, local and link-local routes; proto ra: router
advertisements). Routes the kernel drops on its own during the run (those
through a deleted link, or IPv4 ones from a deleted source address) are
neither deleted again nor taken as present.
"""

from __future__ import annotations

import errno
import functools
import socket
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import Action, change
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.rtnetlink import (
    IPV6_DEFAULT_METRIC,
    MAIN_TABLE,
    RT_SCOPE_LINK,
    RT_SCOPE_UNIVERSE,
    RTN_UNICAST,
    RTPROT_KERNEL,
    RTPROT_RA,
    RTPROT_STATIC,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import delete_route
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import rtnl_in

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import Side
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import Address, RouteInfo

    # a declared route (spec): {dst, via, dev, src, metric, table}
    Route = dict[str, Any]
    # a route's identity to the kernel: (dst, table, tos, metric)
    RouteKey = tuple[Any, int, int, int]

KERNEL_PROTOCOLS = (RTPROT_KERNEL, RTPROT_RA)
TYPE_NAMES = {
    2: 'local',
    3: 'broadcast',
    4: 'anycast',
    5: 'multicast',
    6: 'blackhole',
    7: 'unreachable',
    8: 'prohibit',
    9: 'throw',
    10: 'nat',
}
PROTOCOL_NAMES = {3: 'boot', 4: 'static', 16: 'dhcp'}


def metric(route: Route) -> int:
    """The metric the kernel stores for a declared route."""
    if route['dst'].version == 6 and not route['metric']:
        return IPV6_DEFAULT_METRIC
    return route['metric'] or 0


def scope(route: Route) -> int:
    """As `ip route add` does: an IPv4 route without a gateway reaches its
    destination directly, scope link. With scope universe the kernel would
    not resolve gateways through it (ENETUNREACH for a route via them)."""
    return RT_SCOPE_LINK if route['dst'].version == 4 and route['via'] is None else RT_SCOPE_UNIVERSE


def _declared_key(route: Route) -> RouteKey:
    return (route['dst'], route['table'], 0, metric(route))


def _stored_key(route: RouteInfo) -> RouteKey:
    return (route['dst'], route['table'], route['tos'], route['metric'])


def _matches(want: Route, have: RouteInfo, names: dict[int, str]) -> bool:
    if have['type'] != RTN_UNICAST or want['via'] != have['via'] or have['scope'] != scope(want):
        return False
    if want['src'] != have['src']:  # a src no longer declared is removed too
        return False
    return want['dev'] is None or names.get(have['oif']) == want['dev']


def declared_text(route: Route) -> str:
    parts = [str(route['dst']) if route['dst'].prefixlen else f'default ({route["dst"]})']
    if route['via']:
        parts.append(f'via {route["via"]}')
    if route['dev']:
        parts.append(f'dev {route["dev"]}')
    if route['src']:
        parts.append(f'src {route["src"]}')
    if route['metric'] is not None:
        parts.append(f'metric {metric(route)}')
    if route['table'] != MAIN_TABLE:
        parts.append(f'table {route["table"]}')
    return ' '.join(parts)


def _existing_text(route: RouteInfo, names: dict[int, str]) -> str:
    parts = [TYPE_NAMES.get(route['type'], f'type {route["type"]}')] if route['type'] != RTN_UNICAST else []
    parts.append(str(route['dst']))
    if route['via']:
        parts.append(f'via {route["via"]}')
    if route['oif'] and route['type'] == RTN_UNICAST:
        parts.append(f'dev {names.get(route["oif"], route["oif"])}')
    parts.append(f'proto {PROTOCOL_NAMES.get(route["proto"], route["proto"])}')
    if route['tos']:
        parts.append(f'tos 0x{route["tos"]:02x}')
    if route['metric']:
        parts.append(f'metric {route["metric"]}')
    parts.append(f'table {route["table"]}')
    return ' '.join(parts)


def _apply(side: Side, route: Route) -> None:
    args: dict[str, Any] = {
        'dst': str(route['dst']),
        'table': route['table'],
        'proto': RTPROT_STATIC,
        'priority': metric(route),
        'scope': scope(route),
    }
    if route['via']:
        args['gateway'] = str(route['via'])
    if route['dev']:
        args['oif'] = side.index(route['dev'])
    if route['src']:
        args['prefsrc'] = str(route['src'])
    side.ipr.route('replace', **args)


def _delete(side: Side, route: RouteInfo) -> None:
    with rtnl_in(side.entered_fd) as sock:
        try:
            delete_route(sock, route)
        except OSError as exc:
            # gone already: the kernel dropped it with its link or source address
            if exc.errno != errno.ESRCH:
                raise


class Gone:
    """What the run deletes before the routes are planned: links (ifindexes),
    links left without IPv4 address (the kernel flushes their IPv4 routes),
    and IPv4 addresses gone from the namespace (it drops the routes using
    them as source)."""

    def __init__(
        self, links: Iterable[int] = (), bare_links: Iterable[int] = (), sources: Iterable[Address] = ()
    ) -> None:
        self.links = set(links)
        self.bare_links = set(bare_links)
        self.sources = set(sources)

    def survives(self, route: RouteInfo) -> bool:
        if route['oif'] in self.links:
            return False
        if route['family'] == socket.AF_INET:
            return route['oif'] not in self.bare_links and route['src'] not in self.sources
        return True


def plan_routes(side: Side, routes: list[Route], purge: bool, gone: Gone | None = None) -> list[Action]:
    """Actions for the declared routes of one namespace (a list of spec
    routes), and with purge the deletion of the routes it owns but that are
    not declared."""
    names = dict((link['index'], name) for name, link in side.state.links.items())
    existing = [r for r in side.state.routes if (gone or Gone()).survives(r)]
    actions: list[Action] = []
    wanted: set[RouteKey] = set()
    for route in routes:
        key = _declared_key(route)
        wanted.add(key)
        present = [r for r in existing if _stored_key(r) == key]
        if not any(_matches(route, r, names) for r in present):
            verb = 'change' if present else 'add'
            actions.append(
                Action(
                    f'{verb} route {declared_text(route)} in {side.label}',
                    functools.partial(_apply, side, route),
                    change=change(
                        'route',
                        str(route['dst']),
                        _existing_text(present[0], names) if present else None,
                        declared_text(route),
                    ),
                )
            )
    if purge:
        tables = set([MAIN_TABLE] + [r['table'] for r in routes])
        for route in existing:
            if route['table'] in tables and route['proto'] not in KERNEL_PROTOCOLS and _stored_key(route) not in wanted:
                actions.append(
                    Action(
                        f'delete route {_existing_text(route, names)} in {side.label} (not declared; purge)',
                        functools.partial(_delete, side, route),
                        change=change('route', str(route['dst']), _existing_text(route, names), None),
                    )
                )
    return actions
