# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host's record (data_dir/NAME/host.json) and telling its init apart
from a process that merely got the same pid later."""

import json
import os

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

RECORD = 'host.json'
# argv[0] of every host's init (sh -c SCRIPT MARKER NAME DATA_DIR): with the
# start time, what proves a pid is still that host's init.
INIT_MARKER = 'nsfd-namespace-host'


def path_of(data_dir, name):
    return os.path.join(data_dir, name, RECORD)


def load(data_dir, name):
    """The record of host name, or None when there is none."""
    path = path_of(data_dir, name)
    try:
        text = fileio.read_text(path)
    except (IOError, OSError) as exc:
        raise NamespaceError.from_os_error(exc, 'cannot read the host record', name=name, path=path)
    if text is None:
        return None
    try:
        record = json.loads(text)
        if not isinstance(record, dict) or record.get('name') != name:
            raise ValueError('not the record of this host')
    except ValueError as exc:
        raise NamespaceError('the host record is damaged (%s)' % exc, name=name, path=path,
                             hint='Remove the host with state: absent, then start it again.')
    return record


def save(data_dir, name, record):
    fileio.write_atomically(path_of(data_dir, name), json.dumps(record, indent=1, sort_keys=True) + '\n', 0o600)


def names(data_dir):
    """The names of the hosts with a record in data_dir."""
    try:
        entries = sorted(os.listdir(data_dir))
    except OSError:
        return []
    return [n for n in entries if os.path.isfile(os.path.join(data_dir, n, RECORD))]


def start_time(pid):
    """Field 22 of /proc/PID/stat (clock ticks after boot), or None when
    there is no such process. The command name (field 2) may hold spaces
    and parentheses: count from the last ')'."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            stat = handle.read()
    except (IOError, OSError):
        return None
    fields = stat[stat.rindex(b')') + 2:].split()
    if fields[0] == b'Z':
        return None  # a zombie is no longer an init
    return int(fields[19])


def _init_of(pid, name, data_dir):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().split(b'\0')
    except (IOError, OSError):
        return False
    return argv[-4:] == [os.fsencode(INIT_MARKER), os.fsencode(name), os.fsencode(data_dir), b'']


def running_data_dirs():
    """The data directories of every running host's init, whatever its data_dir."""
    found = set()
    for entry in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                argv = handle.read().split(b'\0')
        except (IOError, OSError):
            continue
        if entry.isdigit() and len(argv) >= 4 and argv[-4] == os.fsencode(INIT_MARKER):
            found.add(os.fsdecode(argv[-2]))
    return found


def stray_inits(name, data_dir):
    """The pids of every running init of host name in data_dir, recorded or
    not: a run killed (kill -9) between starting an init and saving its pid
    leaves one that only its command line tells."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and start_time(int(entry)) is not None and _init_of(int(entry), name, data_dir):
            found.append(int(entry))
    return found


def nonce_of(pid):
    """The NSFD_HOST_NONCE its start gave an init (the record holds it from
    before the start), or None."""
    try:
        with open('/proc/%d/environ' % pid, 'rb') as handle:
            environ = handle.read().split(b'\0')
    except (IOError, OSError):
        return None
    for entry in environ:
        if entry.startswith(b'NSFD_HOST_NONCE='):
            return entry.split(b'=', 1)[1].decode('ascii', 'replace')
    return None


def init_alive(record):
    """Whether the record's init still runs: same pid, same start time and the
    marker, name and data directory on its command line."""
    pid = record.get('pid')
    if not pid or start_time(pid) != record.get('start_time'):
        return False
    return _init_of(pid, record['name'], record['data_dir'])
