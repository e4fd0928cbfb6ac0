# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pin directories: creation, mount propagation and the per-directory lock.

Only called on the way to a change: check mode and read-only calls never
reach this module, so they create nothing, not even a directory.
"""

from __future__ import annotations

import errno
import fcntl
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo, syscalls

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


def ensure_directory(directory: str) -> None:
    try:
        os.makedirs(directory, 0o755)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(directory):
            raise NamespaceError.from_os_error(exc, 'cannot create the pin directory', path=directory)


@contextmanager
def locked(directories: Iterable[str]) -> Iterator[None]:
    """Hold flock(LOCK_EX) on each directory, taken in sorted order so two
    callers locking overlapping sets cannot deadlock. iproute2 locks
    NETNS_RUN_DIR the same way, so our net pins and `ip netns add` serialise."""
    fds = []
    try:
        for directory in sorted(set(directories)):
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            fds.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)


def _self_bind(directory: str) -> None:
    syscalls.mount(directory, directory, None, syscalls.MS_BIND | syscalls.MS_REC)


def _has_mounts_below(directory: str) -> bool:
    prefix = directory.rstrip('/') + '/'
    return any(m.mount_point.startswith(prefix) for m in mountinfo.read())


def make_shared(directory: str) -> None:
    """Make directory a shared mount of itself, as `ip netns add` does.

    Shared, so that removing a pin also removes its copies in mount
    namespaces created later (ip netns exec, our mnt pins); private before
    shared, so that under an already shared /run the self-bind does not join
    /run's peer group and every pin is exactly one nsfs mount.
    """
    try:
        syscalls.mount(None, directory, None, syscalls.MS_SHARED | syscalls.MS_REC)
        return
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    if _has_mounts_below(directory):
        # Pins made by another tool before the directory became a mount:
        # a recursive self-bind would copy them and hide the originals, which
        # could then never be unmounted. Leave the propagation as it is.
        return
    _self_bind(directory)
    syscalls.mount(None, directory, None, syscalls.MS_PRIVATE | syscalls.MS_REC)
    syscalls.mount(None, directory, None, syscalls.MS_SHARED | syscalls.MS_REC)


def make_unbindable(directory: str) -> None:
    """A mount namespace file can only be bound onto a mount that does not
    propagate (the kernel refuses with EINVAL): give the directory a mount of
    its own and make it unbindable, as cri-o's pinns does."""
    if not mountinfo.is_mount_point(directory):
        if _has_mounts_below(directory):
            return  # see make_shared; a bind that needs it will say EINVAL
        _self_bind(directory)
    syscalls.mount(None, directory, None, syscalls.MS_UNBINDABLE)


def prepare(directory: str, nstype: str) -> None:
    """Create the pin directory of nstype and set its propagation.

    Call with the directory's lock held (create it first with
    ensure_directory, since the lock is taken on the directory itself).
    """
    try:
        if nstype == 'net':
            make_shared(directory)
        elif nstype == 'mnt':
            make_unbindable(directory)
    except OSError as exc:
        raise NamespaceError.from_os_error(
            exc, f'cannot set the mount propagation of the {nstype} pin directory', path=directory
        )
