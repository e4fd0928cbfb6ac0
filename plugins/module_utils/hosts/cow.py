# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The copy-on-write /etc and /var of a host on the machine's own root, at
any overlay depth the machine has.

The kernel stacks at most two overlayfs levels (FILESYSTEM_MAX_STACK_DEPTH):
where /etc is already an overlay over an overlay (a test sandbox inside a
container, the demo run inside another sandbox), one more overlay on it is
refused with EINVAL. Sandboxes lay their overlay over the very directory
they cover (lowerdir=/etc on /etc). Such an overlay is taken apart in the
host's own mount namespace: its upper layer becomes the host's first lower
layer, and what it covered, uncovered, the next: the same files, one level
less deep. Runs in the host's new, private mount namespace only.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo, syscalls

if TYPE_CHECKING:
    from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.mountinfo import Mount


def mount_cow(directory: str, layers: str) -> None:
    """Mount a copy-on-write view of directory over it, its upper and work
    directories in layers (the host's DATA_DIR/NAME/etc, .../var)."""
    # by descriptor: a data_dir with ',' or ':' in its path cannot break the options
    layers_fd = os.open(layers, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        own = f'upperdir=/proc/self/fd/{layers_fd}/upper,workdir=/proc/self/fd/{layers_fd}/work'
        try:
            syscalls.mount('overlay', directory, 'overlay', 0, f'lowerdir={directory},{own}')
            return
        except OSError as exc:
            if exc.errno != errno.EINVAL or syscalls.statfs_type(directory) != syscalls.OVERLAYFS_MAGIC:
                raise
        _mount_flattened(directory, own)
    finally:
        os.close(layers_fd)


def top_mount(directory: str, mounts: list[Mount] | None = None) -> Mount | None:
    """The mount that shows at directory: of those stacked there, the one no other sits on."""
    stacked = mountinfo.mounts_at(directory, mounts)
    below = set(m.parent_id for m in stacked)
    visible = [m for m in stacked if m.mount_id not in below]
    return visible[-1] if visible else None


def _too_deep(directory: str, detail: str) -> OSError:
    return OSError(
        errno.EINVAL,
        f'{directory} is an overlay over an overlay already, and the kernel stacks at most two overlayfs '
        f'levels; {detail}. Use root: with a distribution tree on a filesystem that is not '
        'overlayfs, or run the host one overlay level shallower',
    )


def _mount_flattened(directory: str, own: str) -> None:
    top = top_mount(directory)
    lower, upper = mountinfo.overlay_layers(top.super_options) if top is not None else ([], None)
    if lower != [directory] or not upper:
        raise _too_deep(
            directory,
            f"its overlay (lowerdir={':'.join(lower) or '?'}) is not laid over {directory} itself, "
            "so its layers cannot be laid under the host's",
        )
    try:
        upper_fd = os.open(upper, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise _too_deep(directory, f'its overlay\'s upper layer {upper} cannot be reached ({exc.strerror})')
    try:
        syscalls.umount2(directory, syscalls.MNT_DETACH)
        try:
            syscalls.mount('overlay', directory, 'overlay', 0, f'lowerdir=/proc/self/fd/{upper_fd}:{directory},{own}')
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            raise _too_deep(
                directory,
                'it stays too deep with its top overlay taken apart (what that overlay '
                'covered is an overlay over an overlay too)',
            )
    finally:
        os.close(upper_fd)
