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

import os

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.persist import systemd_running
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.spawn import spawn

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


class UnitProps:
    """exists, masked, private_network (bool), source ('systemctl' or
    'unit files'), fragment (path or None), main_pid (int or None); from
    systemctl also dropin_paths and netns_path (what systemd has loaded)."""

    def __init__(
        self,
        exists,
        masked,
        private_network,
        source,
        fragment=None,
        main_pid=None,
        active=None,
        dropin_paths=(),
        netns_path=None,
        enabled=False,
    ):
        self.exists = exists
        self.masked = masked
        self.private_network = private_network
        self.source = source
        self.fragment = fragment
        self.main_pid = main_pid
        self.active = active
        self.dropin_paths = list(dropin_paths)  # the drop-ins systemd has loaded
        self.netns_path = netns_path  # its NetworkNamespacePath= as loaded
        self.enabled = enabled  # its UnitFileState is enabled (or enabled-runtime)


class Ran:
    """A finished systemctl: returncode (127: no systemctl), stdout and stderr as text."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def systemctl(*argv):
    # spawn, not subprocess: ansible-test's pylint refuses subprocess in module code
    ran = spawn(['systemctl'] + list(argv))
    return Ran(ran.rc, ran.stdout.decode('utf-8', 'replace'), ran.stderr.decode('utf-8', 'replace'))


def from_systemctl(unit):
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


def _names(unit):
    """The unit, then its template (foo@bar.service -> foo@.service)."""
    prefix, _dot, suffix = unit.rpartition('.')
    names = [unit]
    if '@' in prefix:
        names.append(f'{prefix.partition("@")[0]}@.{suffix}')
    return names


def _prefixes(unit):
    """systemd.unit(5): for a name with dashes, the drop-in directories of
    each dash-truncated prefix apply too, most specific first
    (foo-bar-baz.service: foo-bar-.service, foo-.service)."""
    prefix, _dot, suffix = unit.rpartition('.')
    prefix = prefix.partition('@')[0]
    found = []
    while True:
        head = prefix.rstrip('-').rpartition('-')[0]
        if not head:  # no dash left, or only a leading one
            return found
        prefix = head + '-'
        found.append(f'{prefix}.{suffix}')


def _dropin_dirs(unit):
    """The drop-in directories systemd reads for unit in each directory of
    its search path, most specific first: UNIT.d/, the template's, the
    dash-prefix ones (foo-.service.d/), the type's (service.d/)."""
    names = _names(unit) + [n for n in _prefixes(unit) if n not in _names(unit)]
    return [f'{n}.d' for n in names] + [f'{unit.rpartition(".")[2]}.d']


def _service_values(path, key):
    """The values assigned to key in [Service] of path, in order."""
    section = None
    values = []
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


def _private_network(paths, current=False):
    """The last PrivateNetwork= in [Service] of paths, read in order (an
    empty assignment resets it)."""
    for path in paths:
        for value in _service_values(path, 'PrivateNetwork'):
            current = value.lower() in TRUE
    return current


def dropins(unit, unit_dirs=UNIT_PATH):
    """[(name, path)] of the unit's *.conf drop-ins in the order systemd
    applies them: by name, whatever their directory; of files of the same
    name, the one in the higher-priority directory of unit_dirs wins, and
    within one, the one in the more specific drop-in directory
    (systemd's unit_file_find_dropin_paths)."""
    found = {}
    for directory in unit_dirs:
        for sub in _dropin_dirs(unit):
            folder = os.path.join(directory, sub)
            if os.path.isdir(folder):
                for name in sorted(os.listdir(folder)):
                    if name.endswith('.conf'):
                        found.setdefault(name, os.path.join(folder, name))
    return [(name, found[name]) for name in sorted(found)]


def assigned_after(unit, unit_dirs, after, key):
    """[(path, value)] of key= in the [Service] of drop-ins applied after
    the one named `after`: they override what that one sets. Read from the
    files, which systemd reads at the next daemon-reload."""
    return [
        (path, value) for name, path in dropins(unit, unit_dirs) if name > after for value in _service_values(path, key)
    ]


def _empty(path):
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def from_files(unit, unit_dirs=UNIT_PATH):
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


def search_path(unit_dir):
    """unit_dir first, then systemd's search path."""
    return [unit_dir] + [d for d in UNIT_PATH if d != unit_dir]


def inspect(unit, unit_dir):
    """UnitProps of unit: systemd's view while it runs, else the files'
    (search_path(unit_dir))."""
    if systemd_running():
        props = from_systemctl(unit)
        if props is not None:
            return props
    return from_files(unit, search_path(unit_dir))


def netns_inode(pid):
    """The inode of pid's network namespace, or None when it is gone."""
    try:
        return os.stat(f'/proc/{pid}/ns/net').st_ino
    except OSError:
        return None
