# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's installed pyroute2 as a wheel in the directory argv[1].

For hosts when no package index can be reached (an execution environment's
own copy, say), the netns role runs it on the controller with
ansible_playbook_python. The wheel holds every file the distribution
installed under site-packages (console scripts outside it and bytecode left
out). It says "Saved PATH" as pip download does: the role reads the path
from that line.
"""

from __future__ import annotations

import os
import sys
import zipfile
from importlib import metadata


def pack(directory: str) -> str:
    """The path of the wheel written into directory (made if missing)."""
    dist = metadata.distribution('pyroute2')
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f'pyroute2-{dist.version}-py3-none-any.whl')
    # written aside and renamed: a wheel of that name is always a whole one
    with zipfile.ZipFile(path + '.part', 'w', zipfile.ZIP_DEFLATED) as archive:
        # a distribution without a RECORD (files None) fails here, with nothing to ship
        for name in dist.files:  # type: ignore[union-attr]
            if name.parts[0] != '..' and '__pycache__' not in name.parts:
                archive.write(dist.locate_file(name), name.as_posix())
    os.replace(path + '.part', path)
    return path


if __name__ == '__main__':
    print(f'Saved {pack(sys.argv[1])}')
