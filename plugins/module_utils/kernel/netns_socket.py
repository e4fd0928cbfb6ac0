# -*- coding: utf-8 -*-
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

import os
from contextlib import contextmanager

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import rtnl, syscalls

# pyroute2 is imported only when a change is to be made: a rerun that finds
# everything in place reads over plain netlink and never pays for the import.
try:
    from importlib.util import find_spec
    HAS_PYROUTE2 = find_spec('pyroute2') is not None
except ImportError:  # pragma: no cover - Python without importlib.util
    HAS_PYROUTE2 = False
PYROUTE2_IMPORT_ERROR = None if HAS_PYROUTE2 else 'No module named pyroute2'


_HOME = []


def home_fd():
    """An fd of the network namespace this process started in."""
    if not _HOME:
        _HOME.append(os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC))
    return _HOME[0]


@contextmanager
def inside(fd):
    home = home_fd()
    syscalls.setns(fd, syscalls.CLONE_NEWNET)
    try:
        yield
    finally:
        try:
            syscalls.setns(home, syscalls.CLONE_NEWNET)
        except OSError:  # pragma: no cover - the kernel refusing our own namespace
            os._exit(70)


def ipr_in(fd):
    """An IPRoute socket in the network namespace behind fd."""
    from pyroute2 import IPRoute
    with inside(fd):
        return IPRoute()


def rtnl_in(fd):
    """A plain rtnl.Socket in the network namespace behind fd."""
    with inside(fd):
        return rtnl.Socket()


def open_in(fd, path, mode):
    with inside(fd):
        return open(path, mode)
