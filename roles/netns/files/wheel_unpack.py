# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unpack the wheel argv[1] into the site-packages directory argv[2], after
removing the packages and dist-info directories an older pyroute2 left there.

The netns role runs it on the host (python -c, with the Python of its
virtualenv, which has no pip: stock Debian ships no ensurepip), so it needs
no package index and only the standard library of Python 3.9 or later. A
wheel is a zip archive; its dist-info directory, the last thing unpacked,
marks a complete install.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import zipfile


def stale_paths(names: list[str], site: str) -> list[str]:
    """What of site the wheel of names replaces: its top-level packages and modules, and every pyroute2 dist-info."""
    tops = set(name.split('/')[0] for name in names)
    stale = [os.path.join(site, top) for top in tops if not top.endswith('.dist-info')]
    stale += glob.glob(os.path.join(site, 'pyroute2-*.dist-info'))
    return stale


def unpack(wheel: str, site: str) -> None:
    archive = zipfile.ZipFile(wheel)
    for path in stale_paths(archive.namelist(), site):
        # a symlink goes, not what it points to
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
    archive.extractall(site)


if __name__ == '__main__':
    unpack(sys.argv[1], sys.argv[2])
