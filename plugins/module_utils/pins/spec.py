# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A validated description of one named namespace (set) and its pins.

Everything a caller can get wrong is checked here, before anything is
looked at or changed.
"""

import os

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.create import CreateOptions
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import (
    check_name, check_pin_dir, check_pin_path, check_types, unprintable)
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import location

HOST_NAME_MAX = 64
CLOCKS = ('monotonic', 'boottime')


class Spec(object):
    def __init__(self, name, types, locations, source_pid=None, source_path=None, force=False,
                 options=None, wanted=None):
        self.name = name
        self.types = types
        self.locations = locations  # type -> PinLocation
        self.source_pid = source_pid
        self.source_path = source_path
        self.force = force
        self.options = options or CreateOptions()
        # The properties the caller asked to be checked on existing namespaces.
        self.wanted = wanted or {}
        # The options that chose the pin paths, as the user wrote them, for errors.
        self.given = 'name=%r' % (name,)

    @property
    def attach(self):
        return self.source_pid is not None or self.source_path is not None


def parse_id_map(entries, field):
    """uid_map/gid_map entries: 'inside outside count' strings or dicts with
    those keys. Returns [(inside, outside, count)]."""
    result = []
    for index, entry in enumerate(entries or []):
        where = '%s[%d]' % (field, index)
        if isinstance(entry, dict):
            unknown = set(entry) - set(('inside', 'outside', 'count'))
            if unknown:
                raise NamespaceError('%s has unknown keys %s' % (where, ', '.join(sorted(unknown))))
            values = [entry.get('inside'), entry.get('outside'), entry.get('count', 1)]
        elif isinstance(entry, str):
            values = entry.split()
        else:
            raise NamespaceError('%s must be "inside outside count" or a dict' % where)
        if any(isinstance(v, (bool, float)) for v in values):
            raise NamespaceError('%s must hold three integers (inside outside count), not %r' % (where, entry))
        try:
            values = [int(v) for v in values]
        except (TypeError, ValueError):
            raise NamespaceError('%s must hold three integers (inside outside count), not %r' % (where, entry))
        if len(values) != 3 or values[0] < 0 or values[1] < 0 or values[2] < 1:
            raise NamespaceError('%s must be "inside outside count" with count >= 1, not %r' % (where, entry))
        if values[0] + values[2] > 2 ** 32 or values[1] + values[2] > 2 ** 32:
            raise NamespaceError('%s %r goes past the 32-bit id range' % (where, entry))
        result.append(tuple(values))
    if len(result) > 340:
        raise NamespaceError('%s has %d lines; the kernel takes at most 340' % (field, len(result)))
    return result


def parse_offsets(offsets):
    """time_offsets: {clock: seconds (int, float or 'SECS NSECS')} ->
    {clock: (secs, nsecs)} with 0 <= nsecs < 1e9 as the kernel wants."""
    result = {}
    for clock, value in (offsets or {}).items():
        if clock not in CLOCKS:
            raise NamespaceError('time_offsets has unknown clock %r; use %s' % (clock, ' or '.join(CLOCKS)))
        try:
            if isinstance(value, bool):
                raise TypeError('a boolean is not a number of seconds')
            if isinstance(value, str) and len(value.split()) == 2:
                secs, nsecs = (int(v) for v in value.split())
            else:
                total = round(float(value) * 1000000000)
                secs, nsecs = divmod(int(total), 1000000000)
        except (TypeError, ValueError, OverflowError):
            raise NamespaceError('time_offsets.%s must be a finite number of seconds, not %r' % (clock, value))
        if not 0 <= nsecs < 1000000000:
            raise NamespaceError('time_offsets.%s nanoseconds must be in [0, 999999999], not %r' % (clock, value))
        if abs(secs) > 2 ** 62:
            raise NamespaceError('time_offsets.%s %r is out of range for the kernel' % (clock, value))
        result[clock] = (secs, nsecs)
    return result


def _check_host_field(value, field):
    if value is None:
        return None
    if not isinstance(value, str):
        raise NamespaceError('%s must be a string, not %r' % (field, value))
    if len(value.encode('utf-8')) > HOST_NAME_MAX:
        raise NamespaceError('%s %r is longer than %d bytes' % (field, value, HOST_NAME_MAX))
    if unprintable(value):
        raise NamespaceError('%s %r must not contain NUL, newlines or other control characters' % (field, value))
    return value


def _needs(types, nstype, field, value):
    if value not in (None, [], {}) and nstype not in types:
        raise NamespaceError("%s applies to %s namespaces: add '%s' to type" % (field, nstype, nstype))


def _check_location(name, types, pin_dir, path):
    """The name and where its pins go: (name, pin_dir, path), checked."""
    if path is not None:
        path = check_pin_path(path)
        if len(types) != 1:
            raise NamespaceError('path names one pin, so it takes exactly one type, not %s' % ', '.join(types))
        if pin_dir is not None:
            raise NamespaceError('path and pin_dir are mutually exclusive')
        if name is None:
            name = os.path.basename(path)
    if name is None:
        raise NamespaceError('name is required (or path)')
    check_name(name)
    if pin_dir is not None:
        pin_dir = check_pin_dir(pin_dir)
        if len(types) != 1:
            raise NamespaceError('pin_dir sets the directory of one type; with several types '
                                 '(%s) each keeps its default directory' % ', '.join(types),
                                 hint='Use one task per type to put pins in other directories.')
    return name, pin_dir, path


def _check_source(types, source_pid, source_path):
    """The namespace to attach to, if any: source_path, checked."""
    if source_pid is not None and source_path is not None:
        raise NamespaceError('source_pid and source_path are mutually exclusive')
    if source_pid is not None:
        if isinstance(source_pid, bool) or not isinstance(source_pid, int) or source_pid < 1:
            raise NamespaceError('source_pid must be a positive process id, not %r' % (source_pid,))
    if source_path is not None:
        source_path = check_pin_path(source_path, 'source_path')
        if len(types) != 1:
            raise NamespaceError('source_path names one namespace, so it takes exactly one type')
    return source_path


def _create_options(types, attaching, hostname, domainname, uid_map, gid_map, time_offsets):
    _needs(types, 'uts', 'hostname', hostname)
    _needs(types, 'uts', 'domainname', domainname)
    _needs(types, 'user', 'uid_map', uid_map)
    _needs(types, 'user', 'gid_map', gid_map)
    _needs(types, 'time', 'time_offsets', time_offsets)
    if attaching and (uid_map or gid_map or time_offsets):
        raise NamespaceError('uid_map, gid_map and time_offsets are fixed when a namespace is created; '
                             'they cannot be given with source_pid or source_path')
    return CreateOptions(hostname=_check_host_field(hostname, 'hostname'),
                         domainname=_check_host_field(domainname, 'domainname'),
                         uid_map=parse_id_map(uid_map, 'uid_map'),
                         gid_map=parse_id_map(gid_map, 'gid_map'),
                         time_offsets=parse_offsets(time_offsets))


def _wanted(options):
    """The options as existing namespaces report them (lists, not tuples), only those given."""
    wanted = {}
    for key in ('hostname', 'domainname'):
        if getattr(options, key) is not None:
            wanted[key] = getattr(options, key)
    for key in ('uid_map', 'gid_map'):
        if getattr(options, key):
            wanted[key] = [list(e) for e in getattr(options, key)]
    if options.time_offsets:
        wanted['time_offsets'] = dict((k, list(v)) for k, v in options.time_offsets.items())
    return wanted


def build(name=None, types='net', pin_dir=None, path=None, source_pid=None, source_path=None,
          force=False, hostname=None, domainname=None, uid_map=None, gid_map=None, time_offsets=None):
    types = check_types(types)
    given_path, given_pin_dir = path, pin_dir
    name, pin_dir, path = _check_location(name, types, pin_dir, path)
    source_path = _check_source(types, source_pid, source_path)
    attaching = source_pid is not None or source_path is not None
    options = _create_options(types, attaching, hostname, domainname, uid_map, gid_map, time_offsets)
    locations = dict((t, location(name, t, pin_dir=pin_dir, path=path)) for t in types)
    result = Spec(name, types, locations, source_pid=source_pid, source_path=source_path,
                  force=bool(force), options=options, wanted=_wanted(options))
    if path is not None:
        result.given = 'path=%r' % (given_path,)
    elif pin_dir is not None:
        result.given = 'name=%r, pin_dir=%r' % (name, given_pin_dir)
    return result
