# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge many network namespaces in one call (the netns_config module).

1. Validate everything (netconfig.spec); a bad item changes nothing.
2. Make sure each declared namespace exists, through the pin engine, and
   open one netlink socket per namespace (netns_socket: no helper process).
3. Plan every namespace from the state read at the start (netconfig.plan,
   plus nsid, sysctls and /etc/netns files here).
4. Check mode stops here. A real run carries the plans out namespace by
   namespace; a failure stops that namespace only and is reported with what
   had been done to it.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import os
import shutil
from typing import TYPE_CHECKING, NamedTuple

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError, default_hint
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import nsid as nsid_util, rtnl
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import (
    record as netns_record,
    state as netconfig_state,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import change
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import (
    CLEAR,
    LATE,
    LINKS,
    PEERS,
    Action,
    Doomed,
    Side,
    in_phase,
    kept_links,
    plan,
    write_sysctl,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.links import (
    delete_link,
    dependents,
    stale_segment_links,
    taken_along,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import home_fd, open_in, rtnl_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import ABSENT, PRESENT, inspect

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import Change
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.links import Kept

    Decl = dict[str, Any]

ETC_NETNS = '/etc/netns'
# links holding something outside the namespace: a host end or parent, or
# (vxlan) a UDP socket on the host that a later device of the same VNI needs
REMOVABLE_KINDS = ('veth', 'vlan', 'macvlan', 'ipvlan', 'vxlan')


@dataclasses.dataclass(eq=False)
class Outcome:
    """What a call did (or would do) to one namespace. Compared by identity
    (eq=False), as a plain class is."""

    name: str
    changes: list[str] = dataclasses.field(default_factory=list)
    # one change as data (action.change) per entry of changes
    details: list[Change] = dataclasses.field(default_factory=list)
    pins: list[Any] = dataclasses.field(default_factory=list)
    failed: str | None = None
    cause: str | None = None  # failed without what had been done before: the module's headline
    diffs: list[dict[str, str]] = dataclasses.field(default_factory=list)
    actions: list[Action] = dataclasses.field(default_factory=list)

    def done(self, text: str, detail: Change | None) -> None:
        """Record a change (in check mode, one that would be made)."""
        self.changes.append(text)
        self.details.append(detail if detail is not None else change('namespace', self.name))

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            'name': self.name,
            'changed': bool(self.changes),
            'changes': self.changes,
            'details': self.details,
            'pins': self.pins,
        }
        if self.failed:
            result['failed'] = True
            result['msg'] = self.failed
        return result


def _file_actions(decl: Decl, outcome: Outcome, stale: Iterable[str] = ()) -> list[Action]:
    """Write the declared files; remove the stale ones (recorded as written
    for this namespace earlier, no longer declared: prune)."""
    base = os.path.join(ETC_NETNS, decl['name'])
    actions = []
    for path in _removable(base, set(stale) - set(decl['files'])):
        outcome.diffs.append(
            {'before_header': path, 'after_header': path, 'before': fileio.read_text(path) or '', 'after': ''}
        )
        actions.append(
            Action(
                f'remove {path}',
                functools.partial(fileio.remove, path),
                change=change('file', path, outcome.diffs[-1]['before'], None),
            )
        )
    for rel, content in sorted(decl['files'].items()):
        path = os.path.join(ETC_NETNS, decl['name'], rel)
        before = fileio.read_text(path)
        if before != content:
            outcome.diffs.append(
                {'before_header': path, 'after_header': path, 'before': before or '', 'after': content}
            )
            actions.append(
                Action(
                    f'{("write" if before is None else "update")} {path}',
                    functools.partial(fileio.write_atomically, path, content),
                    change=change('file', path, before, content),
                )
            )
    return actions


def _sysctl_actions(decl: Decl, side: Side) -> list[Action]:
    actions = []
    for path, value in sorted(decl['sysctls'].items()):
        current = None
        if side.fd is not None:
            try:
                with open_in(side.fd, path, 'r') as handle:
                    current = ' '.join(handle.read().split())
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    raise
        if current != value:
            key = path[len('/proc/sys/') :].replace('/', '.') if '.' not in path[len('/proc/sys/') :] else path
            actions.append(
                Action(
                    f'set sysctl {key} = {value} in {side.label}',
                    functools.partial(write_sysctl, side, path, value),
                    change=change('sysctl', key, current, value),
                )
            )
    return actions


def _nsid_actions(decl: Decl, side: Side) -> list[Action]:
    if decl['nsid'] is None:
        return []
    current = nsid_util.get_nsid(side.fd) if side.fd is not None else None
    if current == decl['nsid']:
        return []
    if current is not None:
        raise NamespaceError(
            f'has nsid {current}, not {decl["nsid"]}; an nsid cannot change once assigned',
            name=decl['name'],
            hint='Remove the nsid from the declaration, or re-create the namespace.',
        )
    return [
        Action(
            f'set nsid of {side.label} to {decl["nsid"]}',
            lambda: nsid_util.set_nsid(side.entered_fd, decl['nsid']),
            change=change('nsid', decl['name'], None, decl['nsid']),
        )
    ]


def _open_side(name: str, path: str) -> Side:
    """A Side with the namespace's current state, read over a plain netlink
    socket that is closed again; the Side opens a pyroute2 socket only when
    an action needs one."""
    label = f"namespace '{name}'"
    side = Side(label, netconfig_state.NetState(), path=path)
    try:
        with rtnl_in(side.entered_fd) as sock:
            side.set_state(netconfig_state.read(sock))
    finally:
        side.close()
    return side


def _owned_elsewhere(decls: list[Decl]) -> dict[str, set[str]]:
    owned: dict[str, set[str]] = {}
    for decl in decls:
        for link in decl['links']:
            peer = link['peer']
            if peer and peer['netns']:
                owned.setdefault(peer['netns'], set()).add(peer['name'])
    return owned


def converge(
    namespaces: Any,
    pin_dir: str | None = None,
    purge: bool = False,
    check_mode: bool = False,
    recorded_files: Mapping[str, Collection[str]] | None = None,
    prune_files: bool = False,
    stale_links: dict[str, list[dict[str, Any]]] | None = None,
) -> list[Outcome]:
    """Returns the list of Outcome. Raises NamespaceError on bad input.
    recorded_files maps a name to the /etc/netns/NAME/ files a record says
    were written for it: removing the namespace removes them too, and with
    prune_files so does a present namespace that no longer declares one.
    stale_links maps a name to the links a record says were made for a
    segment that no longer declares them (record.stale_links): they are
    deleted first, also in a namespace that is not declared (one Outcome
    each, after the declared ones, when there is something to delete)."""
    decls = validate(namespaces)
    recorded_files = recorded_files or {}
    stale_links = stale_links or {}
    with rtnl.Socket() as sock:
        host = Side('the host', netconfig_state.read(sock), fd=home_fd())
    sides: dict[str, Side] = {}
    leaving: dict[str, Side] = {}
    outcomes: list[Outcome] = []
    unwired: dict[str, Side] = {}
    try:
        outcomes = _ensure_namespaces(decls, pin_dir, check_mode, sides, leaving)
        unwired = _open_undeclared(stale_links, decls, pin_dir)
        owned = _owned_elsewhere(decls)
        linked = _linked(decls)
        # one for the call: a veth pair across two namespaces is deleted once
        doomed = Doomed(sorted(list(sides.items()) + list(leaving.items()) + list(unwired.items())) + [(None, host)])
        decls, outcomes = _unwire(unwired, stale_links, doomed, decls, outcomes)
        call = _Planning(
            pin_dir,
            purge,
            recorded_files,
            prune_files,
            stale_links,
            host,
            sides,
            leaving,
            owned,
            linked,
            kept_links(decls),
            doomed,
        )  # kept_links once: it reads every declaration
        _plan_all(decls, outcomes, call)
        _apply(decls, outcomes, sides, unwired, check_mode)
    finally:
        for side in list(sides.values()) + list(leaving.values()) + list(unwired.values()):
            side.close()
        host.close()
    return outcomes


def _ensure_namespaces(
    decls: list[Decl], pin_dir: str | None, check_mode: bool, sides: dict[str, Side], leaving: dict[str, Side]
) -> list[Outcome]:
    """One Outcome per declaration, each present namespace made to exist.
    The sides opened go into sides and leaving as they open, for converge()
    to close whatever happens next."""
    outcomes = []
    for decl in decls:
        outcome = Outcome(decl['name'])
        outcomes.append(outcome)
        pin = spec.build(decl['name'], 'net', pin_dir=pin_dir)
        if decl['state'] == 'absent':
            loc = pin.locations['net']
            if inspect(loc).state == PRESENT:  # read now: another namespace's veth may end there
                leaving[decl['name']] = _open_side(decl['name'], loc.path)
            continue
        try:
            result = engine.ensure_present(pin, check_mode=check_mode)
        except NamespaceError as exc:
            outcome.failed = str(exc)
            continue
        for text in result.actions:
            outcome.done(text, change('namespace', decl['name'], None, 'present'))
        outcome.pins = result.pins
        path = pin.locations['net'].path
        if inspect(pin.locations['net']).state == PRESENT:
            sides[decl['name']] = _open_side(decl['name'], path)
        else:  # check mode, namespace not created yet
            sides[decl['name']] = Side(f"namespace '{decl['name']}'", netconfig_state.NetState.empty())
    return outcomes


class _Planning(NamedTuple):
    """What every namespace's plan reads: the call's options and the state read at its start."""

    pin_dir: str | None
    purge: bool
    recorded_files: Mapping[str, Collection[str]]
    prune_files: bool
    stale_links: dict[str, list[dict[str, Any]]]
    host: Side
    sides: dict[str, Side]
    leaving: dict[str, Side]
    owned: dict[str, set[str]]
    linked: set[str]
    kept: Kept
    doomed: Doomed


def _plan_namespace(decl: Decl, outcome: Outcome, call: _Planning) -> None:
    """outcome.actions, or outcome.failed; the namespace's sides are closed
    after, as only planning reads them."""
    name = decl['name']
    try:
        if decl['state'] == 'absent':
            outcome.actions = _absent_actions(
                decl,
                call.pin_dir,
                outcome,
                call.purge,
                call.recorded_files.get(name, ()),
                call.leaving.get(name),
                call.doomed,
            )
            return
        side = call.sides[name]
        stale_files = call.recorded_files.get(name, ()) if call.prune_files else ()
        late = in_phase(
            _sysctl_actions(decl, side) + _file_actions(decl, outcome, stale_files),
            LATE if name in call.linked else LINKS,
        )
        # before the plan, which then creates a link of the same name declared now
        stale = stale_segment_links(side, call.stale_links.get(name, ()), call.doomed)
        outcome.actions = (
            stale
            + _nsid_actions(decl, side)
            + plan(
                decl,
                side,
                call.host,
                call.sides,
                call.owned.get(name, set()),
                call.purge,
                linked=name in call.linked,
                kept=call.kept,
                doomed=call.doomed,
            )
            + late
        )
    except NamespaceError as exc:
        outcome.failed = str(exc)
    finally:
        for opened in (call.sides.get(name), call.leaving.get(name)):
            if opened is not None:
                opened.close()


def _plan_all(decls: list[Decl], outcomes: list[Outcome], call: _Planning) -> None:
    """Plan every namespace that has not failed yet (outcome.actions); an
    undeclared one's stand-in comes with its actions planned (_unwire)."""
    for decl, outcome in zip(decls, outcomes):
        if outcome.failed or decl['state'] == 'undeclared':
            continue
        _plan_namespace(decl, outcome, call)


def _apply(
    decls: list[Decl], outcomes: list[Outcome], sides: dict[str, Side], unwired: dict[str, Side], check_mode: bool
) -> None:
    """Carry the plans out phase by phase, each phase across every namespace
    that has not failed (in check mode, record what would be done)."""
    for phase in (CLEAR, LINKS, PEERS, LATE):
        for decl, outcome in zip(decls, outcomes):
            if not outcome.failed:
                _run_phase(decl, outcome, phase, dict(sides, **unwired), check_mode)


def _open_undeclared(
    stale_links: dict[str, list[dict[str, Any]]], decls: list[Decl], pin_dir: str | None
) -> dict[str, Side]:
    """Sides of the namespaces that are not declared and hold links a segment
    no longer declares (the segment was removed, or the host left it, and
    nothing prunes the namespace): only those links go."""
    declared = set(d['name'] for d in decls)
    sides: dict[str, Side] = {}
    for name in sorted(set(stale_links) - declared):
        loc = spec.build(name, 'net', pin_dir=pin_dir).locations['net']
        if inspect(loc).state == PRESENT:
            sides[name] = _open_side(name, loc.path)
    return sides


def _unwire(
    unwired: dict[str, Side],
    stale_links: dict[str, list[dict[str, Any]]],
    doomed: Doomed,
    decls: list[Decl],
    outcomes: list[Outcome],
) -> tuple[list[Decl], list[Outcome]]:
    """decls and outcomes with one more each per undeclared namespace that
    has stale segment links to delete (its declaration a stand-in that
    plans nothing else)."""
    decls, outcomes = list(decls), list(outcomes)
    for name, side in sorted(unwired.items()):
        actions = stale_segment_links(side, stale_links[name], doomed)
        side.close()
        if actions:
            outcome = Outcome(name)
            outcome.actions = actions
            decls.append({'name': name, 'state': 'undeclared', 'links': []})
            outcomes.append(outcome)
    return decls, outcomes


def read_record(
    namespaces: Any, record_path: str, prune: bool
) -> tuple[list[Decl], netns_record.Record, list[str], list[dict[str, Any]]]:
    """(declarations, recorded names, names to prune, what to converge),
    or NamespaceError for a bad declaration, an unreadable record or a
    recorded name that is no valid name: callers check this before they
    write anything (the boot files included)."""
    decls = validate(namespaces)  # a bad input fails before the record is read or anything pruned
    recorded = netns_record.read(record_path)
    pruned = netns_record.to_prune(recorded, decls) if prune else []
    asked = list(namespaces) + [{'name': n, 'state': 'absent'} for n in pruned]
    validate(asked)  # a name in the record that is no valid name fails before anything is written
    return decls, recorded, pruned, asked


def converge_recorded(
    namespaces: Any,
    record_path: str | None = None,
    prune: bool = False,
    services_step: Callable[[list[Decl], list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
    **kwargs: Any,
) -> tuple[list[Outcome], dict[str, Any] | None]:
    """converge(), keeping the record of managed namespaces at record_path
    and pruning the recorded ones no longer listed. Returns (outcomes,
    record result or None). The caller holds the host lock (hostlock), so
    the record's read-modify-write is not interleaved with another run's.

    The record is written twice: before anything is touched, with every
    name and file this run may create (a run killed part-way leaves nothing
    a later prune does not know), and at the end, without the names that
    are really gone.

    services_step(declarations, undeclared services), when given, places
    the declared services once the namespaces are converged and takes out
    the recorded ones no longer declared; it returns the services the record
    keeps. The intent record lists both, so a run killed meanwhile leaves
    nothing a later run cannot take out."""
    if record_path is None:
        outcomes = converge(namespaces, **kwargs)
        if services_step is not None:
            services_step(validate(namespaces), [])
        return outcomes, None
    check_mode = kwargs.get('check_mode', False)
    text_before = fileio.read_text(record_path)
    decls, recorded, pruned, asked = read_record(namespaces, record_path, prune)
    intended = netns_record.intent(recorded, decls)
    if not check_mode:
        netns_record.write(record_path, intended)
    outcomes = converge(
        asked,
        recorded_files=intended.files,
        prune_files=prune,
        stale_links=netns_record.stale_links(recorded, decls, pruned),
        **kwargs,
    )
    failed = set(o.name for o in outcomes if o.failed)
    leaving = set(pruned) | set(d['name'] for d in decls if d['state'] == 'absent')
    gone = set(n for n in leaving if n not in failed and (check_mode or _pin_absent(n, kwargs.get('pin_dir'))))
    final = netns_record.after(
        intended, gone, lambda name, rel: check_mode or os.path.lexists(os.path.join(ETC_NETNS, name, rel))
    )
    final = final.with_links(netns_record.links_after(intended, decls, failed))
    if services_step is not None:
        final = final.with_services(services_step(decls, netns_record.undeclared_services(recorded, decls)))
    if not check_mode:
        netns_record.write(record_path, final)
    # a recorded name a killed run never got to create is dropped, not reported as pruned
    removed = set(o.name for o in outcomes if o.changes)
    return outcomes, {
        'path': record_path,
        'managed': final.managed(),
        'pruned': [n for n in pruned if n in gone and n in removed],
        'changed': text_before != final.content(),
    }


def _pin_absent(name: str, pin_dir: str | None) -> bool:
    return inspect(spec.build(name, 'net', pin_dir=pin_dir).locations['net']).state == ABSENT


def _linked(decls: list[Decl]) -> set[str]:
    """Names of the namespaces joined to another one of the call by a veth."""
    linked: set[str] = set()
    for decl in decls:
        for link in decl['links']:
            if link['peer'] and link['peer']['netns']:
                linked.update((decl['name'], link['peer']['netns']))
    return linked


def _run_phase(decl: Decl, outcome: Outcome, phase: int, sides: dict[str, Side], check_mode: bool) -> None:
    try:
        for action in outcome.actions:
            if action.phase != phase:
                continue
            if not check_mode:
                try:
                    action.run()
                except Exception as exc:  # noqa: B902 - report which step of which namespace failed
                    outcome.cause = step_failure(action.text, exc)
                    outcome.failed = f'{outcome.cause} Done before: {("; ".join(outcome.changes) or "nothing")}.'
                    return
            outcome.done(action.text, action.change)
    finally:
        _close_sides_of(decl, sides)


# What to do about a step the kernel refused, by errno (EPERM and the like:
# errors.default_hint). The step names the namespace and the link.
STEP_HINTS = {
    errno.EEXIST: 'Something of that name is there already (made since the run read the namespace, or not '
    'declared): delete it, or run with purge: true.',
    errno.ENODEV: 'A link the step needs is gone (deleted while the run went on): run the task again.',
    errno.EBUSY: 'Something holds the link (a process or another link): release it and run the task again.',
    errno.EINVAL: 'The kernel refused a declared value: check it against the kernel (link kind, MTU range, address).',
    errno.EOPNOTSUPP: 'This kernel cannot do it (a module not built or not loaded): load it or leave the setting out.',
}
FALLBACK_HINT = 'Fix the cause and run the task again: it does only what is still missing.'


def step_failure(text: str, exc: BaseException) -> str:
    """'STEP failed: STRERROR (errno N NAME). WHAT TO DO.' for a step that
    raised: an OSError, pyroute2's NetlinkError (the errno in .code; its
    str() is a tuple), or a LookupError for a link that is not there. A
    NamespaceError says all of it itself."""
    if isinstance(exc, NamespaceError):
        return f'{text} failed: {exc}'
    code = getattr(exc, 'errno', None) or getattr(exc, 'code', None)
    cause: object
    if isinstance(code, int) and code > 0:
        cause = f'{os.strerror(code)} (errno {code} {errno.errorcode.get(code, str(code))})'
        hint = default_hint(code) or STEP_HINTS.get(code, FALLBACK_HINT)
    elif isinstance(exc, LookupError):
        cause, hint = exc.args[0] if exc.args else exc, 'Declare or create it first, then run the task again.'
    else:
        cause, hint = exc, FALLBACK_HINT
    return f'{text} failed: {cause}. {hint}'


def _close_sides_of(decl: Decl, sides: dict[str, Side]) -> None:
    for name in [decl['name']] + [lk['peer']['netns'] for lk in decl['links'] if lk['peer'] and lk['peer']['netns']]:
        if name in sides:
            sides[name].close()


def _absent_actions(
    decl: Decl,
    pin_dir: str | None,
    outcome: Outcome,
    purge: bool,
    recorded_files: Collection[str],
    side: Side | None,
    doomed: Doomed,
) -> list[Action]:
    """Delete the links whose other ends live outside (veth peers on the host,
    vlans on host parents) before unpinning: a namespace kept alive by a
    process would otherwise keep them. Then unpin through the engine, and
    remove the /etc/netns/NAME/ files, so that a later namespace of the same
    name does not inherit them. side is the namespace's Side (None: it is
    not there); a link that dies with another one (its veth peer, here or
    in a namespace an earlier plan deletes from: doomed) is not deleted
    again."""
    pin = spec.build(decl['name'], 'net', pin_dir=pin_dir)
    loc = pin.locations['net']
    actions: list[Action] = []
    if side is not None:
        gone = set(doomed.of(side))
        for name, link in sorted(side.state.links.items()):
            if link['kind'] not in REMOVABLE_KINDS or link['index'] in gone:
                continue
            also = dependents(side.state, link['index'])
            gone.update([link['index']] + [side.state.links[n]['index'] for n in also])
            # a veth's peer outside the call goes too, unnamed
            words = taken_along(also, doomed.deleting(side, name, also)) or (
                ' (and its peer)' if link['kind'] == 'veth' else ''
            )
            actions.append(
                Action(
                    f'delete {link["kind"]} {name} in {side.label}{words}',
                    functools.partial(_delete_and_close, side, name, also),
                    change=change('link', name, {'kind': link['kind']}, None),
                )
            )

    def unpin() -> None:
        result = engine.ensure_absent(pin, check_mode=False)
        outcome.pins = result.pins

    if inspect(loc).state != ABSENT:
        actions.append(
            Action(
                f'unpin network namespace {decl["name"]} at {loc.path}',
                unpin,
                change=change('namespace', decl['name'], 'present', None),
            )
        )
    return actions + _etc_removal(decl['name'], set(decl['files']) | set(recorded_files), purge)


def _delete_and_close(side: Side, name: str, also: list[str]) -> None:
    """Delete a link of a namespace that is going, then close its socket."""
    delete_link(side, name, also)
    side.close()


def _etc_removal(name: str, rels: Iterable[str], purge: bool) -> list[Action]:
    """Actions removing /etc/netns/NAME/: with purge all of it; otherwise the
    files declared or recorded for NAME (what this collection wrote), then
    the directories left empty. A user's own files there are kept, and so is
    their directory. A symlink in place of a directory is never followed."""
    base = os.path.join(ETC_NETNS, name)
    if not os.path.lexists(base):
        return []
    if os.path.islink(base) or not os.path.isdir(base):
        return (
            [Action(f'remove {base}', lambda: os.unlink(base), change=change('file', base, 'present'))] if purge else []
        )
    if purge:
        return [
            Action(
                f'remove {base} and everything in it',
                lambda: shutil.rmtree(base),
                change=change('file', base, 'directory'),
            )
        ]
    doomed = set(_removable(base, rels))
    actions = [
        Action(f'remove {p}', functools.partial(fileio.remove, p), change=change('file', p, _content(p)))
        for p in sorted(doomed)
    ]
    left = [
        os.path.join(d, e)
        for d, dirs, files in os.walk(base)
        for e in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]
    ]
    if not set(left) - doomed:
        actions.append(
            Action(
                f'remove the directory {base}',
                lambda: _remove_empty_dirs(base),
                change=change('file', base, 'directory'),
            )
        )
    return actions


def _content(path: str) -> str | None:
    """A file's text as the before of its removal ('present' when it is no text)."""
    try:
        return fileio.read_text(path)
    except (OSError, ValueError):
        return 'present'


def _removable(base: str, rels: Iterable[str]) -> list[str]:
    """The existing files base/REL, skipping any reached through a symlinked
    directory (that would be outside base) and directories."""
    real_base = os.path.realpath(base)
    found: list[str] = []
    for rel in sorted(rels):
        path = os.path.join(base, rel)
        parent = os.path.realpath(os.path.dirname(path))
        inside = parent == real_base or parent.startswith(real_base + os.sep)
        if inside and os.path.lexists(path) and (os.path.islink(path) or not os.path.isdir(path)):
            found.append(path)
    return found


def _remove_empty_dirs(base: str) -> None:
    for directory, _dirs, _files in os.walk(base, topdown=False):
        os.rmdir(directory)
