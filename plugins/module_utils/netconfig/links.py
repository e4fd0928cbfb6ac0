# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which existing links are the declared ones, and which purge may delete.

The kernel deletes a veth with its peer and a macvlan with its parent, so
a link is only the declared one when its kind (and a veth's peer) match,
and purge leaves every link that a kept link depends on.
"""

from __future__ import annotations

import errno
import functools
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import CLEAR, Action, change
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import nsid_seen_from
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import rtnl_in

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Optional

    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import Side
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import LinkInfo, NetState

    # {namespace name, or None for the host: names of the links the call keeps there} (kept_links)
    Kept = dict[Optional[str], set[str]]
    # (namespace name, or None for the host, Side) pairs
    Others = list[tuple[Optional[str], Side]]


def kind_differs(link: dict[str, Any], current: LinkInfo) -> bool:
    """physical takes any link; the others must be of their kind."""
    return link['kind'] != 'physical' and current['kind'] != link['kind']


def lowers(state: NetState, names: Iterable[str]) -> set[int]:
    """The ifindexes the links called names sit on in this namespace, and
    what those sit on: a veth's peer, a macvlan's parent. Deleting one
    deletes the link too."""
    by_index = dict((link['index'], link) for link in state.links.values())
    found = set()
    todo = [state.links[n] for n in names if n in state.links]
    while todo:
        link = todo.pop()
        if link['link'] and link['link_netnsid'] is None and link['link'] not in found:
            found.add(link['link'])
            if link['link'] in by_index:
                todo.append(by_index[link['link']])
    return found


def dependents(state: NetState, index: int) -> list[str]:
    """Names of the links the kernel deletes with the link index: its veth
    peer and the links sitting on it, recursively (same namespace only)."""
    found, todo = [], [index]
    while todo:
        current = todo.pop()
        for name, link in sorted(state.links.items()):
            if (
                link['link'] == current
                and link['link_netnsid'] is None
                and link['index'] != index
                and name not in found
            ):
                found.append(name)
                todo.append(link['index'])
    return found


def kept_links(decls: list[dict[str, Any]]) -> Kept:
    """{namespace name, or None for the host: names of the links the call
    declares there (links, and veth ends put there)}."""
    kept: Kept = {}
    for decl in decls:
        if decl['state'] == 'absent':
            continue
        kept.setdefault(decl['name'], set()).update(lk['name'] for lk in decl['links'])
        for link in decl['links']:
            if link['peer']:
                kept.setdefault(link['peer']['netns'], set()).add(link['peer']['name'])
    return kept


def far_end(
    ns: Side, link: LinkInfo, others: Iterable[tuple[str | None, Side]]
) -> tuple[str | None, Side, str | None] | None:
    """(name, Side, peer name) of the other end of link, a veth end of ns
    whose peer lives in another namespace of others ((name, Side) pairs,
    None for the host), or None: not a veth, or its peer is elsewhere."""
    if link['kind'] != 'veth' or link['link_netnsid'] is None or ns.fd is None:
        return None
    with rtnl_in(ns.fd) as sock:
        for name, side in others:
            if side.fd is not None and side is not ns and nsid_seen_from(sock, side.fd) == link['link_netnsid']:
                return name, side, side.state.name_of(link['link'])
    return None


def far_peer_kept(ns: Side, link: LinkInfo, others: Iterable[tuple[str | None, Side]], kept: Kept) -> bool:
    """Whether link is a veth end whose peer, in another namespace of the
    call or on the host, is a link the call keeps there."""
    found = far_end(ns, link, others)
    return found is not None and found[2] in kept.get(found[0], ())


class Doomed:
    """The links the call's plans delete so far, in every namespace the call
    reads (others: (name, Side) pairs, None for the host). The kernel
    deletes a veth with its peer: once either end's deletion is planned,
    the other end is gone too, and planning it again (a lab torn down with
    both namespaces absent, or purged on both sides) would fail that
    namespace with ENODEV. Namespaces run in the order they are planned,
    so the first plan deletes the pair and the later ones count it gone."""

    def __init__(self, others: Iterable[tuple[str | None, Side]]) -> None:
        self.others: Others = list(others)
        self._gone: dict[Side, set[int]] = {}

    def of(self, side: Side) -> set[int]:
        """The ifindexes of side that earlier plans delete."""
        return self._gone.setdefault(side, set())

    def deleting(self, ns: Side, name: str, also: Iterable[str] = ()) -> str | None:
        """Record that the run deletes link name of ns, with also (the links
        of ns going with it); returns the far peer's words ('its peer r0 in
        namespace 'right''), or None for a link without one in the call."""
        state = ns.state
        self.of(ns).update(state.links[n]['index'] for n in [name] + list(also))
        found = far_end(ns, state.links[name], self.others)
        if found is None:
            return None
        side, peer = found[1], found[2]
        if peer is None:
            return None
        index = side.state.links[peer]['index']
        self.of(side).update([index] + [side.state.links[n]['index'] for n in dependents(side.state, index)])
        return f'its peer {peer} in {side.label}'


def delete_link(side: Side, name: str, also: Iterable[str] = ()) -> None:
    """Delete the link name of side, and forget it and the links that went
    with it (also). A link already gone (ENODEV) is deleted: a veth end
    dies with its peer, which something else may have deleted since the
    plan was made."""
    try:
        side.ipr.link('del', index=side.index(name))
    except Exception as exc:  # noqa: B902 - pyroute2's NetlinkError, not imported here
        if getattr(exc, 'code', None) != errno.ENODEV:
            raise
    for gone in [name] + list(also):
        side.forget(gone)


def purge_links(ns: Side, keep: set[str], gone: set[int], doomed: Doomed, kept: Kept | None = None) -> list[Action]:
    """Delete the links not in keep, except those a kept link sits on (its
    veth peer, a macvlan's parent) or a veth end whose peer another
    namespace of the call keeps (kept: see kept_links): deleting them would
    delete it too. Adds the ifindexes that go to gone, and records them in
    doomed (a Doomed)."""
    state = ns.state
    protected = lowers(state, keep)
    actions = []
    for name in sorted(state.links):
        link = state.links[name]
        if name == 'lo' or name in keep or link['index'] in gone or link['index'] in protected:
            continue
        if kept and far_peer_kept(ns, link, doomed.others, kept):
            continue
        also = dependents(state, link['index'])
        gone.add(link['index'])
        gone.update(state.links[n]['index'] for n in also)
        text = (
            f'delete link {name} from {ns.label}{taken_along(also, doomed.deleting(ns, name, also))} '
            '(not declared; purge)'
        )
        actions.append(
            Action(text, functools.partial(delete_link, ns, name, also), change=change('link', name, _was(link), None))
        )
    return actions


def _was(link: LinkInfo, **extra: Any) -> dict[str, Any]:
    """A link as the before of a change."""
    before = {'kind': link['kind'] or 'physical'}
    before.update(extra)
    return before


def taken_along(also: Iterable[str], far: str | None) -> str:
    """' with x, y' for the links a deletion takes along."""
    taken = list(also) + ([far] if far else [])
    return f' with {", ".join(taken)}' if taken else ''


def mismatch(link: dict[str, Any], current: LinkInfo, ns: Side, sides: dict[str, Side], host: Side) -> str | None:
    """Why the existing link is not the declared one (another kind, or a
    veth whose peer is not the declared end), or None."""
    if kind_differs(link, current):
        return f"link {link['name']} in {ns.label} is a {current['kind']!r}, not the declared {link['kind']!r}"
    if link['kind'] != 'veth' or ns.fd is None:
        return None
    peer = link['peer']
    side = sides.get(peer['netns']) if peer['netns'] else host
    if side is None or side.fd is None:
        return None  # cannot tell; the namespace is not there yet (check mode)
    if current['link_netnsid'] is None:
        actual = f'{(ns.state.name_of(current["link"]) or "a link")} in the same namespace'
    else:
        with rtnl_in(ns.fd) as sock:
            there = nsid_seen_from(sock, side.fd)
        if there != current['link_netnsid']:
            actual = 'in another namespace'
        elif side.state.name_of(current['link']) != peer['name']:
            actual = f'{(side.state.name_of(current["link"]) or "a link")} in {side.label}'
        else:
            return None
    return (
        f'veth {link["name"]} in {ns.label} is not paired with the declared peer {peer["name"]} in {side.label}: '
        f'its peer is {actual}'
    )


def replace_link(
    ns: Side, link: dict[str, Any], current: LinkInfo, purge: bool, keep: set[str], problem: str, doomed: Doomed
) -> tuple[list[str], Action]:
    """A link of the declared name that is not the declared link: replaced
    under purge, an error otherwise."""
    name = link['name']
    if not purge:
        raise NamespaceError(
            problem, hint='Nothing was changed in it. Delete the link, or run with purge: true to replace it.'
        )
    also = dependents(ns.state, current['index'])
    taken = [n for n in also if n in keep]
    if taken or current['index'] in lowers(ns.state, keep - set([name])):
        raise NamespaceError(
            f'{problem}, and deleting it would delete {(", ".join(taken) or "a declared link")} too',
            hint='Nothing was changed in it. Delete the link by hand.',
        )
    along = taken_along(also, doomed.deleting(ns, name, also))
    text = (
        f'delete {current["kind"] or "link"} {name} from {ns.label}{along} to create it as declared, '
        f'a {link["kind"]} (purge)'
    )
    return also, Action(text, lambda: delete_link(ns, name, also), change=change('link', name, _was(current), None))


def made_for_segment(entry: dict[str, Any], current: LinkInfo) -> bool:
    """Whether the existing link current is the one a record entry (see
    record.segment_entry) says was made: same kind, and a vxlan the same VNI.
    A link someone made since under that name is not, and stays."""
    if current['kind'] != entry['kind']:
        return False
    return entry['kind'] != 'vxlan' or (current.get('vxlan') or {}).get('vni') == entry.get('vni')


def stale_segment_links(ns: Side, entries: Iterable[dict[str, Any]], doomed: Doomed) -> list[Action]:
    """Actions deleting the links of ns that the record proves were made for
    a segment and that no segment declares as they were any more (entries:
    record.stale_links), with or without purge: a vxlan left behind keeps
    flooding the old peers under the old VNI, a bridge keeps the subnet's
    route. They run first of all (phase CLEAR) and are recorded in doomed,
    so that a link of the same name declared now is created again."""
    actions = []
    gone = doomed.of(ns)
    for entry in entries:
        current = ns.state.links.get(entry['name'])
        if current is None or current['index'] in gone or not made_for_segment(entry, current):
            continue
        also = dependents(ns.state, current['index'])
        words = taken_along(also, doomed.deleting(ns, entry['name'], also))
        text = (
            f'delete {entry["kind"]} {entry["name"]} from {ns.label}{words} '
            f'(made for segment {entry["segment"]}, which no longer declares it)'
        )
        actions.append(
            Action(
                text,
                functools.partial(delete_link, ns, entry['name'], also),
                phase=CLEAR,
                change=change('link', entry['name'], _was(current, segment=entry['segment']), None),
            )
        )
    return actions
