# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small files written whole: read to compare, write atomically."""

from __future__ import annotations

import errno
import os
import tempfile


def read_text(path: str) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def write_atomically(path: str, content: str, mode: int = 0o644) -> None:
    """Readers see the old file or the new one, never half of it."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f'.{os.path.basename(path)}.')
    try:
        with os.fdopen(handle, 'w') as out:
            out.write(content)
        os.chmod(temp, mode)
        os.rename(temp, path)
    except Exception:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def remove(path: str) -> bool:
    """Remove a file or symlink; True when there was one."""
    try:
        os.unlink(path)
        return True
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
