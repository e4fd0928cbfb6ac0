# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What systemd makes of a service unit, asked of systemd when it runs and
read from the unit files when it does not (an image build, a container).

Only what netns_service needs: does the unit exist, is it masked, does it
ask for PrivateNetwork= (which would give it a network namespace of its own
instead of the pin), and, while it runs, its main process.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.persist import systemd_running
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.spawn import spawn

if TYPE_CHECKING:
    from collections.abc import Sequence

# systemd's unit search path for the system manager, highest priority first.
UNIT_PATH = (
    '/etc/systemd/system',
    '/run/systemd/system',
    '/usr/local/lib/systemd/system',
    '/usr/lib/systemd/system',
    '/lib/systemd/system',
)
# systemd's parse_boolean(), compared in lower case
TRUE = ('1', 'yes', 'y', 'true', 't', 'on')


@dataclasses.dataclass(frozen=True)
class UnitProps:
    """exists, masked, private_network (bool), source ('systemctl' or
    'unit files'), fragment (path or None), main_pid (int or None); from
    systemctl also dropin_paths and netns_path (what systemd has loaded)."""

    exists: bool
    masked: bool
    private_network: bool
    source: str
    fragment: str | None = None
    main_pid: int | None = None
    active: str | None = None
    dropin_paths: list[str] = dataclasses.field(default_factory=list)  # the drop-ins systemd has loaded
    netns_path: str | None = None  # its NetworkNamespacePath= as loaded
    enabled: bool = False  # its UnitFileState is enabled (or enabled-runtime)


@dataclasses.dataclass(frozen=True)
class Ran:
    """A finished systemctl: returncode (127: no systemctl), stdout and stderr as text."""

    returncode: int
    stdout: str
    stderr: str


def systemctl(*argv: str) -> Ran:
    # spawn, not subprocess: ansible-test's pylint refuses subprocess in module code
    ran = spawn(['systemctl'] + list(argv))
    return Ran(ran.rc, ran.stdout.decode('utf-8', 'replace'), ran.stderr.decode('utf-8', 'replace'))


def from_systemctl(unit: str) -> UnitProps | None:
    shown = systemctl(
        'show',
        '-p',
        'LoadState',
        '-p',
        'PrivateNetwork',
        '-p',
        'FragmentPath',
        '-p',
        'MainPID',
        '-p',
        'ActiveState',
        '-p',
        'DropInPaths',
        '-p',
        'NetworkNamespacePath',
        '-p',
        'UnitFileState',
        '--',
        unit,
    )
    props = dict(line.partition('=')[::2] for line in shown.stdout.splitlines() if '=' in line)
    if shown.returncode != 0 or 'LoadState' not in props:
        return None  # a systemctl that cannot ask systemd: read the files instead
    main_pid = int(props.get('MainPID') or 0) or None
    return UnitProps(
        exists=props['LoadState'] not in ('not-found', 'bad-setting', 'error'),
        masked=props['LoadState'] == 'masked',
        private_network=props.get('PrivateNetwork') in TRUE,
        source='systemctl',
        fragment=props.get('FragmentPath') or None,
        main_pid=main_pid,
        active=props.get('ActiveState'),
        dropin_paths=props.get('DropInPaths', '').split(),
        netns_path=props.get('NetworkNamespacePath') or None,
        enabled=props.get('UnitFileState') in ('enabled', 'enabled-runtime'),
    )


def _names(unit: str) -> list[str]:
    """The unit, then its template (foo@bar.service -> foo@.service)."""
    prefix, _dot, suffix = unit.rpartition('.')
    names = [unit]
    if '@' in prefix:
        names.append(f'{prefix.partition("@")[0]}@.{suffix}')
    return names


def _prefixes(unit: str) -> list[str]:
    """systemd.unit(5): for a name with dashes, the drop-in directories of
    each dash-truncated prefix apply too, most specific first
    (foo-bar-baz.service: foo-bar-.service, foo-.service)."""
    prefix, _dot, suffix = unit.rpartition('.')
    prefix = prefix.partition('@')[0]
    found: list[str] = []
    while True:
        head = prefix.rstrip('-').rpartition('-')[0]
        if not head:  # no dash left, or only a leading one
            return found
        prefix = head + '-'
        found.append(f'{prefix}.{suffix}')


def _dropin_dirs(unit: str) -> list[str]:
    """The drop-in directories systemd reads for unit in each directory of
    its search path, most specific first: UNIT.d/, the template's, the
    dash-prefix ones (foo-.service.d/), the type's (service.d/)."""
    names = _names(unit) + [n for n in _prefixes(unit) if n not in _names(unit)]
    return [f'{n}.d' for n in names] + [f'{unit.rpartition(".")[2]}.d']


def _service_values(path: str, key: str) -> list[str]:
    """The values assigned to key in [Service] of path, in order."""
    section = None
    values: list[str] = []
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return values
    for line in lines:
        line = line.strip()
        if line.startswith('['):
            section = line
        elif section == '[Service]' and line.partition('=')[0].strip() == key:
            values.append(line.partition('=')[2].strip())
    return values


def _private_network(paths: Sequence[str], current: bool = False) -> bool:
    """The last PrivateNetwork= in [Service] of paths, read in order (an
    empty assignment resets it)."""
    for path in paths:
        for value in _service_values(path, 'PrivateNetwork'):
            current = value.lower() in TRUE
    return current


def dropins(unit: str, unit_dirs: Sequence[str] = UNIT_PATH) -> list[tuple[str, str]]:
    """[(name, path)] of the unit's *.conf drop-ins in the order systemd
    applies them: by name, whatever their directory; of files of the same
    name, the one in the higher-priority directory of unit_dirs wins, and
    within one, the one in the more specific drop-in directory
    (systemd's unit_file_find_dropin_paths)."""
    found: dict[str, str] = {}
    for directory in unit_dirs:
        for sub in _dropin_dirs(unit):
            folder = os.path.join(directory, sub)
            if os.path.isdir(folder):
                for name in sorted(os.listdir(folder)):
                    if name.endswith('.conf'):
                        found.setdefault(name, os.path.join(folder, name))
    return [(name, found[name]) for name in sorted(found)]


def assigned_after(unit: str, unit_dirs: Sequence[str], after: str, key: str) -> list[tuple[str, str]]:
    """[(path, value)] of key= in the [Service] of drop-ins applied after
    the one named `after`: they override what that one sets. Read from the
    files, which systemd reads at the next daemon-reload."""
    return [
        (path, value) for name, path in dropins(unit, unit_dirs) if name > after for value in _service_values(path, key)
    ]


def _empty(path: str) -> bool:
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def from_files(unit: str, unit_dirs: Sequence[str] = UNIT_PATH) -> UnitProps:
    """Fragment: the first of the unit (or its template) in unit_dirs, then
    its drop-ins (dropins())."""
    fragment = None
    for name in _names(unit):
        for directory in unit_dirs:
            path = os.path.join(directory, name)
            if os.path.lexists(path):
                fragment = path
                break
        if fragment:
            break
    if fragment is None:
        return UnitProps(exists=False, masked=False, private_network=False, source='unit files')
    # what `systemctl mask` links, or an empty file (systemd.unit(5) masks both)
    if os.path.realpath(fragment) == '/dev/null' or _empty(fragment):
        return UnitProps(exists=True, masked=True, private_network=False, source='unit files', fragment=fragment)
    ordered = [fragment] + [path for _name, path in dropins(unit, unit_dirs)]
    return UnitProps(
        exists=True, masked=False, private_network=_private_network(ordered), source='unit files', fragment=fragment
    )


def search_path(unit_dir: str) -> list[str]:
    """unit_dir first, then systemd's search path."""
    return [unit_dir] + [d for d in UNIT_PATH if d != unit_dir]


def inspect(unit: str, unit_dir: str) -> UnitProps:
    """UnitProps of unit: systemd's view while it runs, else the files'
    (search_path(unit_dir))."""
    if systemd_running():
        props = from_systemctl(unit)
        if props is not None:
            return props
    return from_files(unit, search_path(unit_dir))


def netns_inode(pid: int) -> int | None:
    """The inode of pid's network namespace, or None when it is gone."""
    try:
        return os.stat(f'/proc/{pid}/ns/net').st_ino
    except OSError:
        return None
