# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which processes are in which namespaces, read from /proc like lsns does."""

import os

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES

HOLDER_MARKER = 'nsfd-namespaces-holder'


def nsfs_dev():
    """st_dev of the nsfs superblock: every namespace shares it."""
    return os.stat('/proc/self/ns/net').st_dev


def _pids():
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            yield int(entry)


def _is_zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X')
    except (IOError, OSError, IndexError):
        return True


def scan(types):
    """Map type -> {inode: [pid, ...]} for every live process in /proc.

    Processes that exit mid-scan are skipped. Zombies are not inside any
    namespace any more, but their pid and user namespace links stay until
    they are reaped, so they are filtered out here.
    """
    result = dict((t, {}) for t in types)
    for pid in _pids():
        if _is_zombie(pid):
            continue
        for nstype in types:
            try:
                link = os.readlink('/proc/%d/ns/%s' % (pid, TYPES[nstype].proc_name))
            except OSError:
                continue
            ino = int(link[link.index('[') + 1:-1])
            result[nstype].setdefault(ino, []).append(pid)
    return result


def pids_in(nstype, ino):
    return sorted(scan([nstype])[nstype].get(ino, []))


def _status_field(pid, field):
    with open('/proc/%d/status' % pid) as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return line.split(':', 1)[1].split()
    return []


def holder_of(pids):
    """The holder process this collection started as init of a pid namespace,
    among pids, or None. Only such a process is ever killed on removal."""
    for pid in pids:
        try:
            nspid = _status_field(pid, 'NSpid')
            with open('/proc/%d/cmdline' % pid, 'rb') as handle:
                argv = handle.read().split(b'\x00')
        except (IOError, OSError):
            continue
        if nspid and nspid[-1] == '1' and HOLDER_MARKER.encode() in argv:
            return pid
    return None
