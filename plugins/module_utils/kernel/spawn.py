# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""fork, set the child up, exec: a command with captured output whose
process does something (enter namespaces) between fork and exec.

Ansible's run_command cannot run code in the child before exec, and
subprocess.Popen's preexec_fn is what ansible-test's pylint rightly flags
in module code (and is unsafe with threads): the namespace_exec module is
single-threaded, so a plain fork and exec does the job with no hook.

The child reports setup and exec failures as JSON lines on a close-on-exec
pipe, so a successful exec closes it with nothing said.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import selectors
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, NoReturn

# The exit status of a command whose setup failed before exec.
SETUP_FAILED = 126
CHUNK = 65536


@dataclasses.dataclass(frozen=True)
class Spawned:
    """What became of the command: rc (negative: killed by that signal),
    its output, and the JSON messages its setup reported."""

    rc: int
    stdout: bytes
    stderr: bytes
    reports: list[dict[str, Any]]

    @property
    def exec_error(self) -> dict[str, Any] | None:
        """The exec failure the child reported (errno, error), or None."""
        for report in self.reports:
            if report.get('step') == 'exec':
                return report
        return None

    @property
    def setup_error(self) -> dict[str, Any] | None:
        for report in self.reports:
            if 'step' in report and report['step'] != 'exec':
                return report
        return None

    @property
    def warnings(self) -> list[str]:
        found: list[str] = []
        for report in self.reports:
            found.extend(report.get('warnings', []))
        return found


def report(report_fd: int, message: dict[str, Any]) -> None:  # pragma: no cover - runs between fork and exec
    """Tell the parent something (a JSON line on the report pipe)."""
    try:
        os.write(report_fd, json.dumps(message).encode('utf-8') + b'\n')
    except OSError:
        pass


def fail(report_fd: int, message: dict[str, Any]) -> NoReturn:  # pragma: no cover - runs between fork and exec
    """Report a setup failure and end the child before exec."""
    report(report_fd, message)
    os._exit(SETUP_FAILED)


def _open_fds() -> Iterable[int]:  # pragma: no cover - runs between fork and exec
    # Listed before setup() enters other namespaces: inside a container's
    # mount namespace /proc may belong to another pid namespace, where
    # /proc/self does not resolve. Fds opened later by Python are close-on-exec.
    try:
        return [int(name) for name in os.listdir('/proc/self/fd')]
    except OSError:
        return range(3, min(os.sysconf('SC_OPEN_MAX'), 65536))


def _close_on_exec_above_stdio(fds: Iterable[int]) -> None:  # pragma: no cover - runs between fork and exec
    # like close_fds=True: the command gets stdin, stdout and stderr only
    for fd in fds:
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass  # the fd listdir itself used, gone by now


def _child(
    argv: list[str], setup: Callable[[int], object] | None, stdio: Iterable[int], report_w: int
) -> NoReturn:  # pragma: no cover - runs between fork and exec
    try:
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        fds = _open_fds()
        if setup is not None:
            setup(report_w)
        _close_on_exec_above_stdio(fds)
        # Python ignores SIGPIPE and SIGXFSZ; an exec'd command expects the defaults
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(signum, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            report(report_w, {'step': 'exec', 'errno': exc.errno, 'error': exc.strerror or str(exc)})
            os._exit(127 if exc.errno in (errno.ENOENT, errno.EACCES) else SETUP_FAILED)
    except BaseException as exc:  # pylint: disable=broad-except
        report(report_w, {'step': 'prepare the child', 'error': str(exc), 'errno': getattr(exc, 'errno', None)})
    os._exit(SETUP_FAILED)


def spawn(argv: list[str], setup: Callable[[int], object] | None = None, stdin: bytes | None = None) -> Spawned:
    """Run argv; setup(report_fd), if given, runs in the child before exec.
    stdin is bytes or None (then /dev/null). Returns a Spawned."""
    parent_fds: list[int] = []
    child_fds: list[int] = []
    try:
        if stdin is None:
            child_in = os.open(os.devnull, os.O_RDONLY)
            parent_in: int | None = None
        else:
            child_in, parent_in = os.pipe()
        child_fds.append(child_in)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        report_r, report_w = os.pipe()  # both ends close on exec (PEP 446)
        child_fds.extend([out_w, err_w, report_w])
        parent_fds.extend([fd for fd in (parent_in, out_r, err_r, report_r) if fd is not None])
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(argv, setup, (child_in, out_w, err_w), report_w)
        for fd in child_fds:
            os.close(fd)
        child_fds = []
        parent_fds = []  # _pump closes them, whatever happens
        captured = _pump(parent_in, stdin, {out_r: [], err_r: [], report_r: []})
        status = os.waitpid(pid, 0)[1]
    finally:
        for fd in child_fds + parent_fds:
            os.close(fd)
    reports = [
        json.loads(line)
        for line in b''.join(captured[report_r]).decode('utf-8', 'replace').splitlines()
        if line.strip()
    ]
    return Spawned(os.waitstatus_to_exitcode(status), b''.join(captured[out_r]), b''.join(captured[err_r]), reports)


def _pump(stdin_fd: int | None, data: bytes | None, outputs: dict[int, list[bytes]]) -> dict[int, list[bytes]]:
    """Feed data to stdin_fd while reading every fd of outputs to its end
    (all at once, so a command filling one pipe never blocks on another).
    Closes every fd it was given."""
    selector = selectors.DefaultSelector()
    for fd in outputs:
        selector.register(fd, selectors.EVENT_READ)
    view = memoryview(data or b'')
    if stdin_fd is not None:
        os.set_blocking(stdin_fd, False)
        if view:
            selector.register(stdin_fd, selectors.EVENT_WRITE)
        else:
            os.close(stdin_fd)
    try:
        while selector.get_map():
            for key, _events in selector.select():
                fd = key.fd
                if fd == stdin_fd:
                    try:
                        view = view[os.write(fd, view[:CHUNK]) :]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # the command stopped reading: as with Popen
                        view = view[:0]
                    if not view:
                        selector.unregister(fd)
                        os.close(fd)
                    continue
                chunk = os.read(fd, CHUNK)
                if chunk:
                    outputs[fd].append(chunk)
                else:
                    selector.unregister(fd)
                    os.close(fd)
    finally:
        for key in list(selector.get_map().values()):
            os.close(key.fd)
        selector.close()
    return outputs
