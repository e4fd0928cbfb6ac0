# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading /proc/self/mountinfo: which paths are mount points, and how."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterable


class Mount(NamedTuple):
    """One line of mountinfo: the propagation tags (shared:N, master:N...)
    and the filesystem's super options as the kernel shows them."""

    mount_id: int
    parent_id: int
    root: str
    mount_point: str
    fstype: str
    propagation: list[str]
    super_options: str


_ESCAPE = re.compile(r'\\([0-7]{3})')


def _unescape(field: str) -> str:
    # The kernel octal-escapes space, tab, newline and backslash.
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse(text: str) -> list[Mount]:
    mounts: list[Mount] = []
    for line in text.splitlines():
        fields = line.split(' ')
        try:
            sep = fields.index('-', 6)
        except ValueError:
            continue
        optional = fields[6:sep]
        propagation = [
            opt for opt in optional if opt.split(':')[0] in ('shared', 'master', 'propagate_from', 'unbindable')
        ]
        mounts.append(
            Mount(
                int(fields[0]),
                int(fields[1]),
                _unescape(fields[3]),
                _unescape(fields[4]),
                fields[sep + 1],
                propagation,
                fields[sep + 3] if len(fields) > sep + 3 else '',
            )
        )
    return mounts


def read(pid: int | str = 'self') -> list[Mount]:
    with open(f'/proc/{pid}/mountinfo') as handle:
        return parse(handle.read())


def mounts_at(path: str, mounts: Iterable[Mount] | None = None) -> list[Mount]:
    """The mounts stacked on exactly path, bottom first."""
    return [m for m in (read() if mounts is None else mounts) if m.mount_point == path]


def is_mount_point(path: str, mounts: Iterable[Mount] | None = None) -> bool:
    return bool(mounts_at(path, mounts))


def overlay_layers(super_options: str) -> tuple[list[str], str | None]:
    """(lower directories, upper directory) of an overlay mount's super
    options, as the kernel shows them: octal escapes (mountinfo's) and
    backslash escapes (overlayfs's, for ':' and ',') undone."""
    lower: list[str] = []
    upper: str | None = None
    for option in re.split(r'(?<!\\),', _unescape(super_options)):
        key, _sep, value = option.partition('=')
        if key == 'lowerdir':
            lower = [_unbackslash(v) for v in re.split(r'(?<!\\):', value)]
        elif key == 'upperdir':
            upper = _unbackslash(value)
    return lower, upper


def _unbackslash(value: str) -> str:
    return re.sub(r'\\(.)', r'\1', value)


def nsfs_mounts(mounts: Iterable[Mount] | None = None) -> list[Mount]:
    return [m for m in (read() if mounts is None else mounts) if m.fstype == 'nsfs']
