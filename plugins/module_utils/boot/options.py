# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the boot files go and what they run, checked against each consumer.

Every value here ends up in a path that is written or removed, in the
systemd unit, or in the boot script. So a BootOptions cannot be built from a
value its consumer would misread: unit_name and wanted_by follow systemd's
unit name rules (no `/`, so no path escapes the unit directory, and no blank
or control character, so nothing is injected into `WantedBy=`); the paths
are absolute and normalised; boot_dir, which the unit's `ExecStart=` names,
is limited to characters systemd takes literally there (no `%` specifiers,
`$` variables, quotes, `\\` escapes or blanks); ip_command and sysctl_command
only reach the sh script, which quotes them exactly.

Unset, ip_command and sysctl_command are found when the script runs, the
way sh finds a command (`command -v`) in BOOT_PATH: /usr/sbin/ip on a merged
/usr, /bin/ip and /sbin/sysctl on Debian 11's unmerged one. Set or not,
check_programs makes sure, when the files are written, that the programs
the script needs are there on the host.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import unprintable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn

DEFAULT_WANTED_BY = ('multi-user.target', 'network-online.target')

# systemd's unit-name.c: VALID_CHARS, '@' before the instance, UNIT_NAME_MAX.
UNIT_NAME_MAX = 255
UNIT_CHARS = re.compile(r'^[A-Za-z0-9:_.\\-]+\Z')
UNIT_CHARS_WITH_AT = re.compile(r'^[A-Za-z0-9:_.\\@-]+\Z')
# Taken literally in an ExecStart= argument and in a sh comment.
EXEC_SAFE_PATH = re.compile(r'^[A-Za-z0-9/_.+@:,-]+\Z')
NOTHING_CHANGED = 'Nothing was changed.'
# The script's PATH: systemd's default for services, on merged and unmerged /usr alike.
BOOT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin'


def _refuse(option: str, value: object, allowed: str) -> NoReturn:
    raise NamespaceError(f'{option}: {value!r} is not allowed: {allowed}', hint=NOTHING_CHANGED)


def check_unit_name(option: str, value: object, suffixes: Sequence[str]) -> str:
    """A plain or instance unit name (not a template) of one of `suffixes`."""
    allowed = (
        f'a systemd unit name ending in {" or ".join(suffixes)}: at most {UNIT_NAME_MAX} characters, '
        'letters, digits and :_.\\- with at most one @ followed by an instance, no / or blanks'
    )
    if not isinstance(value, str) or not 0 < len(value) <= UNIT_NAME_MAX:
        _refuse(option, value, allowed)
    prefix, dot, suffix = value.rpartition('.')
    if not dot or not prefix or '.' + suffix not in suffixes:
        _refuse(option, value, allowed)
    unit, at, instance = prefix.partition('@')
    if not UNIT_CHARS.match(unit) or (at and not UNIT_CHARS_WITH_AT.match(instance)):
        _refuse(option, value, allowed)
    return value


def check_path(option: str, value: object, exec_safe: bool = False) -> str:
    allowed = 'an absolute, normalised path (no //, /./, /../ or trailing /) without control characters'
    if exec_safe:
        allowed += (
            ', of letters, digits and /_.+@:,- only, since it goes into the unit\'s ExecStart= line '
            '(systemd would expand %, $ and \\ and split at blanks and quotes)'
        )
    if (
        not isinstance(value, str)
        or not value.startswith('/')
        or value.startswith('//')
        or os.path.normpath(value) != value
        or unprintable(value)
        or (exec_safe and not EXEC_SAFE_PATH.match(value))
    ):
        _refuse(option, value, allowed)
    return value


def check_directory(option: str, value: object, exec_safe: bool = False) -> str:
    path = check_path(option, value, exec_safe)
    if path == '/':
        _refuse(option, path, 'a directory of its own, not /')
    return path


class BootOptions:
    """Checked on construction: an instance is safe to write and remove."""

    def __init__(
        self,
        boot_dir: str = '/etc/nsfd-netns',
        unit_dir: str = '/etc/systemd/system',
        unit_name: str = 'nsfd-netns.service',
        ip_command: str | None = None,
        sysctl_command: str | None = None,
        wanted_by: Sequence[str] = DEFAULT_WANTED_BY,
    ) -> None:
        self.boot_dir = check_directory('boot_dir', boot_dir, exec_safe=True)
        self.unit_dir = check_directory('unit_dir', unit_dir)
        self.unit_name = check_unit_name('unit_name', unit_name, ('.service',))
        # None (or empty, as the role passes an unset variable): found in BOOT_PATH when the script runs
        self.ip_command: str | None = check_path('ip_command', ip_command) if ip_command else None
        self.sysctl_command: str | None = check_path('sysctl_command', sysctl_command) if sysctl_command else None
        if not isinstance(wanted_by, (list, tuple)):
            _refuse('wanted_by', wanted_by, 'a list of unit names')
        self.wanted_by = [
            check_unit_name(f'wanted_by[{i}]', target, ('.target', '.service')) for i, target in enumerate(wanted_by)
        ]

    @property
    def unit_path(self) -> str:
        return os.path.join(self.unit_dir, self.unit_name)

    def boot_file(self, name: str) -> str:
        return os.path.join(self.boot_dir, name)

    def wants_links(self) -> list[str]:
        return [os.path.join(self.unit_dir, f'{target}.wants', self.unit_name) for target in self.wanted_by]


def find_program(name: str) -> str | None:
    """Where the boot script's `command -v name` finds it (BOOT_PATH), or None."""
    return shutil.which(name, path=BOOT_PATH)


def bridge_next_to(ip_command: str) -> str:
    """bridge(8) comes with ip(8) in iproute2, but not always in the same
    directory (Debian: /bin/ip, /sbin/bridge): the script takes the one next
    to ip_command when it is there, else the one in BOOT_PATH."""
    return os.path.join(os.path.dirname(ip_command), 'bridge')


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def check_programs(options: BootOptions, sysctl: bool = True, bridge: bool = False) -> None:
    """Raise NamespaceError, naming the option and the path, unless each
    program the boot script runs is there on this host: the configured
    ip_command and sysctl_command, or (unset) ip, and sysctl when it is
    needed, found in BOOT_PATH; bridge when it is needed, next to ip_command
    or in BOOT_PATH. A boot unit that cannot find them fails at boot."""
    for option, configured, name, needed in (
        ('ip_command', options.ip_command, 'ip', True),
        ('sysctl_command', options.sysctl_command, 'sysctl', sysctl),
    ):
        if configured is not None and not _runnable(configured):
            problem = 'is not an executable file' if os.path.exists(configured) else 'does not exist'
            raise NamespaceError(
                f'{option}: {configured!r} {problem} on this host, so the boot script could not run it',
                path=configured,
                hint=f'Set {option} to where {name} is here (command -v {name}), or leave it unset to have the script '
                f'find it in {BOOT_PATH}. {NOTHING_CHANGED}',
            )
        if configured is None and needed and find_program(name) is None:
            raise NamespaceError(
                f'{option} is unset and no {name} is in {BOOT_PATH} on this host, where the boot script looks for it',
                hint=f'Install it, or set {option} to its path. {NOTHING_CHANGED}',
            )
    if (
        bridge
        and not (options.ip_command and _runnable(bridge_next_to(options.ip_command)))
        and find_program('bridge') is None
    ):
        beside = f'next to ip_command {options.ip_command!r} nor ' if options.ip_command else ''
        raise NamespaceError(
            f'no bridge (iproute2), which adds the fdb entries of vxlan links, is {beside}in {BOOT_PATH} on this host',
            hint=f'Install iproute2 completely. {NOTHING_CHANGED}',
        )
