# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The record of which network namespaces a caller (the netns role) manages
on a host, so that pruning removes what it created and nothing else.

A JSON file {"namespaces": [names], "files": {name: [paths]}, "services":
[{name, namespace, ...}]} on persistent storage: /run is wiped by a reboot,
the record must not be. "files" lists the /etc/netns/NAME/ files the
declarations wrote (relative paths), so that removing NAME removes them too;
"services" the systemd services placed in the namespaces (a drop-in each),
so that a service no longer declared is taken out again. Both are left out
while empty.

The record is an intent log. Before a run touches anything it records every
name it may create (intent()); names leave it only once they are gone
(after()). A run killed at any point thus leaves a record that lists at
least every namespace and file that exists because of it.
"""

import json
import os

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem


SERVICE_FLAGS = ('restart', 'writable_etc', 'bind_etc')


class Record(object):
    def __init__(self, names=(), files=None, services=()):
        self.names = set(names)
        self.files = dict((n, set(f)) for n, f in (files or {}).items() if f and n in self.names)
        self.services = list(services)

    def managed(self):
        return sorted(self.names)

    def with_services(self, services):
        return Record(self.names, self.files, services)

    def content(self):
        data = {'namespaces': self.managed()}
        if self.files:
            data['files'] = dict((n, sorted(f)) for n, f in sorted(self.files.items()))
        if self.services:
            data['services'] = self.services
        return json.dumps(data, indent=2, sort_keys=True) + '\n'


def _parse_services(services):
    if not isinstance(services, list):
        raise ValueError('services is not a list')
    for service in services:
        if not isinstance(service, dict) or not isinstance(service.get('name'), str) \
                or not isinstance(service.get('namespace'), str) \
                or not set(service) <= set(('name', 'namespace') + SERVICE_FLAGS) \
                or not all(isinstance(service[flag], bool) for flag in SERVICE_FLAGS if flag in service):
            raise ValueError('services holds %r, not {name, namespace} with boolean %s'
                             % (service, ', '.join(SERVICE_FLAGS)))
    return services


def _relative(rel):
    norm = os.path.normpath(rel)
    return norm == rel and not os.path.isabs(rel) and rel != '.' and not rel.startswith('..')


def _parse(text):
    data = json.loads(text)
    names = data['namespaces']
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError('namespaces is not a list of names')
    for name in names:
        # a record is data on disk: a name in it must be as safe as a declared one before prune acts on it
        problem = name_problem(name)
        if problem:
            raise ValueError('namespaces holds %r, which %s' % (name, problem))
    files = data.get('files', {})
    if not isinstance(files, dict):
        raise ValueError('files is not an object')
    for name, paths in files.items():
        if not isinstance(paths, list):
            raise ValueError('files[%r] is not a list of paths' % (name,))
        for rel in paths:
            if not isinstance(rel, str) or not _relative(rel):
                raise ValueError('files[%r] holds %r, not a normalised relative path inside /etc/netns/%s'
                                 % (name, rel, name))
    return Record(names, files, _parse_services(data.get('services', [])))


def read(path):
    """The Record at path (empty when there is no record yet)."""
    text = fileio.read_text(path)
    if text is None:
        return Record()
    try:
        return _parse(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NamespaceError('the record %s is not {"namespaces": [names], "files": {name: [paths]}, "services": '
                             '[services]}: %s' % (path, exc), path=path,
                             hint='Fix or remove the file; without it, nothing is pruned.')


def to_prune(recorded, declared):
    """Recorded names no longer declared at all (neither present nor absent)."""
    named = set(d['name'] for d in declared)
    return sorted(recorded.names - named)


def declared_services(declared):
    """The services of the namespaces declared present, as the record holds them."""
    return [dict(service, namespace=decl['name']) for decl in declared if decl['state'] != 'absent'
            for service in decl['services']]


def undeclared_services(recorded, declared):
    """Recorded services no longer declared in any namespace (to be taken out)."""
    names = set(service['name'] for service in declared_services(declared))
    return [service for service in recorded.services if service['name'] not in names]


def intent(recorded, declared):
    """What to record before acting: every recorded name, file and service,
    plus the namespaces, files and services declared present."""
    names = set(recorded.names)
    files = dict((n, set(f)) for n, f in recorded.files.items())
    for decl in declared:
        if decl['state'] != 'absent':
            names.add(decl['name'])
            files.setdefault(decl['name'], set()).update(decl['files'])
    return Record(names, files, declared_services(declared) + undeclared_services(recorded, declared))


def after(intended, gone, exists):
    """What the record holds after a run: the intent, less the names now
    gone and the files no longer on disk (exists(name, rel) says)."""
    names = intended.names - set(gone)
    files = dict((n, set(r for r in f if exists(n, r))) for n, f in intended.files.items() if n in names)
    return Record(names, files, intended.services)


def write(path, record, check_mode=False):
    """Write the record when it differs; True when it did (or would)."""
    content = record.content()
    if not check_mode:
        _remove_leftovers(path)
    if fileio.read_text(path) == content:
        return False
    if not check_mode:
        fileio.write_atomically(path, content)
    return True


def _remove_leftovers(path):
    """Temporary files of a write killed before its rename. Only a run
    holding the host lock writes the record, so none is in use now."""
    directory, base = os.path.split(path)
    try:
        entries = os.listdir(directory or '.')
    except OSError:
        return
    for entry in entries:
        if entry.startswith('.%s.' % base):
            fileio.remove(os.path.join(directory, entry))
