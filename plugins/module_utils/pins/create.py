# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Creating new namespaces: one unshare() for every requested type at once.

Namespaces that belong to a task rather than a process (net, uts, ipc,
cgroup), born without id maps or clock offsets, are created by a short-lived
thread: it unshares, opens its /proc/thread-self/ns/* and ends, so the
module's own threads never change namespace and no process is forked (a
fork costs ten times the kernel's own work here, which matters for a
thousand network namespaces in one call).

Everything else goes through a child process: the child unshares, the parent writes the user namespace maps, the child
writes time offsets and the hostname and, for a pid namespace, starts the
holder that stays its init (pins/holder.py). The parent then opens /proc/CHILD/ns/* as file
descriptors (which keep the namespaces alive) and lets the child go; the
binds happen from the caller's own mount namespace.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Callable, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError, default_hint
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo, syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import Child, ChildFailed, step
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES, kernel_supports
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import holder as holders

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import TypedDict

    from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import _Channel

    # [(inside, outside, count)], as the kernel's uid_map and gid_map lines
    IdMap = list[tuple[int, int, int]]
    # {clock: (secs, nsecs)}, as the kernel's timens_offsets lines
    TimeOffsets = dict[str, tuple[int, int]]

    class _Outcome(TypedDict, total=False):
        """What the unsharing thread leaves: its task id, the fds it opened, or its failure."""

        tid: int
        fds: dict[str, int]
        error: ChildFailed


@dataclasses.dataclass(frozen=True)
class CreateOptions:
    """What a new namespace set is born with."""

    hostname: str | None = None
    domainname: str | None = None
    uid_map: IdMap = dataclasses.field(default_factory=list)  # [(inside, outside, count)]
    gid_map: IdMap = dataclasses.field(default_factory=list)
    time_offsets: TimeOffsets = dataclasses.field(default_factory=dict)  # {'monotonic': (secs, nsecs)}

    def __post_init__(self) -> None:
        # None (or another empty value) given for a map or the offsets means none.
        # Frozen: the fields are set as dataclasses' own __init__ sets them.
        object.__setattr__(self, 'uid_map', self.uid_map or [])
        object.__setattr__(self, 'gid_map', self.gid_map or [])
        object.__setattr__(self, 'time_offsets', self.time_offsets or {})


def map_text(entries: Iterable[Sequence[int]]) -> str:
    return ''.join(f'{inside} {outside} {count}\n' for inside, outside, count in entries)


def offsets_lines(offsets: TimeOffsets) -> list[str]:
    return [f'{clock} {secs} {nsecs}\n' for clock, (secs, nsecs) in sorted(offsets.items())]


def forget_copied_pins() -> None:
    """In a new mount namespace, drop the copies of existing pins, so that the
    new namespace does not keep other namespaces alive after their own pins
    are removed. Private first, so the unmounts do not propagate back."""
    syscalls.mount(None, '/', None, syscalls.MS_REC | syscalls.MS_PRIVATE)
    for mount in reversed(mountinfo.nsfs_mounts(mountinfo.read('self'))):
        try:
            syscalls.umount2(mount.mount_point, syscalls.MNT_DETACH)
        except OSError:
            pass  # locked under a new user namespace: the kernel keeps it


def _child_body(
    types: Sequence[str],
    options: CreateOptions,
    name: str,
    cpu: int | None,
    holder: holders.Holder | None,
    pin: str,
) -> Callable[[_Channel], None]:
    flags = 0
    for nstype in types:
        flags |= TYPES[nstype].flag

    def body(channel: _Channel) -> None:
        if holder:
            # The creator's end belongs to the creator alone: when it dies,
            # the holder must see EOF. (Open until the parent's confirm().)
            cast(socket.socket, holder.creator_end).close()
        if cpu is not None:
            step('sched_setaffinity', os.sched_setaffinity, 0, [cpu])
        step('unshare', syscalls.unshare, flags)
        if 'mnt' in types:
            step('make the new mount namespace private', forget_copied_pins)
        channel.send('unshared')
        if channel.receive() != 'go':
            raise ChildFailed('wait', None, 'the parent gave up')
        for line in offsets_lines(options.time_offsets):
            with open('/proc/self/timens_offsets', 'w') as handle:
                step(f'write time offsets {line.strip()!r}', handle.write, line)
        if options.hostname is not None:
            step('sethostname', syscalls.sethostname, options.hostname)
        if options.domainname is not None:
            step('setdomainname', syscalls.setdomainname, options.domainname)
        holder_pid = 0
        if holder:
            holder_pid = os.fork()
            if holder_pid == 0:  # pragma: no cover - the holder
                holders.become(holder, name, pin)
        channel.send({'holder': holder_pid})
        channel.receive()  # EOF: the parent holds the fds now

    return body


def _write_maps(pid: int, options: CreateOptions) -> None:
    for kind, entries in (('uid_map', options.uid_map), ('gid_map', options.gid_map)):
        if entries:
            with open(f'/proc/{pid}/{kind}', 'w') as handle:
                handle.write(map_text(entries))


# unshare() of these is allowed in a multi-threaded process and takes effect
# in the calling thread only.
THREAD_TYPES = frozenset(['net', 'uts', 'ipc', 'cgroup'])


def _thread_can_create(types: Sequence[str], options: CreateOptions) -> bool:
    return set(types) <= THREAD_TYPES and not (options.uid_map or options.gid_map or options.time_offsets)


def _create_in_thread(types: Sequence[str], options: CreateOptions) -> dict[str, int]:
    flags = 0
    for nstype in types:
        flags |= TYPES[nstype].flag
    outcome: _Outcome = {'fds': {}}

    def body() -> None:
        outcome['tid'] = threading.get_native_id()
        try:
            step('unshare', syscalls.unshare, flags)
            if options.hostname is not None:
                step('sethostname', syscalls.sethostname, options.hostname)
            if options.domainname is not None:
                step('setdomainname', syscalls.setdomainname, options.domainname)
            for nstype in types:
                outcome['fds'][nstype] = step(
                    'open the new namespace',
                    os.open,
                    f'/proc/thread-self/ns/{TYPES[nstype].proc_name}',
                    os.O_RDONLY | os.O_CLOEXEC,
                )
        except ChildFailed as exc:
            outcome['error'] = exc

    thread = threading.Thread(target=body, name='nsfd-unshare')
    thread.start()
    thread.join()
    _wait_task_gone(outcome.get('tid'))
    if 'error' in outcome:
        _close_all(outcome['fds'])
        raise outcome['error']
    return outcome['fds']


def _wait_task_gone(tid: int | None) -> None:
    """join() returns a moment before the kernel task of the thread is gone;
    until then the process still lists a task in the new namespaces."""
    path = f'/proc/self/task/{tid}'
    for _attempt in range(10000):
        if tid is None or not os.path.exists(path):
            return
        time.sleep(0.0001)


def create(
    name: str, types: Sequence[str], options: CreateOptions, cpu: int | None = None, pin: str | None = None
) -> tuple[dict[str, int], holders.Holder | None]:
    """Create namespaces of all types with one unshare().

    cpu, when given, is where the child runs while it unshares (see
    engine._create_and_bind for why a mount namespace may need that).
    pin is the path the pid namespace will be pinned at (the holder's label).

    Returns (fds, holder): fds maps type -> an open nsfs fd (the caller
    binds and closes them); holder is the pid namespace's init (a
    holder.Holder: confirm() it once pinned, kill() it on failure) or None.
    """
    missing = [t for t in types if not kernel_supports(t)]
    if missing:
        raise NamespaceError(
            f'this kernel has no {missing[0]} namespaces (no /proc/self/ns/{missing[0]})',
            name=name,
            errno=errno.EINVAL,
            hint='Use a kernel built with that namespace type (time needs Linux 5.6+).',
        )
    if _thread_can_create(types, options):
        try:
            return _create_in_thread(types, options), None
        except ChildFailed as exc:
            raise _creation_failed(name, types, exc)
    holder = holders.Holder() if 'pid' in types else None
    fds: dict[str, int] = {}
    try:
        child = Child(
            _child_body(types, options, name, cpu, holder, pin or os.path.join(TYPES['pid'].default_dir, name))
        )
    except BaseException:
        kill_holder(holder)
        raise
    if holder:
        holder.drop_holder_end()
    try:
        _take_over(child, name, types, options, holder, fds)
    except ChildFailed as exc:
        _close_all(fds)
        kill_holder(holder)
        raise _creation_failed(name, types, exc)
    except BaseException:
        _close_all(fds)
        kill_holder(holder)
        raise
    finally:
        child.finish()
    return fds, holder


def _take_over(
    child: Child,
    name: str,
    types: Sequence[str],
    options: CreateOptions,
    holder: holders.Holder | None,
    fds: dict[str, int],
) -> None:
    """The parent's part once the child runs: wait for its unshare, write
    the id maps, let it go on, learn the holder's pid, then open the new
    namespaces into fds (as they open: the caller closes them on failure)."""
    child.receive()
    try:
        _write_maps(child.pid, options)
    except OSError as exc:
        raise NamespaceError.from_os_error(
            exc,
            'cannot write the user namespace id maps',
            name=name,
            hint='Each map line is "inside outside count"; ranges must not overlap and '
            'the outside ids must exist in the parent namespace.',
        )
    child.send('go')
    if holder:
        holder.pid = child.receive()['holder']
    else:
        child.receive()
    for nstype in types:
        fds[nstype] = os.open(f'/proc/{child.pid}/ns/{TYPES[nstype].child_proc_name}', os.O_RDONLY | os.O_CLOEXEC)


def _creation_failed(name: str, types: Sequence[str], exc: ChildFailed) -> NamespaceError:
    return NamespaceError(
        f'cannot create the {"+".join(types)} namespace(s): {exc.step} failed: {exc.message}',
        name=name,
        errno=exc.errno,
        hint=default_hint(exc.errno),
    )


def kill_holder(holder: holders.Holder | None) -> None:
    """End a holder this run started (SIGKILL; the kernel then ends its pid namespace)."""
    if holder:
        holder.kill()


def _close_all(fds: dict[str, int]) -> None:
    for fd in fds.values():
        os.close(fd)
    fds.clear()
