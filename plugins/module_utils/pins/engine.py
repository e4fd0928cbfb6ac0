# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pin engine: converge a named namespace (set) to present or absent.

A run first plans from what the kernel shows, without touching anything;
check mode stops there. A real run with nothing to do also stops there, so
it creates nothing, not even a directory. Otherwise the pin directories are
prepared and locked, the plan is made again under the locks (another process
may have acted meanwhile), and carried out.
"""

from __future__ import annotations

import errno
import os
import time
from typing import TYPE_CHECKING, Any, NoReturn, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.changes import Changes
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import procscan
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import ChildFailed
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import proc_path
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import (
    create as creating,
    holder as holders,
    nsprops,
    pindir,
    pinops,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import (
    ABSENT,
    FOREIGN,
    NOT_A_PIN,
    PRESENT,
    STALE,
    WRONG_TYPE,
    inspect,
    open_nsfs,
)

if TYPE_CHECKING:
    from typing import TypedDict

    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.holder import Orphan
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PinDict, PinLocation, PinState
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.spec import Spec

    class PinView(TypedDict, total=False):
        """A pin in the diff's before and after: its state, and the path and inode when it has them."""

        state: str
        path: str
        inode: int

    # (property, current value, wanted value) of a kept namespace
    PropertyChange = tuple[str, Any, Any]

# Plan steps per type.
KEEP = 'keep'
CREATE = 'create'
RECREATE = 'recreate'
PIN = 'pin'
REPIN = 'repin'


class Result(Changes):
    def __init__(self) -> None:
        super().__init__()
        self.pins: list[PinDict] = []
        self.pids_remaining: list[int] | None = None

    def as_dict(self) -> dict[str, Any]:
        result = dict(super().as_dict(), pins=self.pins)
        if self.pids_remaining is not None:
            result['pids_remaining'] = self.pids_remaining
        return result


def _pin_view(state: PinState) -> PinView:
    if state.state == ABSENT:
        return {'state': 'absent'}
    view: PinView = {'state': state.state, 'path': state.location.path}
    if state.ino is not None:
        view['inode'] = state.ino
    return view


def _inspect_all(spec: Spec) -> dict[str, PinState]:
    return dict((t, inspect(spec.locations[t])) for t in spec.types)


def _fail_not_a_pin(spec: Spec, state: PinState) -> NoReturn:
    if state.state == FOREIGN:
        hint = (
            f'It is left untouched: it belongs to something else. {spec.given} names it; choose another name, path '
            'or pin_dir (pins belong in the /run/*ns defaults or a directory under /run).'
        )
    else:
        hint = 'It is left untouched. Move it away, or choose another name or pin_dir.'
    raise NamespaceError(
        f'the path exists and is not a {state.location.type} namespace pin: it {state.detail}',
        name=spec.name,
        path=state.location.path,
        hint=hint,
    )


class _Source:
    """The namespaces to attach, opened once: what is checked is what is bound."""

    def __init__(self, spec: Spec) -> None:
        self.fds: dict[str, int] = {}
        self.identity: dict[str, tuple[int, int]] = {}
        try:
            for nstype in spec.types:
                # build() gives a source_pid whenever there is no source_path
                path = spec.source_path or proc_path(cast(int, spec.source_pid), nstype)
                try:
                    fd, actual, st = open_nsfs(path, follow=True)
                except OSError as exc:
                    hint = (
                        f'Check that process {spec.source_pid} is running.'
                        if spec.source_pid is not None
                        else 'Check the path.'
                    )
                    raise NamespaceError.from_os_error(
                        exc, 'cannot open the source namespace', name=spec.name, path=path, hint=hint
                    )
                self.fds[nstype] = fd
                if actual != nstype:
                    what = f'a {actual} namespace' if actual else 'not a namespace file'
                    raise NamespaceError(
                        f'the source is {what}, not a {nstype} namespace',
                        name=spec.name,
                        path=path,
                    )
                self.identity[nstype] = (st.st_dev, st.st_ino)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


def _is_defunct_pid_ns(state: PinState) -> bool:
    # A pid namespace whose init has exited can never run a process again.
    return state.location.type == 'pid' and not procscan.pids_in('pid', cast(int, state.ino))


def _plan(
    spec: Spec, states: dict[str, PinState], source: _Source | None, result: Result
) -> tuple[dict[str, str], list[PropertyChange]]:
    """Decide a step per type, and the property changes on kept namespaces."""
    steps: dict[str, str] = {}
    for nstype in spec.types:
        state = states[nstype]
        if state.state in (NOT_A_PIN, FOREIGN):
            _fail_not_a_pin(spec, state)
        if state.state == WRONG_TYPE and not spec.force:
            raise NamespaceError(
                f'the path holds a {state.actual_type} namespace, not a {nstype} namespace',
                name=spec.name,
                path=state.location.path,
                hint='Set force: true to replace it, or choose another name.',
            )
        if source:
            if state.state == PRESENT and state.identity == source.identity[nstype]:
                steps[nstype] = KEEP
            elif state.state in (PRESENT, WRONG_TYPE):
                if not spec.force:
                    raise NamespaceError(
                        f'the pin holds another {nstype} namespace (inode {state.ino}) than the source '
                        f'(inode {source.identity[nstype][1]})',
                        name=spec.name,
                        path=state.location.path,
                        hint='Set force: true to re-pin it to the source.',
                    )
                steps[nstype] = REPIN
            else:
                steps[nstype] = PIN
        elif state.state == PRESENT and not _is_defunct_pid_ns(state):
            steps[nstype] = KEEP
        elif state.state == ABSENT:
            steps[nstype] = CREATE
        else:
            steps[nstype] = RECREATE
            if state.state == STALE:
                result.warnings.append(f'{nstype} pin {state.location.path} was stale ({state.detail}); it is repaired')
            elif state.state == PRESENT:
                result.warnings.append(
                    f'pid namespace pinned at {state.location.path} has no init process left; it is re-created'
                )
    prop_changes = _plan_properties(spec, states, steps)
    return steps, prop_changes


def _plan_properties(spec: Spec, states: dict[str, PinState], steps: dict[str, str]) -> list[PropertyChange]:
    """Compare wanted properties with kept namespaces. Immutable ones that
    differ turn KEEP into RECREATE under force, or fail."""
    kept = [t for t in spec.types if steps[t] == KEEP]
    keys = [k for k in spec.wanted if nsprops.PROPERTY_TYPES[k] in kept]
    if not keys:
        return []
    fds: dict[str, int] = {}
    try:
        for nstype in set(nsprops.PROPERTY_TYPES[k] for k in keys):
            fds[nstype] = os.open(states[nstype].location.path, os.O_RDONLY | os.O_CLOEXEC)
        current = nsprops.read(fds, keys)
    except ChildFailed as exc:
        raise NamespaceError(
            f'cannot read the properties of the existing namespace: {exc.step}: {exc.message}',
            name=spec.name,
            errno=exc.errno,
        )
    finally:
        for fd in fds.values():
            os.close(fd)
    changes: list[PropertyChange] = []
    for key, have, want in nsprops.differences(current, dict((k, spec.wanted[k]) for k in keys)):
        nstype = nsprops.PROPERTY_TYPES[key]
        if key in nsprops.MUTABLE:
            changes.append((key, have, want))
        elif spec.force:
            steps[nstype] = RECREATE
        else:
            raise NamespaceError(
                f'{key} of the existing {nstype} namespace is {have!r}, not {want!r}; it cannot change after creation',
                name=spec.name,
                path=states[nstype].location.path,
                hint='Remove the namespace (state: absent) and create it again, or set force: true to re-create it.',
            )
    return [c for c in changes if steps['uts'] == KEEP]


def _describe(spec: Spec, steps: dict[str, str], prop_changes: list[PropertyChange], result: Result) -> None:
    source = spec.source_path or f'pid {spec.source_pid}'
    for nstype in spec.types:
        step, path = steps[nstype], spec.locations[nstype].path
        if step == CREATE:
            result.act(f'create {nstype} namespace and pin it at {path}')
        elif step == RECREATE:
            result.act(f're-create {nstype} namespace and pin it at {path}')
        elif step == PIN:
            result.act(f'pin the {nstype} namespace of {source} at {path}')
        elif step == REPIN:
            result.act(f're-pin {nstype} at {path} to the {nstype} namespace of {source}')
    for key, have, want in prop_changes:
        result.act(f'set {key} of uts namespace {spec.name} from {have!r} to {want!r}')


def ensure_present(spec: Spec, check_mode: bool = False) -> Result:
    result = Result()
    source = _Source(spec) if spec.attach else None
    try:
        states = _inspect_all(spec)
        result.before = dict((t, _pin_view(s)) for t, s in states.items())
        steps, prop_changes = _plan(spec, states, source, result)
        orphans = _plan_orphans(spec, result)
        if check_mode or all(s == KEEP for s in steps.values()) and not prop_changes and not orphans:
            _describe_orphans(orphans, result)
            _describe(spec, steps, prop_changes, result)
            result.after = _predicted_after(spec, states, steps)
            result.pins = [_predicted_pin(spec, states, steps, t) for t in spec.types]
            return result
        directories = sorted(set(loc.directory for loc in spec.locations.values()))
        for directory in directories:
            pindir.ensure_directory(directory)
        with pindir.locked(directories):
            for nstype in spec.types:
                pindir.prepare(spec.locations[nstype].directory, nstype)
            # Plan again: another process may have acted while we waited.
            states = _inspect_all(spec)
            result.warnings = []
            steps, prop_changes = _plan(spec, states, source, result)
            orphans = _plan_orphans(spec, result)
            _describe_orphans(orphans, result)
            _describe(spec, steps, prop_changes, result)
            for orphan in orphans:
                holders.end(orphan['pid'])
            _execute(spec, states, steps, prop_changes, source, result)
        final = _inspect_all(spec)
        result.after = dict((t, _pin_view(s)) for t, s in final.items())
        result.pins = [final[t].as_dict() for t in spec.types]
        return result
    finally:
        if source:
            source.close()


def _plan_orphans(spec: Spec, result: Result) -> list[Orphan]:
    """Orphan holders of this name: ended when only the holder is inside;
    with processes inside they are left (state=absent ends them) and said."""
    alone = []
    for orphan in _orphans(spec):
        if len(orphan['pids']) > 1:
            others = ', '.join(str(p) for p in orphan['pids'] if p != orphan['pid'])
            result.warnings.append(
                f'the init (holder) process {orphan["pid"]} of an earlier pid namespace {orphan["name"]} '
                f'(inode {orphan["inode"]}) is pinned nowhere; it is left running because processes {others} '
                'are inside: end it with state=absent'
            )
        else:
            alone.append(orphan)
    return alone


def _describe_orphans(orphans: list[Orphan], result: Result) -> None:
    for orphan in orphans:
        result.act(_describe_orphan(orphan))


def _predicted_pin(spec: Spec, states: dict[str, PinState], steps: dict[str, str], nstype: str) -> PinDict:
    pin: PinDict = {'type': nstype, 'path': spec.locations[nstype].path, 'inode': None, 'dev': None}
    if steps[nstype] == KEEP:
        pin.update({'inode': states[nstype].ino, 'dev': states[nstype].dev})
    return pin


def _predicted_after(spec: Spec, states: dict[str, PinState], steps: dict[str, str]) -> dict[str, PinView]:
    after: dict[str, PinView] = {}
    for nstype in spec.types:
        if steps[nstype] == KEEP:
            after[nstype] = _pin_view(states[nstype])
        else:
            after[nstype] = {'state': PRESENT, 'path': spec.locations[nstype].path}
    return after


def _execute(
    spec: Spec,
    states: dict[str, PinState],
    steps: dict[str, str],
    prop_changes: list[PropertyChange],
    source: _Source | None,
    result: Result,
) -> None:
    done: list[str] = []
    try:
        for nstype in spec.types:
            if steps[nstype] in (RECREATE, REPIN) or states[nstype].state == STALE:
                pinops.unpin(spec.locations[nstype])
                done.append(f'removed the old {nstype} pin {spec.locations[nstype].path}')
        if source:
            for nstype in spec.types:
                if steps[nstype] in (PIN, REPIN):
                    pinops.bind_fd(spec.locations[nstype], source.fds[nstype])
                    done.append(f'pinned {nstype} at {spec.locations[nstype].path}')
        else:
            _create_and_bind(spec, [t for t in spec.types if steps[t] in (CREATE, RECREATE)], result, done)
        if prop_changes:
            fd = os.open(spec.locations['uts'].path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                nsprops.set_uts(fd, spec.options.hostname, spec.options.domainname)
            except ChildFailed as exc:
                raise NamespaceError(
                    f'cannot set {exc.step}: {exc.message}',
                    name=spec.name,
                    path=spec.locations['uts'].path,
                    errno=exc.errno,
                )
            finally:
                os.close(fd)
    except NamespaceError as exc:
        exc.done = done + exc.done
        raise


def _create_and_bind(spec: Spec, types: list[str], result: Result, done: list[str]) -> None:
    if not types:
        return
    if len(types) < len(spec.types):
        result.warnings.append(
            f'{"+".join(types)} of {spec.name} created on their own: the other types already existed, so '
            'they do not come from one unshare()'
        )
    # The kernel binds a mount namespace file only when the namespace's id is
    # above the caller's (its loop check). Since Linux 6.18 ids come from
    # per-CPU batches, so a namespace created later on another CPU can get a
    # lower id. The CPU holding the newest batch always gives a higher one:
    # when the bind is refused, create again on each CPU in turn.
    attempts: list[int | None] = [None]
    if 'mnt' in types:
        attempts += sorted(os.sched_getaffinity(0))
    for attempt, cpu in enumerate(attempts):
        try:
            _create_and_bind_once(spec, types, cpu, done)
            return
        except NamespaceError as exc:
            if exc.errno != errno.EINVAL or 'mnt' not in types or attempt == len(attempts) - 1:
                raise


def _create_and_bind_once(spec: Spec, types: list[str], cpu: int | None, done: list[str]) -> None:
    pid_pin = spec.locations['pid'].path if 'pid' in types else None
    fds, holder = creating.create(spec.name, types, spec.options, cpu=cpu, pin=pid_pin)
    bound: list[PinLocation] = []
    try:
        for nstype in types:
            pinops.bind_fd(spec.locations[nstype], fds[nstype])
            bound.append(spec.locations[nstype])
        if holder:
            # Before the fds close: until the holder acknowledges, they are
            # what tells it apart from an orphan.
            holder.confirm(spec.name)
        done.extend(f'created {loc.type} namespace pinned at {loc.path}' for loc in bound)
    except NamespaceError:
        # All or nothing for one unshare(): a half-pinned set is worse than none.
        for loc in bound:
            pinops.unpin(loc)
        creating.kill_holder(holder)
        raise
    finally:
        for fd in fds.values():
            os.close(fd)


def _orphans(spec: Spec) -> list[Orphan]:
    """Holders labelled with this name and pid pin that nothing pins or holds."""
    if 'pid' not in spec.types or spec.attach:
        return []
    return holders.orphans(spec.name, spec.locations['pid'].path)


def _describe_orphan(orphan: Orphan) -> str:
    others = [p for p in orphan['pids'] if p != orphan['pid']]
    inside = f' and the processes {", ".join(map(str, others))} inside' if others else ''
    return (
        f'end the orphan init (holder) process {orphan["pid"]} of pid namespace {orphan["name"]} '
        f'(inode {orphan["inode"]}, pinned nowhere){inside}'
    )


def _plan_absent(spec: Spec, states: dict[str, PinState], result: Result) -> tuple[list[PinState], list[Orphan]]:
    result.warnings = []
    for state in states.values():
        if state.state == FOREIGN:
            # Absent asks for no namespace there, and there is none: someone
            # else's file (dpkg's lock, say) is no business of ours.
            result.warnings.append(
                f'{state.location.path} is not a {state.location.type} namespace pin: it {state.detail}; '
                'it is left alone'
            )
        if state.state == NOT_A_PIN:
            _fail_not_a_pin(spec, state)
        if state.state == WRONG_TYPE:
            raise NamespaceError(
                f'the path holds a {state.actual_type} namespace, not a {state.location.type} namespace; '
                'it is left in place',
                name=spec.name,
                path=state.location.path,
                hint='Remove it with the right type.',
            )
    targets = [s for s in states.values() if s.state in (PRESENT, STALE)]
    # pid first: ending the holder lets the other namespaces of the set go.
    targets.sort(key=lambda s: s.location.type != 'pid')
    orphans = _orphans(spec)
    result.changed, result.actions = False, []
    for orphan in orphans:
        result.act(_describe_orphan(orphan))
    for state in targets:
        if state.state == STALE:
            result.act(f'remove stale {state.location.type} pin file {state.location.path}')
        else:
            result.act(f'unpin {state.location.type} namespace at {state.location.path}')
    return targets, orphans


def _pids_inside(targets: list[PinState]) -> list[int]:
    present = [s for s in targets if s.state == PRESENT]
    return sorted(set(pid for s in present for pid in procscan.pids_in(s.location.type, cast(int, s.ino))))


def ensure_absent(spec: Spec, check_mode: bool = False) -> Result:
    result = Result()
    states = _inspect_all(spec)
    result.before = dict((t, _pin_view(s)) for t, s in states.items())
    result.after = dict((t, {'state': 'absent'}) for t in spec.types)
    result.pins = [states[t].as_dict() for t in spec.types]
    targets, orphans = _plan_absent(spec, states, result)
    if check_mode or not (targets or orphans):
        result.pids_remaining = _pids_inside(targets)
        return result
    wanted = sorted(set(loc.directory for loc in spec.locations.values()))
    for _attempt in range(3):
        directories = [d for d in wanted if os.path.isdir(d)]
        with pindir.locked(directories):
            # Plan again under the locks: while this run waited, another may
            # have removed the set and created it anew (a new holder to end).
            states = _inspect_all(spec)
            targets, orphans = _plan_absent(spec, states, result)
            if any(s.location.directory not in directories for s in targets):
                continue  # a directory appeared meanwhile: lock it too
            killed = _remove(spec, targets, orphans, result)
            break
    else:
        raise NamespaceError(
            'the pin directories kept changing while the pins were being removed',
            name=spec.name,
            errno=errno.EAGAIN,
            hint='Run the task again.',
        )
    for ino in killed:
        _wait_pid_ns_empty(ino)
    result.pins = [states[t].as_dict() for t in spec.types]
    result.pids_remaining = _pids_inside(targets)
    if result.pids_remaining:
        result.warnings.append(
            f'processes {", ".join(map(str, result.pids_remaining))} are still inside; '
            f'the namespace(s) of {spec.name} live on until they exit'
        )
    return result


def _remove(spec: Spec, targets: list[PinState], orphans: list[Orphan], result: Result) -> list[int]:
    """Carry out a removal plan, under the locks. Returns the inodes of the
    pid namespaces whose holder was ended."""
    killed: list[int] = []
    for orphan in orphans:
        holders.end(orphan['pid'])
        killed.append(orphan['inode'])
    for state in targets:
        pinops.unpin(state.location)
        if state.state == PRESENT and state.location.type == 'pid' and not _still_pinned_pid_ns(state.ino):
            holder = procscan.holder_of(procscan.pids_in('pid', cast(int, state.ino)))
            if holder:
                holders.end(holder)
                killed.append(cast(int, state.ino))  # a present pin has an inode
                result.actions.append(f'end the init (holder) process {holder} of pid namespace {spec.name}')
    return killed


def _still_pinned_pid_ns(ino: int | None) -> bool:
    # Another pin (an attach of the same namespace under another name, or a
    # copy in another mount namespace) keeps it: its holder is its init and
    # must live while it does. A process merely waiting on a child inside
    # (nsenter) does not: removing the last pin ends the namespace, as before.
    return ino in procscan.pinned_everywhere('pid')


def _wait_pid_ns_empty(ino: int, timeout: float = 5.0) -> None:
    # The kernel kills a pid namespace's processes when its init dies, but
    # asynchronously; report only what is really left.
    deadline = time.time() + timeout
    while procscan.pids_in('pid', ino) and time.time() < deadline:
        time.sleep(0.01)
