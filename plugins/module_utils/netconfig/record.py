# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The record of which network namespaces a caller (the netns role) manages
on a host, so that pruning removes what it created and nothing else.

A JSON file {"namespaces": [names]} on persistent storage: /run is wiped by
a reboot, the record must not be.
"""

import json

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError


def read(path):
    """The recorded names ([] when there is no record yet)."""
    text = fileio.read_text(path)
    if text is None:
        return []
    try:
        names = json.loads(text)['namespaces']
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError('namespaces is not a list of names')
    except (ValueError, KeyError, TypeError) as exc:
        raise NamespaceError('the record %s is not {"namespaces": [names]}: %s' % (path, exc), path=path,
                             hint='Fix or remove the file; without it, nothing is pruned.')
    return names


def to_prune(recorded, declared):
    """Recorded names no longer declared at all (neither present nor absent)."""
    named = set(d['name'] for d in declared)
    return [n for n in recorded if n not in named]


def updated(recorded, declared, pruned):
    """What the record holds after a run: the namespaces declared present,
    plus the earlier ones neither pruned nor declared absent (kept until a
    run prunes them)."""
    absent = set(d['name'] for d in declared if d.get('state', 'present') == 'absent')
    present = [d['name'] for d in declared if d.get('state', 'present') != 'absent']
    return sorted(set(present) | (set(recorded) - set(pruned) - absent))


def write(path, names, check_mode=False):
    """Write the record when it differs; True when it did (or would)."""
    content = json.dumps({'namespaces': sorted(names)}, indent=2) + '\n'
    if fileio.read_text(path) == content:
        return False
    if not check_mode:
        fileio.write_atomically(path, content)
    return True
