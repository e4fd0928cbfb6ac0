# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One netns_config run at a time per host.

Two runs at once would each plan from the same starting state and then race
(both create the same veth: EEXIST), and the second record write would lose
the first's names. A run therefore holds flock(LOCK_EX) on LOCK_PATH from
before it reads anything until its record is written; the next run waits,
then plans from what the first one left. The kernel drops the lock when the
holder dies, even by SIGKILL, so a crashed run never blocks the next.

Check mode must not create files: it takes a shared lock (waiting for a real
run to finish, never for another check) only when the lock file exists. When
it does not, no real run has ever started on this host since boot.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import os
import time

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError, default_hint

# Under /run: a lock means nothing after a reboot, and /run is root's alone.
LOCK_PATH = '/run/nsfd-netns-config.lock'
TIMEOUT = 900


@dataclasses.dataclass(eq=False)
class HostLock:
    """The lock file's descriptor (None: released, or a check run on a host
    without a lock file) and its path. Compared by identity (eq=False)."""

    fd: int | None
    path: str

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor releases the flock
            self.fd = None

    def __enter__(self) -> HostLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode('ascii', 'replace').strip() or 'unknown'
    except OSError:
        return 'unknown'


def acquire(path: str = LOCK_PATH, check_mode: bool = False, timeout: float = TIMEOUT) -> HostLock:
    """The host lock, held until release(). Raises NamespaceError when
    another run holds it for longer than timeout seconds."""
    flags = os.O_CLOEXEC | os.O_NOFOLLOW | (os.O_RDONLY if check_mode else os.O_RDWR | os.O_CREAT)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if check_mode and exc.errno == errno.ENOENT:
            return HostLock(None, path)
        raise NamespaceError.from_os_error(
            exc,
            'cannot open the netns_config host lock',
            path=path,
            hint=default_hint(exc.errno) or f'Remove whatever is at {path}.',
        )
    operation = fcntl.LOCK_SH if check_mode else fcntl.LOCK_EX
    deadline = time.time() + timeout
    delay = 0.01
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EINTR):
                os.close(fd)
                raise NamespaceError.from_os_error(exc, 'cannot lock the netns_config host lock', path=path)
        if time.time() >= deadline:
            holder = _holder(fd)
            os.close(fd)
            raise NamespaceError(
                f'another netns_config run (pid {holder}) has held the host lock for over {int(timeout)} seconds',
                path=path,
                errno=errno.EWOULDBLOCK,
                hint='Wait for it to finish, or stop it if it hangs; its lock goes with it.',
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    if not check_mode:
        # who holds it, for the message of a run that gives up waiting
        os.ftruncate(fd, 0)
        os.pwrite(fd, (f'{os.getpid()}\n').encode('ascii'), 0)
    return HostLock(fd, path)
