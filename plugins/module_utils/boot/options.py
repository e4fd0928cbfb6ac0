# -*- coding: utf-8 -*-
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
"""

import os
import re

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import unprintable

DEFAULT_WANTED_BY = ('multi-user.target', 'network-online.target')

# systemd's unit-name.c: VALID_CHARS, '@' before the instance, UNIT_NAME_MAX.
UNIT_NAME_MAX = 255
UNIT_CHARS = re.compile(r'^[A-Za-z0-9:_.\\-]+\Z')
UNIT_CHARS_WITH_AT = re.compile(r'^[A-Za-z0-9:_.\\@-]+\Z')
# Taken literally in an ExecStart= argument and in a sh comment.
EXEC_SAFE_PATH = re.compile(r'^[A-Za-z0-9/_.+@:,-]+\Z')
NOTHING_CHANGED = 'Nothing was changed.'


def _refuse(option, value, allowed):
    raise NamespaceError('%s: %r is not allowed: %s' % (option, value, allowed), hint=NOTHING_CHANGED)


def check_unit_name(option, value, suffixes):
    """A plain or instance unit name (not a template) of one of `suffixes`."""
    allowed = ('a systemd unit name ending in %s: at most %d characters, letters, digits and :_.\\- with at most '
               'one @ followed by an instance, no / or blanks' % (' or '.join(suffixes), UNIT_NAME_MAX))
    if not isinstance(value, str) or not 0 < len(value) <= UNIT_NAME_MAX:
        _refuse(option, value, allowed)
    prefix, dot, suffix = value.rpartition('.')
    if not dot or not prefix or '.' + suffix not in suffixes:
        _refuse(option, value, allowed)
    unit, at, instance = prefix.partition('@')
    if not UNIT_CHARS.match(unit) or (at and not UNIT_CHARS_WITH_AT.match(instance)):
        _refuse(option, value, allowed)
    return value


def check_path(option, value, exec_safe=False):
    allowed = 'an absolute, normalised path (no //, /./, /../ or trailing /) without control characters'
    if exec_safe:
        allowed += (', of letters, digits and /_.+@:,- only, since it goes into the unit\'s ExecStart= line '
                    '(systemd would expand %, $ and \\ and split at blanks and quotes)')
    if (not isinstance(value, str) or not value.startswith('/') or value.startswith('//')
            or os.path.normpath(value) != value or unprintable(value)
            or (exec_safe and not EXEC_SAFE_PATH.match(value))):
        _refuse(option, value, allowed)
    return value


def check_directory(option, value, exec_safe=False):
    check_path(option, value, exec_safe)
    if value == '/':
        _refuse(option, value, 'a directory of its own, not /')
    return value


class BootOptions(object):
    """Checked on construction: an instance is safe to write and remove."""

    def __init__(self, boot_dir='/etc/nsfd-netns', unit_dir='/etc/systemd/system', unit_name='nsfd-netns.service',
                 ip_command='/usr/sbin/ip', sysctl_command='/usr/sbin/sysctl', wanted_by=DEFAULT_WANTED_BY):
        self.boot_dir = check_directory('boot_dir', boot_dir, exec_safe=True)
        self.unit_dir = check_directory('unit_dir', unit_dir)
        self.unit_name = check_unit_name('unit_name', unit_name, ('.service',))
        self.ip_command = check_path('ip_command', ip_command)
        self.sysctl_command = check_path('sysctl_command', sysctl_command)
        if not isinstance(wanted_by, (list, tuple)):
            _refuse('wanted_by', wanted_by, 'a list of unit names')
        self.wanted_by = [check_unit_name('wanted_by[%d]' % i, target, ('.target', '.service'))
                          for i, target in enumerate(wanted_by)]

    @property
    def unit_path(self):
        return os.path.join(self.unit_dir, self.unit_name)

    def boot_file(self, name):
        return os.path.join(self.boot_dir, name)

    def wants_links(self):
        return [os.path.join(self.unit_dir, '%s.wants' % target, self.unit_name) for target in self.wanted_by]
