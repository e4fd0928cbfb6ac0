# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What systemd makes of a service unit, asked of systemd when it runs and
read from the unit files when it does not (an image build, a container).

Only what netns_service needs: does the unit exist, is it masked, does it
ask for PrivateNetwork= (which would give it a network namespace of its own
instead of the pin), and, while it runs, its main process.
"""

import os
import subprocess

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.persist import systemd_running

# systemd's unit search path for the system manager, highest priority first.
UNIT_PATH = ('/etc/systemd/system', '/run/systemd/system', '/usr/local/lib/systemd/system',
             '/usr/lib/systemd/system', '/lib/systemd/system')
# systemd's parse_boolean(), compared in lower case
TRUE = ('1', 'yes', 'y', 'true', 't', 'on')


class UnitProps(object):
    """exists, masked, private_network (bool), source ('systemctl' or
    'unit files'), fragment (path or None), main_pid (int or None)."""

    def __init__(self, exists, masked, private_network, source, fragment=None, main_pid=None, active=None):
        self.exists = exists
        self.masked = masked
        self.private_network = private_network
        self.source = source
        self.fragment = fragment
        self.main_pid = main_pid
        self.active = active


def systemctl(*argv):
    return subprocess.run(['systemctl'] + list(argv), capture_output=True, text=True, check=False)


def from_systemctl(unit):
    shown = systemctl('show', '-p', 'LoadState', '-p', 'PrivateNetwork', '-p', 'FragmentPath', '-p', 'MainPID',
                      '-p', 'ActiveState', '--', unit)
    props = dict(line.partition('=')[::2] for line in shown.stdout.splitlines() if '=' in line)
    if shown.returncode != 0 or 'LoadState' not in props:
        return None  # a systemctl that cannot ask systemd: read the files instead
    main_pid = int(props.get('MainPID') or 0) or None
    return UnitProps(exists=props['LoadState'] not in ('not-found', 'bad-setting', 'error'),
                     masked=props['LoadState'] == 'masked', private_network=props.get('PrivateNetwork') in TRUE,
                     source='systemctl', fragment=props.get('FragmentPath') or None, main_pid=main_pid,
                     active=props.get('ActiveState'))


def _names(unit):
    """The unit, then its template (foo@bar.service -> foo@.service)."""
    prefix, _dot, suffix = unit.rpartition('.')
    names = [unit]
    if '@' in prefix:
        names.append('%s@.%s' % (prefix.partition('@')[0], suffix))
    return names


def _dropin_dirs(unit):
    """systemd reads UNIT.d/, the template's and the type's (service.d/)."""
    names = _names(unit) + ['%s.d' % unit.rpartition('.')[2]]
    return [n if n.endswith('.d') else n + '.d' for n in names]


def _private_network(paths, current=False):
    """The last PrivateNetwork= in [Service] of paths, read in order (an
    empty assignment resets it)."""
    for path in paths:
        section = None
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()
        except (IOError, OSError):
            continue
        for line in lines:
            line = line.strip()
            if line.startswith('['):
                section = line
            elif section == '[Service]' and line.partition('=')[0].strip() == 'PrivateNetwork':
                current = line.partition('=')[2].strip().lower() in TRUE
    return current


def _empty(path):
    try:
        return os.path.getsize(path) == 0
    except OSError:
        return False


def from_files(unit, unit_dirs=UNIT_PATH):
    """Fragment: the first of the unit (or its template) in unit_dirs. Drop-ins:
    *.conf of every drop-in directory in every unit dir, in name order with
    a name in a higher-priority directory hiding the same name below it."""
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
    dropins = {}
    for directory in reversed(unit_dirs):
        for sub in _dropin_dirs(unit):
            folder = os.path.join(directory, sub)
            if os.path.isdir(folder):
                for name in os.listdir(folder):
                    if name.endswith('.conf'):
                        dropins[name] = os.path.join(folder, name)
    ordered = [fragment] + [dropins[name] for name in sorted(dropins)]
    return UnitProps(exists=True, masked=False, private_network=_private_network(ordered), source='unit files',
                     fragment=fragment)


def inspect(unit, unit_dir):
    """UnitProps of unit: systemd's view while it runs, else the files'
    (unit_dir first, then systemd's search path)."""
    if systemd_running():
        props = from_systemctl(unit)
        if props is not None:
            return props
    dirs = [unit_dir] + [d for d in UNIT_PATH if d != unit_dir]
    return from_files(unit, dirs)


def netns_inode(pid):
    """The inode of pid's network namespace, or None when it is gone."""
    try:
        return os.stat('/proc/%d/ns/net' % pid).st_ino
    except OSError:
        return None
