# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The holder: the init process of a pid namespace this collection creates.

A pid namespace dies with its init, so the holder is what keeps it (and, as
long as it lives, the other namespaces of its set) usable. It must never
outlive its purpose:

- A handshake ties it to its creator until the pins exist: it waits on a
  socket for the creator's word that the set is pinned and acknowledges it.
  If the creator dies (SIGKILL, OOM) or gives up first, the socket reaches
  EOF and the holder exits, taking its namespaces with it.
- Its command line carries HOLDER_MARKER, the namespace name and its pid pin
  path (its label), so later runs can find holders whose pid namespace is
  pinned nowhere (orphans, left by older versions) and end them.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import socket
import sys
from typing import TYPE_CHECKING, NoReturn, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import procscan
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.procscan import HOLDER_MARKER

if TYPE_CHECKING:
    from typing import TypedDict

    class Orphan(TypedDict):
        """A holder whose pid namespace is pinned nowhere (see orphans)."""

        pid: int
        name: str | None  # None for a holder without a label
        pin: str | None  # None for a holder of older versions (name only)
        inode: int
        pids: list[int]


# The holder's end of the handshake socket, as the holder sees it.
HANDSHAKE_FD = 3
PINNED = b'p'
ACK = b'k'
ACK_TIMEOUT = 30.0

# The init of a pid namespace we create. First the handshake: anything but
# PINNED (EOF when the creator died) ends it before it holds anything for
# long. Then it reaps orphans (what an init owes the processes later started
# inside) and otherwise waits. Signals are taken synchronously, so there is
# no race between reaping and waiting.
HOLDER_CODE = (
    'import os,signal\n'
    'for s in (signal.SIGINT,signal.SIGHUP,signal.SIGQUIT,signal.SIGTSTP): signal.signal(s,signal.SIG_IGN)\n'
    f'if os.read({HANDSHAKE_FD},1)!={PINNED!r}: os._exit(0)\n'
    f'os.write({HANDSHAKE_FD},{ACK!r}); os.close({HANDSHAKE_FD})\n'
    'w={signal.SIGCHLD,signal.SIGTERM}; signal.pthread_sigmask(signal.SIG_BLOCK,w)\n'
    'while signal.sigwaitinfo(w).si_signo!=signal.SIGTERM:\n'
    ' try:\n'
    '  while os.waitpid(-1,os.WNOHANG)[0]>0: pass\n'
    ' except ChildProcessError: pass\n'
)


class Holder:
    """The creator's side of one holder: its pid and the handshake socket."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.creator_end: socket.socket | None
        self.holder_end: socket.socket | None
        self.creator_end, self.holder_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

    def drop_holder_end(self) -> None:
        # Once the holder is forked, only it may keep this end.
        if self.holder_end is not None:
            self.holder_end.close()
            self.holder_end = None

    def close(self) -> None:
        self.drop_holder_end()
        if self.creator_end is not None:
            self.creator_end.close()
            self.creator_end = None

    def confirm(self, name: str) -> None:
        """Tell the holder its namespace is pinned and wait until it says it
        stays. Until then removal could not have told it from a stranger."""
        # Called once, before close(): the creator's end is still open.
        creator_end = cast(socket.socket, self.creator_end)
        try:
            creator_end.sendall(PINNED)
            poller = select.poll()
            poller.register(creator_end.fileno(), select.POLLIN)
            answer = creator_end.recv(1) if poller.poll(ACK_TIMEOUT * 1000) else None
        except OSError as exc:
            answer, error = None, exc.errno
        else:
            error = None
        finally:
            self.close()
        if answer != ACK:
            raise NamespaceError(
                f'the init (holder) process {self.pid} of the new pid namespace did not start',
                name=name,
                errno=error or errno.ECHILD,
                hint=f'Check that {sys.executable} runs on this host.',
            )

    def kill(self) -> None:
        self.close()
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass


def become(holder: Holder, name: str, pin: str) -> NoReturn:  # pragma: no cover - runs in the holder
    """Turn the forked process into the holder (never returns)."""
    # Forked before the creator dropped its copy: the holder's end is open here.
    handshake = fcntl.fcntl(cast(socket.socket, holder.holder_end).fileno(), fcntl.F_DUPFD, 10)
    os.setsid()
    os.chdir('/')
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.dup2(handshake, HANDSHAKE_FD)
    # Ansible waits for EOF on the module's pipes, and the creator's end of
    # the handshake must be the creator's alone: hold nothing else.
    os.closerange(HANDSHAKE_FD + 1, 65536)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    try:
        os.execv(sys.executable, [sys.executable, '-I', '-S', '-c', HOLDER_CODE, HOLDER_MARKER, name, pin])
    except OSError:
        # No usable interpreter under this uid (an unmapped user namespace):
        # be the holder in this already running Python.
        exec(HOLDER_CODE, {'__name__': HOLDER_MARKER})  # pylint: disable=exec-used
    os._exit(0)


def _label_matches(label: list[str], name: str, pin: str | None) -> bool:
    if len(label) >= 2:
        return label[0] == name and label[1] == pin
    # Holders started before labels carried the pin path: name only, in the default directory.
    return label == [name] and pin == os.path.join(TYPES['pid'].default_dir, name)


def orphans(name: str | None = None, pin: str | None = None) -> list[Orphan]:
    """Holders whose pid namespace is pinned nowhere and held by no other
    process (no open fd, no creator about to pin it): nothing can reach
    their namespaces by a name any more. With name and pin, only the
    holders labelled so. [{pid, name, pin, inode, pids}]"""
    candidates = [
        (pid, ino, label) for pid, ino, label in procscan.holders() if name is None or _label_matches(label, name, pin)
    ]
    if not candidates:
        return []
    held = procscan.pinned_everywhere('pid')
    held |= procscan.referenced_from_outside('pid', [ino for _pid, ino, _label in candidates if ino not in held])
    members = procscan.scan(['pid'])['pid']
    found: list[Orphan] = []
    for pid, ino, label in candidates:
        if ino in held:
            continue
        found.append(
            {
                'pid': pid,
                'name': label[0] if label else None,
                'pin': label[1] if len(label) >= 2 else None,
                'inode': ino,
                'pids': sorted(members.get(ino, [pid])),
            }
        )
    return found


def end(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
