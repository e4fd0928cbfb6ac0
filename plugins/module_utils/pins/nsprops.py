# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Properties of existing namespaces, read and set from inside them.

A pinned namespace may hold no process, so its properties are read by a
child that enters it. hostname and domainname can change later; id maps and
time offsets are fixed once written, so they are only compared.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nsexec import call_in

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Callable

PROPERTY_TYPES = {'hostname': 'uts', 'domainname': 'uts', 'uid_map': 'user', 'gid_map': 'user', 'time_offsets': 'time'}
MUTABLE = ('hostname', 'domainname')


def _read_file(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def _read_uts() -> dict[str, str]:
    return {'hostname': os.uname()[1], 'domainname': _read_file('/proc/sys/kernel/domainname').rstrip('\n')}


def _read_user() -> dict[str, list[list[int]]]:
    def table(kind: str) -> list[list[int]]:
        return [
            [int(v) for v in line.split()] for line in _read_file(f'/proc/self/{kind}').splitlines() if line.strip()
        ]

    return {'uid_map': table('uid_map'), 'gid_map': table('gid_map')}


def _read_time() -> dict[str, dict[str, list[int]]]:
    offsets: dict[str, list[int]] = {}
    for line in _read_file('/proc/self/timens_offsets').splitlines():
        fields = line.split()
        if len(fields) == 3:
            offsets[fields[0]] = [int(fields[1]), int(fields[2])]
    return {'time_offsets': offsets}


_READERS: dict[str, Callable[[], dict[str, Any]]] = {'uts': _read_uts, 'user': _read_user, 'time': _read_time}


def read(fds_by_type: dict[str, int], keys: Sequence[str]) -> dict[str, Any]:
    """Current values of the given property keys, one child per type."""
    values: dict[str, Any] = {}
    for nstype in sorted(set(PROPERTY_TYPES[k] for k in keys)):
        values.update(call_in({nstype: fds_by_type[nstype]}, _READERS[nstype]))
    return dict((k, values[k]) for k in keys)


def differences(current: dict[str, Any], wanted: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """[(key, current, wanted)] for the wanted values that differ."""
    result = []
    for key, want in sorted(wanted.items()):
        have = current.get(key)
        if key == 'time_offsets':
            have = dict((clock, (have or {}).get(clock, [0, 0])) for clock in want)
        if have != want:
            result.append((key, current.get(key), want))
    return result


def _set_uts(hostname: str | None, domainname: str | None) -> bool:
    if hostname is not None:
        syscalls.sethostname(hostname)
    if domainname is not None:
        syscalls.setdomainname(domainname)
    return True


def set_uts(uts_fd: int, hostname: str | None = None, domainname: str | None = None) -> None:
    call_in({'uts': uts_fd}, _set_uts, hostname, domainname)
