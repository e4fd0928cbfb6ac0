# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of namespace names, types and pin paths, done before any change."""

from __future__ import annotations

import os
import unicodedata
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES, ordered

if TYPE_CHECKING:
    from collections.abc import Sequence

NAME_MAX = 255


def unprintable(text: str) -> bool:
    """Whether text holds a control, format or separator character (C0, DEL,
    C1 such as U+0085, U+2028...): invisible in logs and `ip` output."""
    return any(unicodedata.category(c)[0] in 'CZ' and c != ' ' for c in text)


def name_problem(name: Any) -> str | None:
    """Why name cannot be a namespace name, or None when it can.

    The rules are iproute2's (a file name in the pin directory) plus what
    makes a name unsafe to pass around: control characters, and a leading
    '-' that commands would read as an option. A numeric name is a name.
    """
    if not isinstance(name, str):
        return f'must be a string, not {type(name).__name__}'
    if name == '':
        return 'must not be empty'
    if name in ('.', '..'):
        return "must not be '.' or '..'"
    if '/' in name:
        return "must not contain '/'"
    if '\x00' in name:
        return 'must not contain a NUL byte'
    if unprintable(name):
        return 'must not contain control characters'
    if name.startswith('-'):
        return "must not start with '-'"
    try:
        size = len(name.encode('utf-8'))
    except UnicodeEncodeError:
        return 'must be valid UTF-8'
    if size > NAME_MAX:
        return f'must be at most {NAME_MAX} bytes, not {size}'
    return None


def check_name(name: Any, field: str = 'name') -> str:
    problem = name_problem(name)
    if problem:
        raise NamespaceError(
            f'{field} {name!r} {problem}', hint='Choose a plain file name such as "blue" or "tenant-1".'
        )
    return name


def check_types(types: str | Sequence[str], field: str = 'type') -> list[str]:
    """Normalise a type or list of types to a list in creation order."""
    if isinstance(types, str):
        types = [types]
    if not types:
        raise NamespaceError(f'{field} must name at least one namespace type')
    unknown = [t for t in types if t not in TYPES]
    if unknown:
        raise NamespaceError(
            f'{field} has unknown namespace type(s) {", ".join(map(str, unknown))}; valid types are {", ".join(TYPES)}'
        )
    return ordered(types)


def _check_absolute(path: Any, field: str) -> None:
    if not isinstance(path, str) or not path:
        raise NamespaceError(f'{field} must be a non-empty path, not {path!r}')
    if unprintable(path):
        raise NamespaceError(f'{field} {path!r} must not contain NUL or other control characters')
    if not os.path.isabs(path):
        raise NamespaceError(f'{field} {path!r} must be an absolute path')


def check_pin_path(path: Any, field: str = 'path') -> str:
    _check_absolute(path, field)
    if path.endswith('/') or os.path.basename(path) in ('.', '..'):
        raise NamespaceError(f'{field} {path!r} must name a file, not a directory')
    return os.path.normpath(path)


def check_pin_dir(pin_dir: Any, field: str = 'pin_dir') -> str:
    """A directory to keep pins in. Never the root: a pin directory is made
    a shared (or, for mnt pins, private) mount of itself."""
    _check_absolute(pin_dir, field)
    normal = os.path.normpath(pin_dir)
    if normal == '/' or os.path.realpath(normal) == '/':
        raise NamespaceError(
            f'{field} {pin_dir!r} must not be the root directory: pin directories are made mounts of their own',
            hint='Use a directory under /run, such as /run/netns.',
        )
    return normal
