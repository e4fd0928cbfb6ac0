# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A forked helper process and the line protocol the engine speaks with it.

Every namespace change happens in a child: the module process itself never
leaves its own namespaces. The child reports over a pipe, one line per step,
so a failure comes back with its errno instead of a bare exit status.
"""

from __future__ import annotations

import json
import os
import select
import signal
import traceback
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar('T')

DEFAULT_TIMEOUT = 30.0


class ChildFailed(Exception):
    def __init__(self, step: str, errno: int | None = None, message: str | None = '') -> None:
        self.step = step
        self.errno = errno
        self.message = message
        super().__init__(f'{step}: {message}')


def step(name: str, func: Callable[..., T], *args: Any) -> T:
    """func(*args) in a child, an OSError told as ChildFailed of that step
    (its errno and words), which the parent's receive() raises."""
    try:
        return func(*args)
    except OSError as exc:
        raise ChildFailed(name, exc.errno, exc.strerror or str(exc))


class Child:
    """Run target(channel) in a forked process.

    The child's side calls channel.send(obj) and channel.receive(); an
    exception in the child is sent as {'error': ...} and raised in the
    parent as ChildFailed by receive().
    """

    def __init__(
        self,
        target: Callable[[_Channel], object],
        die_with_parent: bool = True,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.timeout = timeout
        c2p_r, c2p_w = os.pipe()
        p2c_r, p2c_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.close(c2p_r)
                os.close(p2c_w)
                code = _run_child(target, _Channel(p2c_r, c2p_w), die_with_parent)
            finally:
                # Never unwind into the parent's code, whatever happened.
                os._exit(code)
        os.close(c2p_w)
        os.close(p2c_r)
        self.channel = _Channel(c2p_r, p2c_w, timeout)

    def receive(self) -> Any:
        message = self.channel.receive()
        if message is None:
            raise ChildFailed('child', None, f'the helper process exited without a report ({self.finish()})')
        if isinstance(message, dict) and 'error' in message:
            raise ChildFailed(message.get('step', 'child'), message.get('errno'), message['error'])
        return message

    def send(self, obj: Any) -> None:
        self.channel.send(obj)

    def finish(self) -> str:
        """Close the pipes (the child sees EOF and exits) and reap it."""
        self.channel.close()
        status = os.waitpid(self.pid, 0)[1]
        if os.WIFSIGNALED(status):
            return f'killed by signal {os.WTERMSIG(status)}'
        return f'exit status {os.WEXITSTATUS(status)}'

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.finish()


def _run_child(
    target: Callable[[_Channel], object], channel: _Channel, die_with_parent: bool
) -> int:  # pragma: no cover - runs in the child
    try:
        if die_with_parent:
            syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        target(channel)
        return 0
    except ChildFailed as exc:
        report = {'error': exc.message, 'step': exc.step, 'errno': exc.errno}
    except OSError as exc:
        report = {'error': exc.strerror or str(exc), 'step': 'child', 'errno': exc.errno}
    except BaseException:  # noqa: B902 - report anything to the parent
        report = {'error': traceback.format_exc(), 'step': 'child', 'errno': None}
    try:
        channel.send(report)
    except OSError:
        pass  # the parent is gone or stopped listening
    return 1


class _Channel:
    def __init__(self, read_fd: int, write_fd: int, timeout: float | None = None) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.timeout = timeout
        self.buffer = b''

    def send(self, obj: Any) -> None:
        data = (json.dumps(obj) + '\n').encode('utf-8')
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]

    def receive(self) -> Any:
        while b'\n' not in self.buffer:
            if self.timeout is not None:
                # poll, not select: callers may hold more than 1024 fds
                poller = select.poll()
                poller.register(self.read_fd, select.POLLIN)
                if not poller.poll(self.timeout * 1000):
                    raise ChildFailed('child', None, f'the helper process did not answer within {self.timeout:g}s')
            chunk = os.read(self.read_fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b'\n', 1)
        return json.loads(line.decode('utf-8'))

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.read_fd = self.write_fd = -1
