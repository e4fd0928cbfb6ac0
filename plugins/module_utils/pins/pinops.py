# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two changes a pin can undergo: bind an nsfs fd onto a path, and unpin.

Call with the pin directory prepared and locked (see pindir).
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls

if TYPE_CHECKING:
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PinLocation

# A path may carry several stacked mounts (pinns' EEXIST handling stacks
# them); unpinning removes them all, with a bound against a kernel loop.
_MAX_STACKED = 64


def bind_fd(loc: PinLocation, fd: int, replace: bool = False) -> None:
    """Pin the namespace behind fd at loc.path.

    The pin file is created with mode 0 like iproute2 does, so a leftover
    shows as '----------' in ls. The source is /proc/self/fd/N, the nsfd of
    the seed patches: what we bind is exactly the namespace we opened and
    checked, whatever happened to the process it came from since.
    """
    created = False
    if replace:
        detach_all(loc.path)
    else:
        try:
            os.close(os.open(loc.path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0))
            created = True
        except OSError as exc:
            raise NamespaceError.from_os_error(exc, 'cannot create the pin file', name=loc.name, path=loc.path)
    try:
        syscalls.mount(f'/proc/self/fd/{fd}', loc.path, None, syscalls.MS_BIND)
    except OSError as exc:
        if created:
            _unlink_quietly(loc.path)
        hint = None
        if exc.errno == errno.EINVAL and loc.type == 'mnt':
            hint = (
                'A mount namespace can only be pinned from an older mount namespace, '
                'onto a mount that does not propagate; pin it from the namespace the '
                'target was created from.'
            )
        raise NamespaceError.from_os_error(
            exc, f'cannot bind-mount the {loc.type} namespace', name=loc.name, path=loc.path, hint=hint
        )


def detach_all(path: str) -> int:
    """Lazily unmount everything stacked on path. Returns how many mounts."""
    count = 0
    while count < _MAX_STACKED:
        try:
            syscalls.umount2(path, syscalls.MNT_DETACH | syscalls.UMOUNT_NOFOLLOW)
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.ENOENT):
                return count
            raise
        count += 1
    return count


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def unpin(loc: PinLocation) -> None:
    """Unmount and unlink, both always attempted, like `ip netns delete`.

    The namespace itself lives on while processes are inside it.
    """
    failure = None
    try:
        detach_all(loc.path)
    except OSError as exc:
        failure = NamespaceError.from_os_error(exc, f'cannot unmount the {loc.type} pin', name=loc.name, path=loc.path)
    try:
        os.unlink(loc.path)
    except OSError as exc:
        if exc.errno != errno.ENOENT and failure is None:
            failure = NamespaceError.from_os_error(exc, 'cannot remove the pin file', name=loc.name, path=loc.path)
    if failure:
        raise failure
