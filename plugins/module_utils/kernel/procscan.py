# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which processes are in which namespaces, read from /proc like lsns does."""

from __future__ import annotations

import os

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES

HOLDER_MARKER = 'nsfd-namespaces-holder'


def nsfs_dev():
    """st_dev of the nsfs superblock: every namespace shares it."""
    return os.stat('/proc/self/ns/net').st_dev


def _pids():
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            yield int(entry)


def _is_zombie(pid):
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X')
    except (OSError, IndexError):
        return True


def scan(types):
    """Map type -> {inode: [pid, ...]} for every live process in /proc.

    Processes that exit mid-scan are skipped. Zombies are not inside any
    namespace any more, but their pid and user namespace links stay until
    they are reaped, so they are filtered out here.
    """
    result = dict((t, {}) for t in types)
    for pid in _pids():
        if _is_zombie(pid):
            continue
        for nstype in types:
            try:
                link = os.readlink(f'/proc/{pid}/ns/{TYPES[nstype].proc_name}')
            except OSError:
                continue
            ino = int(link[link.index('[') + 1 : -1])
            result[nstype].setdefault(ino, []).append(pid)
    return result


def pids_in(nstype, ino):
    return sorted(scan([nstype])[nstype].get(ino, []))


def _link_inode(link, nstype):
    """4026532281 for 'pid:[4026532281]' when the link names a namespace of nstype."""
    prefix = TYPES[nstype].proc_name + ':['
    if link.startswith(prefix) and link.endswith(']'):
        return int(link.removeprefix(prefix)[:-1])
    return None


def _ns_inode(pid, entry, nstype):
    try:
        return _link_inode(os.readlink(f'/proc/{pid}/ns/{entry}'), nstype)
    except OSError:
        return None


def pinned_everywhere(nstype):
    """Inodes of the namespaces of nstype bind-mounted anywhere: in the
    mountinfo of every mount namespace that has a process (one per mount
    namespace is enough). A pin copied into another mount namespace
    (ip netns exec, a container) counts too."""
    seen, inodes = set(), set()
    for pid in _pids():
        mnt = _ns_inode(pid, 'mnt', 'mnt')
        if mnt is None or mnt in seen:
            continue
        try:
            mounts = mountinfo.read(pid)
        except OSError:
            continue  # exited meanwhile: its mount namespace is seen through another process or gone
        seen.add(mnt)
        for mount in mountinfo.nsfs_mounts(mounts):
            ino = _link_inode(mount.root, nstype)
            if ino is not None:
                inodes.add(ino)
    return inodes


def referenced_from_outside(nstype, inodes):
    """Which of inodes a process outside that namespace holds: by an open
    file descriptor (a creator between unshare and pin) or, for pid and
    time, as the namespace its next children are born in (the creating child
    right after unshare)."""
    wanted, found = set(inodes), set()
    if not wanted:
        return found
    for pid in _pids():
        if _ns_inode(pid, TYPES[nstype].proc_name, nstype) in wanted:
            continue  # a member: being inside is not holding it from outside
        child_ns = _ns_inode(pid, TYPES[nstype].child_proc_name, nstype)
        if child_ns in wanted:
            found.add(child_ns)
        try:
            fds = os.listdir(f'/proc/{pid}/fd')
        except OSError:
            continue
        for fd in fds:
            try:
                ino = _link_inode(os.readlink(f'/proc/{pid}/fd/{fd}'), nstype)
            except OSError:
                continue
            if ino in wanted:
                found.add(ino)
    return found


def holders():
    """Every holder process this collection started as the init of a pid
    namespace: [(pid, pid namespace inode, [the words after the marker])].
    The words are its label: the namespace name and its pid pin path."""
    found = []
    marker = HOLDER_MARKER.encode()
    for pid in _pids():
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as handle:
                argv = handle.read().split(b'\x00')
            if marker not in argv:
                continue
            nspid = _status_field(pid, 'NSpid')
        except OSError:
            continue
        ino = _ns_inode(pid, 'pid', 'pid')
        if nspid and nspid[-1] == '1' and ino is not None:
            after = argv.index(marker) + 1
            label = [a.decode('utf-8', 'replace') for a in argv[after:] if a]
            found.append((pid, ino, label))
    return found


def _status_field(pid, field):
    with open(f'/proc/{pid}/status') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return line.split(':', 1)[1].split()
    return []


def holder_of(pids):
    """The holder process this collection started as init of a pid namespace,
    among pids, or None. Only such a process is ever killed on removal."""
    for pid in pids:
        try:
            nspid = _status_field(pid, 'NSpid')
            with open(f'/proc/{pid}/cmdline', 'rb') as handle:
                argv = handle.read().split(b'\x00')
        except OSError:
            continue
        if nspid and nspid[-1] == '1' and HOLDER_MARKER.encode() in argv:
            return pid
    return None
