# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which processes are in which namespaces, read from /proc like lsns does."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator

HOLDER_MARKER = 'nsfd-namespaces-holder'


def nsfs_dev() -> int:
    """st_dev of the nsfs superblock: every namespace shares it."""
    return os.stat('/proc/self/ns/net').st_dev


def _pids() -> Iterator[int]:
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            yield int(entry)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X')
    except (OSError, IndexError):
        return True


def scan(types: Collection[str]) -> dict[str, dict[int, list[int]]]:
    """Map type -> {inode: [pid, ...]} for every live process in /proc.

    Processes that exit mid-scan are skipped. Zombies are not inside any
    namespace any more, but their pid and user namespace links stay until
    they are reaped, so they are filtered out here.
    """
    result: dict[str, dict[int, list[int]]] = dict((t, {}) for t in types)
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


def pids_in(nstype: str, ino: int) -> list[int]:
    return sorted(scan([nstype])[nstype].get(ino, []))


def _link_inode(link: str, nstype: str) -> int | None:
    """4026532281 for 'pid:[4026532281]' when the link names a namespace of nstype."""
    prefix = TYPES[nstype].proc_name + ':['
    if link.startswith(prefix) and link.endswith(']'):
        return int(link.removeprefix(prefix)[:-1])
    return None


def _ns_inode(pid: int, entry: str, nstype: str) -> int | None:
    try:
        return _link_inode(os.readlink(f'/proc/{pid}/ns/{entry}'), nstype)
    except OSError:
        return None


def pinned_everywhere(nstype: str) -> set[int]:
    """Inodes of the namespaces of nstype bind-mounted anywhere: in the
    mountinfo of every mount namespace that has a process (one per mount
    namespace is enough). A pin copied into another mount namespace
    (ip netns exec, a container) counts too."""
    seen: set[int] = set()
    inodes: set[int] = set()
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


def referenced_from_outside(nstype: str, inodes: Iterable[int]) -> set[int]:
    """Which of inodes a process outside that namespace holds: by an open
    file descriptor (a creator between unshare and pin) or, for pid and
    time, as the namespace its next children are born in (the creating child
    right after unshare)."""
    wanted = set(inodes)
    found: set[int] = set()
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


def holders() -> list[tuple[int, int, list[str]]]:
    """Every holder process this collection started as the init of a pid
    namespace: [(pid, pid namespace inode, [the words after the marker])].
    The words are its label: the namespace name and its pid pin path."""
    found: list[tuple[int, int, list[str]]] = []
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


def _status_field(pid: int, field: str) -> list[str]:
    with open(f'/proc/{pid}/status') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return line.split(':', 1)[1].split()
    return []


def holder_of(pids: Iterable[int]) -> int | None:
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
