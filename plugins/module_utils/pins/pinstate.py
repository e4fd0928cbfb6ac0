# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a pin path holds: a live pin, nothing, a stale file, or something else.

A pin is a bind mount of an nsfs file. It is judged by what the kernel says
about the open file (filesystem magic, NS_GET_NSTYPE, dev+ino), never by the
name or by a directory listing.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
import time
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo, syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import BY_FLAG, TYPES

if TYPE_CHECKING:
    from typing import Callable, TypedDict

    class PinDict(TypedDict):
        """A pin as modules return it (pins[] of nsfd.namespaces.namespace)."""

        type: str
        path: str
        inode: int | None
        dev: int | None


ABSENT = 'absent'
PRESENT = 'present'
# An empty regular file that nothing is mounted on: what a crash between
# creating the pin file and binding it (or an unmount without unlink) leaves.
STALE = 'stale'
# An nsfs mount of another namespace type than the one asked for.
WRONG_TYPE = 'wrong_type'
# A directory, a non-empty file, a symlink, another filesystem mounted there.
NOT_A_PIN = 'not_a_pin'
# Anything but an nsfs mount outside the pin directories (see
# in_pin_directory): another program's file, such as dpkg's lock. Never
# touched: creating there fails, removing leaves it alone.
FOREIGN = 'foreign'

# Where a file that is not (or no longer) a pin may be treated as a pin file.
RUN = '/run'


@dataclasses.dataclass(frozen=True, repr=False)
class PinLocation:
    """Where the pin of one namespace type of a named namespace lives."""

    # A dataclass without defaults keeps its __slots__ (thousands of pins in one call).
    __slots__ = ('name', 'type', 'path')

    name: str
    type: str
    path: str

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)

    def __repr__(self) -> str:
        return f'PinLocation({self.name!r}, {self.type!r}, {self.path!r})'

    def __reduce__(self) -> tuple[Callable[..., PinLocation], tuple[str, str, str]]:
        # Frozen with __slots__ (Python 3.9 has no slots=True): copy and pickle
        # would restore the slots by assignment, which frozen refuses.
        return (PinLocation, (self.name, self.type, self.path))


@dataclasses.dataclass(frozen=True, repr=False)
class PinState:
    """The inspected state of one pin path."""

    location: PinLocation
    state: str
    dev: int | None = None
    ino: int | None = None
    actual_type: str | None = None
    detail: str | None = None

    @property
    def present(self) -> bool:
        return self.state == PRESENT

    @property
    def identity(self) -> tuple[int | None, int | None] | None:
        return (self.dev, self.ino) if self.present else None

    def as_dict(self) -> PinDict:
        return {
            'type': self.location.type,
            'path': self.location.path,
            'inode': self.ino if self.present else None,
            'dev': self.dev if self.present else None,
        }

    def __repr__(self) -> str:
        return f'PinState({self.location.path!r}, {self.state}, ino={self.ino!r}, {self.detail})'


def canonical_path(path: str) -> str:
    """path with its directory resolved (symlinks, '..'), its last component
    kept as it is: a pin is judged by lstat/O_NOFOLLOW, never through a
    symlink at that name.

    /proc/self/mountinfo and the directory locks know a pin only by its real
    path: reached through /var/run -> /run it would not be recognised as a
    mount point, and a directory self-bind would copy the pins already there
    (two mounts, and `ip netns del` fails with EBUSY).
    """
    directory, base = os.path.split(os.path.normpath(path))
    return os.path.join(os.path.realpath(directory), base)


def canonical_dir(directory: str) -> str:
    return os.path.realpath(directory)


def location(name: str, nstype: str, pin_dir: str | None = None, path: str | None = None) -> PinLocation:
    if path:
        return PinLocation(name, nstype, canonical_path(path))
    return PinLocation(name, nstype, canonical_path(os.path.join(pin_dir or TYPES[nstype].default_dir, name)))


def default_dirs() -> frozenset[str]:
    return frozenset(canonical_dir(t.default_dir) for t in TYPES.values())


def in_pin_directory(loc: PinLocation, st: os.stat_result) -> bool:
    """Whether loc is a place where this collection (or iproute2) makes pins,
    so that an empty file there can only be a pin file left by a crash.

    That is: a per-type default directory (/run/netns, /run/utsns, ...), or
    a file with mode 000 under /run (how this collection and iproute2 create
    pin files). Being a mount point says nothing: /run/lock and
    /run/user/UID are tmpfs mounts full of other programs' empty lock files.
    Anywhere else an empty file belongs to someone else: dpkg's lock,
    /etc/.pwd.lock.
    """
    directory = loc.directory
    if directory in default_dirs():
        return True
    return directory.startswith(RUN + '/') and stat.S_IMODE(st.st_mode) == 0


def open_nsfs(path: str, follow: bool = False) -> tuple[int, str | None, os.stat_result]:
    """Open path read-only and return (fd, type name, stat) when it is an
    nsfs file, or (fd, None, stat) when it is not. The caller closes fd."""
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK
    if not follow:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if syscalls.fstatfs_type(fd) != syscalls.NSFS_MAGIC:
            return fd, None, st
        nstype = BY_FLAG.get(syscalls.ns_get_type(fd))
        return fd, nstype.name if nstype else '?', st
    except Exception:
        os.close(fd)
        raise


# How often an observation that contradicts itself is taken again (see inspect).
_ATTEMPTS = 5
MOUNTED_OVER = 'has a non-namespace filesystem mounted on it'


def inspect(loc: PinLocation, mounts: list[mountinfo.Mount] | None = None) -> PinState:
    """Inspect loc.path without changing anything.

    Before a caller holds the directory locks another process may be pinning
    or unpinning right there. An observation that contradicts itself - the
    file gone between lstat and open, or a mount listed that the opened file
    is not on (it came after the open) - is taken again, so a pin half-way
    through its bind is never reported as someone else's file."""
    for attempt in range(_ATTEMPTS - 1):
        try:
            state = _inspect_once(loc, mounts)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise
        else:
            if state.detail != MOUNTED_OVER:
                return state
        mounts = None  # read the mount table afresh
        time.sleep(0.002 * (attempt + 1))
    return _inspect_once(loc, None)


def _inspect_once(loc: PinLocation, mounts: list[mountinfo.Mount] | None) -> PinState:
    try:
        lst = os.lstat(loc.path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return PinState(loc, ABSENT)
        raise
    state = _inspect_file(loc, lst, mounts)
    if state.state in (NOT_A_PIN, STALE) and not in_pin_directory(loc, lst):
        what = 'is an empty regular file' if state.state == STALE else state.detail
        return PinState(
            loc,
            FOREIGN,
            detail=f'{what}, and {loc.directory} is not a pin directory (the /run/*ns defaults, '
            'or a mode-000 pin file under /run)',
        )
    return state


def _inspect_file(loc: PinLocation, lst: os.stat_result, mounts: list[mountinfo.Mount] | None) -> PinState:
    if stat.S_ISLNK(lst.st_mode):
        return PinState(loc, NOT_A_PIN, detail='is a symbolic link')
    if stat.S_ISDIR(lst.st_mode):
        return PinState(loc, NOT_A_PIN, detail='is a directory')
    if not stat.S_ISREG(lst.st_mode):
        # Never open a device or a FIFO just to look at it.
        return PinState(loc, NOT_A_PIN, detail=f'is a special file (mode {lst.st_mode:o})')
    fd, actual, st = open_nsfs(loc.path)
    os.close(fd)
    if actual == loc.type:
        return PinState(loc, PRESENT, dev=st.st_dev, ino=st.st_ino, actual_type=actual)
    if actual is not None:
        return PinState(
            loc,
            WRONG_TYPE,
            dev=st.st_dev,
            ino=st.st_ino,
            actual_type=actual,
            detail=f'holds a {actual} namespace, not a {loc.type} namespace',
        )
    if mountinfo.is_mount_point(loc.path, mounts):
        return PinState(loc, NOT_A_PIN, detail=MOUNTED_OVER)
    if st.st_size == 0:
        return PinState(loc, STALE, detail='is an empty file with no namespace mounted on it')
    return PinState(loc, NOT_A_PIN, detail=f'is a regular file with {st.st_size} bytes of data')
