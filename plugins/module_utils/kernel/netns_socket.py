# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netlink sockets and /proc/sys files bound to another network namespace,
without a helper process.

A socket belongs to the network namespace it was created in, and a
/proc/sys/net file to the one it was opened in. So the calling thread
enters the namespace just long enough to create or open one, and returns
at once: the socketat() of the seed patches, built from setns(). The
thread is never left elsewhere: failing to return is fatal.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import rtnl, syscalls

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any

    from pyroute2 import IPRoute

# pyroute2 is imported only when a change is to be made: a rerun that finds
# everything in place reads over plain netlink and never pays for the import.
try:
    from importlib.util import find_spec

    HAS_PYROUTE2 = find_spec('pyroute2') is not None
except ImportError:  # pragma: no cover - Python without importlib.util
    HAS_PYROUTE2 = False
PYROUTE2_IMPORT_ERROR = None if HAS_PYROUTE2 else 'No module named pyroute2'

# The oldest pyroute2 the modules' tests pass with (measured: 0.5.19, 0.6.1,
# 0.6.5 and 0.6.9 fail, 0.6.13 to 0.9.7 pass; requirements.txt and the netns role say the same,
# tests/test_pyroute2_floor.py keeps them equal). An older one fails the task
# before anything is changed.
PYROUTE2_FLOOR = '0.6.13'


def _version_tuple(text: str | None) -> tuple[int, ...] | None:
    """(0, 7, 12) from '0.7.12', '0.7.12.post1' or '0.9.0rc1'; None when text holds no version."""
    match = re.match(r'(\d+(?:\.\d+)*)', text or '')
    return tuple(int(p) for p in match.group(1).split('.')) if match else None


def pyroute2_version() -> str | None:
    """The version of the pyroute2 this Python imports, read from its
    distribution metadata (importing pyroute2 costs milliseconds), or from
    the package itself when it has none; None when it cannot be told."""
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version('pyroute2')
        except PackageNotFoundError:
            pass
    except ImportError:  # pragma: no cover - Python before 3.8
        pass
    try:
        import pyroute2

        return getattr(pyroute2, '__version__', None)
    except Exception:  # pylint: disable=broad-except
        return None  # any import failure: the version cannot be told


def pyroute2_too_old(found: str | None = None) -> str | None:
    """None when the host's pyroute2 is at least PYROUTE2_FLOOR (or its version
    cannot be told); otherwise a message naming both versions and the remedy."""
    found = pyroute2_version() if found is None else found
    have = _version_tuple(found)
    if have is None or have >= cast('tuple[int, ...]', _version_tuple(PYROUTE2_FLOOR)):
        return None
    return (
        f'pyroute2 {found} on this host (imported by {sys.executable}) is older than {PYROUTE2_FLOOR}, '
        'the oldest this collection works with; '
        'nothing was changed. Install a newer one for the Python that runs the modules: with the '
        'nsfd.namespaces.netns role set netns_install_requirements: true (it puts pyroute2 into a virtualenv '
        f'of its own and runs the module there), or run: {(sys.executable or "python3")} -m pip install '
        f'"pyroute2>={PYROUTE2_FLOOR},<0.10" '
        '(or set ansible_python_interpreter to a Python that has it).'
    )


_HOME: list[int] = []


def home_fd() -> int:
    """An fd of the network namespace this process started in."""
    if not _HOME:
        _HOME.append(os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC))
    return _HOME[0]


@contextmanager
def inside(fd: int) -> Iterator[None]:
    home = home_fd()
    syscalls.setns(fd, syscalls.CLONE_NEWNET)
    try:
        yield
    finally:
        try:
            syscalls.setns(home, syscalls.CLONE_NEWNET)
        except OSError:  # pragma: no cover - the kernel refusing our own namespace
            os._exit(70)


def ipr_in(fd: int) -> IPRoute:
    """An IPRoute socket in the network namespace behind fd."""
    from pyroute2 import IPRoute

    with inside(fd):
        return IPRoute()


def rtnl_in(fd: int) -> rtnl.Socket:
    """A plain rtnl.Socket in the network namespace behind fd."""
    with inside(fd):
        return rtnl.Socket()


def open_in(fd: int, path: str, mode: str) -> IO[Any]:
    with inside(fd):
        return open(path, mode)
