# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Enter namespaces the way `ip netns exec` does, then exec a command.

This file depends on the Python standard library only, on purpose: the
netns become plugin ships its source to managed hosts and runs it with
`python3 -c`, where this collection is not installed. That is why it has
its own four ctypes wrappers instead of importing kernel/syscalls.py.

Standalone use:
  python3 launch.py --netns-dir /run/netns --name blue [--no-etc] -- CMD [ARG...]
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_BIND = 0x1000
MS_REC = 0x4000
MS_SLAVE = 0x80000
MNT_DETACH = 0x2
ST_RDONLY = 0x1

_LIBC: list[ctypes.CDLL] = []


def _libc() -> ctypes.CDLL:
    if not _LIBC:
        _LIBC.append(ctypes.CDLL(None, use_errno=True))
    return _LIBC[0]


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f'{what}: {os.strerror(code)}')


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def setns(fd: int, nstype: int) -> None:
    if hasattr(os, 'setns'):
        os.setns(fd, nstype)
    else:
        _check(_libc().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), 'setns')


def unshare(flags: int) -> None:
    if hasattr(os, 'unshare'):
        os.unshare(flags)
    else:
        _check(_libc().unshare(ctypes.c_int(flags)), 'unshare')


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc().mount(_b(source), _b(target), _b(fstype), ctypes.c_ulong(flags), _b(data)), f'mount {target}')


def umount2(target: str, flags: int) -> None:
    _check(_libc().umount2(_b(target), ctypes.c_int(flags)), f'umount {target}')


def private_sysfs() -> None:
    """Give this process its own mount namespace, slave to the caller's,
    with a /sys that shows the current network namespace's devices.
    A /sys that cannot be unmounted is shadowed, read-only if it was."""
    unshare(CLONE_NEWNS)
    mount(None, '/', None, MS_SLAVE | MS_REC)
    flags = 0
    try:
        umount2('/sys', MNT_DETACH)
    except OSError:
        try:
            if os.statvfs('/sys').f_flag & ST_RDONLY:
                flags = MS_RDONLY
        except OSError:
            pass
    try:
        mount('sysfs', '/sys', 'sysfs', flags)
    except OSError as exc:
        if exc.errno != errno.EPERM or flags:
            raise
        mount('sysfs', '/sys', 'sysfs', MS_RDONLY)


def bind_etc(name: str, etc_root: str = '/etc') -> list[str]:
    """Bind each /etc/netns/NAME/X over /etc/X, like iproute2's bind_etc.

    When /etc/X is a symlink (resolv.conf managed by systemd-resolved), the
    bind goes onto what it points to, so /etc/X still shows our file.
    Returns warnings for what was skipped."""
    source_dir = os.path.join(etc_root, 'netns', name)
    warnings: list[str] = []
    try:
        entries = sorted(os.listdir(source_dir))
    except OSError:
        return warnings
    for entry in entries:
        source = os.path.join(source_dir, entry)
        target = os.path.join(etc_root, entry)
        resolved = os.path.realpath(target)
        if not os.path.lexists(target):
            warnings.append(f'{source} has no counterpart {target}; skipped')
            continue
        if not os.path.exists(resolved):
            warnings.append(f'{target} is a symlink to missing {resolved}; {source} skipped')
            continue
        try:
            mount(source, resolved, None, MS_BIND)
        except OSError as exc:
            warnings.append(f'cannot bind {source} over {resolved}: {exc.strerror}')
    return warnings


def enter_netns_like_ip(fd: int, name: str | None = None, etc_files: bool = True) -> list[str]:
    """setns into a network namespace (type-checked by the kernel), then
    the mount setup of `ip netns exec`. Returns warnings."""
    setns(fd, CLONE_NEWNET)
    private_sysfs()
    if name and etc_files:
        return bind_etc(name)
    return []


def main(argv: list[str]) -> int:
    """--netns-dir DIR --name NAME [--no-etc] -- CMD [ARG...]"""
    netns_dir, name, etc_files = '/run/netns', None, True
    args = list(argv)
    while args and args[0] != '--':
        option = args.pop(0)
        if option == '--netns-dir' and args:
            netns_dir = args.pop(0)
        elif option == '--name' and args:
            name = args.pop(0)
        elif option == '--no-etc':
            etc_files = False
        else:
            sys.stderr.write(f'nsfd netns: unknown option {option!r}\n')
            return 2
    command = args[1:]
    if not name or not command:
        sys.stderr.write('nsfd netns: usage: --name NAME [--netns-dir DIR] [--no-etc] -- CMD...\n')
        return 2
    path = os.path.join(netns_dir, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as exc:
        sys.stderr.write(
            f"nsfd netns: cannot open network namespace '{name}' at {path}: {exc.strerror}. "
            f'Create it first (nsfd.namespaces.namespace, or ip netns add {name}).\n'
        )
        return 1
    try:
        for warning in enter_netns_like_ip(fd, name, etc_files):
            sys.stderr.write(f'nsfd netns: warning: {warning}\n')
    except OSError as exc:
        hint = ' (not a network namespace pin)' if exc.errno == errno.EINVAL else ''
        sys.stderr.write(
            f"nsfd netns: cannot enter network namespace '{name}' at {path}: {exc.strerror or exc}{hint}\n"
        )
        return 1
    os.close(fd)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f'nsfd netns: cannot run {command[0]}: {exc.strerror}\n')
        return 127


if __name__ == '__main__':
    raise SystemExit(main(sys.argv[1:]))
