# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The eight Linux namespace types and where their pins live."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import TYPE_CHECKING, NamedTuple

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls

if TYPE_CHECKING:
    from collections.abc import Iterable


# proc_name: the /proc/PID/ns entry of a process's own namespace.
# child_proc_name: the entry to pin after unshare(). pid and time namespaces
# only apply to the children of the unsharing process, so the kernel exposes
# them as *_for_children.
class NamespaceType(NamedTuple):
    name: str
    flag: int  # its CLONE_NEW* flag
    proc_name: str
    child_proc_name: str
    default_dir: str


# Order matters: the user namespace comes first because it owns the others
# when it is created in the same unshare().
TYPES: OrderedDict[str, NamespaceType] = OrderedDict(
    (t.name, t)
    for t in (
        NamespaceType('user', syscalls.CLONE_NEWUSER, 'user', 'user', '/run/userns'),
        NamespaceType('mnt', syscalls.CLONE_NEWNS, 'mnt', 'mnt', '/run/mntns'),
        NamespaceType('uts', syscalls.CLONE_NEWUTS, 'uts', 'uts', '/run/utsns'),
        NamespaceType('ipc', syscalls.CLONE_NEWIPC, 'ipc', 'ipc', '/run/ipcns'),
        NamespaceType('net', syscalls.CLONE_NEWNET, 'net', 'net', '/run/netns'),
        NamespaceType('pid', syscalls.CLONE_NEWPID, 'pid', 'pid_for_children', '/run/pidns'),
        NamespaceType('cgroup', syscalls.CLONE_NEWCGROUP, 'cgroup', 'cgroup', '/run/cgroupns'),
        NamespaceType('time', syscalls.CLONE_NEWTIME, 'time', 'time_for_children', '/run/timens'),
    )
)

TYPE_NAMES: list[str] = list(TYPES)
BY_FLAG: dict[int, NamespaceType] = dict((t.flag, t) for t in TYPES.values())


def ordered(types: Iterable[str]) -> list[str]:
    """The given type names, deduplicated, in creation order."""
    wanted = set(types)
    return [name for name in TYPE_NAMES if name in wanted]


def kernel_supports(name: str) -> bool:
    """Whether this kernel has the namespace type (it shows it in /proc)."""
    return os.path.exists(f'/proc/self/ns/{TYPES[name].proc_name}')


def proc_path(pid: int | str, name: str) -> str:
    """The /proc entry naming the namespace of type name that pid is in."""
    return f'/proc/{pid}/ns/{TYPES[name].proc_name}'
