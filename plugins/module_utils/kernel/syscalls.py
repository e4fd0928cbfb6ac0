# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thin wrappers over the Linux syscalls the pin engine needs.

Python 3.11 has no os.setns/os.unshare, and no Python has mount(2) or
statfs(2)'s f_type, so these go through ctypes. The os functions are used
where they exist. Every wrapper raises OSError with the errno set.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os

CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

_FLAG_BY_LINK_PREFIX = {
    'user': CLONE_NEWUSER,
    'mnt': CLONE_NEWNS,
    'uts': CLONE_NEWUTS,
    'ipc': CLONE_NEWIPC,
    'net': CLONE_NEWNET,
    'pid': CLONE_NEWPID,
    'cgroup': CLONE_NEWCGROUP,
    'time': CLONE_NEWTIME,
}

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_UNBINDABLE = 0x20000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_SHARED = 0x100000

MNT_DETACH = 0x2
UMOUNT_NOFOLLOW = 0x8

NSFS_MAGIC = 0x6E736673
OVERLAYFS_MAGIC = 0x794C7630
# _IO(0xb7, n): ioctls on nsfs file descriptors (linux/nsfs.h)
NS_GET_USERNS = 0xB701
NS_GET_PARENT = 0xB702
NS_GET_NSTYPE = 0xB703

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    """The C library, loaded once, with errno capture."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int, what: str) -> int:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'{what}: {os.strerror(err)}')
    return result


def _path_arg(value: str | bytes | None) -> bytes | None:
    if value is None:
        return None
    return os.fsencode(value)


def unshare(flags: int) -> None:
    if hasattr(os, 'unshare'):
        os.unshare(flags)
        return
    _check(libc().unshare(ctypes.c_int(flags)), 'unshare')


def setns(fd: int, nstype: int = 0) -> None:
    """Enter the namespace behind fd; nstype (a CLONE_NEW* flag) makes the
    kernel refuse a namespace of another type."""
    if hasattr(os, 'setns'):
        os.setns(fd, nstype)
        return
    _check(libc().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), 'setns')


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        libc().mount(_path_arg(source), _path_arg(target), _path_arg(fstype), ctypes.c_ulong(flags), _path_arg(data)),
        f'mount {target}',
    )


def umount2(target: str, flags: int = 0) -> None:
    _check(libc().umount2(_path_arg(target), ctypes.c_int(flags)), f'umount {target}')


def fstatfs_type(fd: int) -> int:
    """The f_type (filesystem magic) of the filesystem behind fd."""
    # struct statfs starts with f_type (a long on every Linux ABI); the
    # buffer is larger than the structure on all architectures.
    buf = ctypes.create_string_buffer(256)
    _check(libc().fstatfs(ctypes.c_int(fd), buf), 'fstatfs')
    return ctypes.c_long.from_buffer(buf).value & 0xFFFFFFFF


def statfs_type(path: str) -> int:
    """The f_type of the filesystem path is on."""
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        return fstatfs_type(fd)
    finally:
        os.close(fd)


def ns_get_type(fd: int) -> int:
    """The CLONE_NEW* flag of the nsfs file behind fd (NS_GET_NSTYPE).

    Kernels before 4.11 lack the ioctl: fall back to the fd's link text,
    which nsfs renders as 'TYPE:[INODE]'.
    """
    try:
        return fcntl.ioctl(fd, NS_GET_NSTYPE)
    except OSError as exc:
        if exc.errno not in (errno.ENOTTY, errno.EINVAL):
            raise
    link = os.readlink(f'/proc/self/fd/{fd}')
    flag = _FLAG_BY_LINK_PREFIX.get(link.split(':', 1)[0])
    if flag:
        return flag
    raise OSError(errno.EINVAL, f'not a namespace file: {link}')


def sethostname(name: str) -> None:
    raw = name.encode('utf-8')
    _check(libc().sethostname(raw, ctypes.c_size_t(len(raw))), 'sethostname')


def setdomainname(name: str) -> None:
    raw = name.encode('utf-8')
    _check(libc().setdomainname(raw, ctypes.c_size_t(len(raw))), 'setdomainname')


def prctl(option: int, arg2: int = 0) -> None:
    _check(
        libc().prctl(
            ctypes.c_int(option), ctypes.c_ulong(arg2), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)
        ),
        'prctl',
    )
