# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one command inside pinned namespaces, for the namespace_exec module.

Targets are resolved and checked first (each pin must be an nsfs mount of
the expected type; nothing is ever created). The command's process enters
them between fork and exec; the module process never moves.
"""

from __future__ import annotations

import os
import signal
import time
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.execute import launch as exec_launch
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import spawn
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES, ordered, proc_path
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import check_name, check_pin_path, check_types
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PRESENT, inspect, location, open_nsfs

if TYPE_CHECKING:
    from typing import Any, TypedDict

    class EnteredNamespace(TypedDict):
        """One namespace a Target enters, as the result reports it."""

        type: str
        path: str
        inode: int


# The exit status of a command whose setup failed before exec.
SETUP_FAILED = spawn.SETUP_FAILED


class Target:
    """Open namespace fds to enter, with what the result reports of them."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name  # the net namespace name, for /etc/netns/NAME
        self.fds: dict[str, int] = {}  # type -> fd
        self.entered: list[EnteredNamespace] = []

    def add(self, nstype: str, path: str, fd: int, ino: int) -> None:
        self.fds[nstype] = fd
        self.entered.append({'type': nstype, 'path': path, 'inode': ino})

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}

    @property
    def label(self) -> str:
        return self.name or ', '.join(e['path'] for e in self.entered)


def _open_pin(name: str, nstype: str, path: str) -> tuple[int, int]:
    state = inspect(location(name, nstype, path=path))
    if state.state != PRESENT:
        what = {'absent': 'does not exist', 'stale': 'is a stale pin (an empty file, no namespace mounted)'}
        raise NamespaceError(
            f'the {nstype} namespace pin {what.get(state.state, state.detail or state.state)}',
            name=name,
            path=path,
            hint='Create it first (nsfd.namespaces.namespace); namespace_exec never creates one.',
        )
    fd, actual, st = open_nsfs(path)
    if actual != nstype or (st.st_dev, st.st_ino) != (state.dev, state.ino):
        os.close(fd)
        raise NamespaceError('the pin changed while it was being opened', name=name, path=path)
    return fd, st.st_ino


def resolve(
    namespace: str | None = None,
    types: list[str] | None = None,
    pin_dir: str | None = None,
    paths: list[str] | None = None,
    pid: int | None = None,
) -> Target:
    """Open the namespaces of a name (one pin per type), of pin paths, or
    of a process. Raises NamespaceError, leaving nothing open."""
    target = Target(namespace)
    try:
        if namespace is not None:
            check_name(namespace, 'namespace')
            types = check_types(types or ['net'], 'types')
            if pin_dir and len(types) != 1:
                raise NamespaceError('pin_dir needs exactly one type in types')
            for nstype in types:
                path = location(namespace, nstype, pin_dir=pin_dir).path
                target.add(nstype, path, *_open_pin(namespace, nstype, path))
        elif paths:
            for raw in paths:
                path = check_pin_path(raw)
                try:
                    fd, actual, st = open_nsfs(path)
                except OSError as exc:
                    raise NamespaceError.from_os_error(
                        exc, 'cannot open the pin', path=path, hint='Give the path of an existing namespace pin.'
                    )
                os.close(fd)
                if actual is None:
                    raise NamespaceError('not a namespace pin (no nsfs mount there)', path=path)
                if actual in target.fds:
                    raise NamespaceError(f'two paths name {actual} namespaces', path=path)
                target.add(actual, path, *_open_pin(os.path.basename(path), actual, path))
        elif pid is not None:
            types = check_types(types or ['net'], 'types')
            for nstype in types:
                path = proc_path(pid, nstype)
                try:
                    fd, actual, st = open_nsfs(path, follow=True)
                except OSError as exc:
                    raise NamespaceError.from_os_error(
                        exc,
                        f'cannot open the namespace of process {pid}',
                        path=path,
                        hint='Check that the process is running.',
                    )
                target.add(nstype, path, fd, st.st_ino)
        else:
            raise NamespaceError('give one of namespace, path or pid')
    except Exception:
        target.close()
        raise
    return target


def _enter(
    target: Target, chdir: str | None, etc_files: bool, report_fd: int
) -> None:  # pragma: no cover - runs between fork and exec
    """In the command's process before exec: enter, set up like ip netns
    exec, chdir, and for a pid namespace fork once more (it applies to
    children only)."""
    step = 'setns'
    try:
        for nstype in ordered(target.fds):
            if nstype == 'net':
                continue
            step = f'setns {nstype}'
            syscalls.setns(target.fds[nstype], TYPES[nstype].flag)
        warnings: list[str] = []
        if 'net' in target.fds:
            step = 'enter the network namespace like ip netns exec'
            warnings = exec_launch.enter_netns_like_ip(target.fds['net'], target.name, etc_files)
        if warnings:
            spawn.report(report_fd, {'warnings': warnings})
        if chdir:
            step = f'chdir {chdir}'
            os.chdir(chdir)
        if 'pid' in target.fds:
            step = 'fork into the pid namespace'
            _fork_into_pid_namespace()
    except OSError as exc:
        spawn.fail(report_fd, {'step': step, 'errno': exc.errno, 'error': exc.strerror or str(exc)})


def _fork_into_pid_namespace() -> None:  # pragma: no cover - runs between fork and exec
    child = os.fork()
    if child == 0:
        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        return  # the grandchild goes on to exec the command
    # The intermediate process relays the command's exit status, then ends.
    # It holds the stdio and report pipes too: close them all, or the
    # caller would wait for their end forever.
    os.closerange(0, 65536)
    status = os.waitpid(child, 0)[1]
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


def run(
    target: Target, argv: list[str], stdin: str | None = None, chdir: str | None = None, etc_files: bool = True
) -> dict[str, Any]:
    """Run argv inside the target. Returns a dict like ansible.builtin.command's."""
    start = time.time()
    done = spawn.spawn(
        argv,
        setup=lambda report_fd: _enter(target, chdir, etc_files, report_fd),
        stdin=stdin.encode('utf-8') if stdin is not None else None,
    )
    failed = done.exec_error
    if failed:
        return _result(argv, start, done.rc, '', f'{argv[0]}: {failed["error"]}', target, done.warnings)
    failed = done.setup_error
    if failed:
        raise NamespaceError(
            f'cannot enter {target.label}: {failed["step"]} failed: {failed["error"]}',
            errno=failed.get('errno'),
        )
    return _result(
        argv,
        start,
        done.rc,
        done.stdout.decode('utf-8', 'replace'),
        done.stderr.decode('utf-8', 'replace'),
        target,
        done.warnings,
    )


def _result(
    argv: list[str], start: float, rc: int, stdout: str, stderr: str, target: Target, warnings: list[str]
) -> dict[str, Any]:
    end = time.time()
    took = end - start
    fmt = '%Y-%m-%d %H:%M:%S'
    return {
        'cmd': list(argv),
        'rc': rc,
        'stdout': stdout.rstrip('\r\n'),
        'stderr': stderr.rstrip('\r\n'),
        'stdout_lines': stdout.splitlines(),
        'stderr_lines': stderr.splitlines(),
        'start': time.strftime(fmt, time.localtime(start)) + f'.{int(start % 1 * 1000000):06d}',
        'end': time.strftime(fmt, time.localtime(end)) + f'.{int(end % 1 * 1000000):06d}',
        'delta': f'{int(took // 3600)}:{int(took % 3600 // 60):02d}:{took % 60:09.6f}',
        'entered': list(target.entered),
        'warnings': warnings,
    }


def pinned_netns_names(pin_dir: str | None = None) -> list[str]:
    """Every valid network namespace pin name in the directory, sorted."""
    directory = pin_dir or TYPES['net'].default_dir
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [n for n in names if inspect(location(n, 'net', pin_dir=directory)).state == PRESENT]
