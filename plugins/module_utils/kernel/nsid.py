# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Network namespace ids (RTM_GETNSID/RTM_NEWNSID) over a plain netlink socket.

An nsid names a peer network namespace as seen from the caller's network
namespace; it is what `ip netns list-id` and `ip netns set` show and change.
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import rtnl

RTM_NEWNSID = 88
RTM_GETNSID = 90
NETNSA_NSID = 1
NETNSA_FD = 3
NSID_NOT_ASSIGNED = -1
RTGENMSG = struct.pack('=B3x', socket.AF_UNSPEC)


def get_nsid(fd: int) -> int | None:
    """The nsid of the network namespace behind fd, or None when unassigned."""
    with rtnl.Socket() as sock:
        reply = sock.request(RTM_GETNSID, RTGENMSG + rtnl.attr(NETNSA_FD, '=I', fd), flags=0)
    raw = rtnl.attributes(reply, len(RTGENMSG), len(reply)).get(NETNSA_NSID) if reply else None
    if raw is None:
        return None
    value: int = struct.unpack('=i', raw)[0]
    return None if value == NSID_NOT_ASSIGNED else value


def set_nsid(fd: int, nsid: int) -> None:
    """Assign nsid to the network namespace behind fd. The kernel refuses
    (EEXIST) when it already has one or the id is taken."""
    with rtnl.Socket() as sock:
        sock.request(RTM_NEWNSID, RTGENMSG + rtnl.attr(NETNSA_FD, '=I', fd) + rtnl.attr(NETNSA_NSID, '=i', nsid))


def nsid_of_path(path: str) -> int | None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return get_nsid(fd)
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
            return None
        raise
    finally:
        os.close(fd)
