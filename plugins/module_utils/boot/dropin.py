# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The systemd drop-in that runs an existing service inside a pinned network
namespace, the way `ip netns exec NAME` runs a command:

- `NetworkNamespacePath=` joins the pin. It is opened when the service
  starts, so `Requires=`/`After=` the unit that rebuilds the pins at boot
  (/run is empty after a reboot). `JoinsNamespaceOf=` is not used: it shares
  the network namespace of another unit, never the mount namespace, and
  names no pin.
- systemd binds nothing from /etc/netns/NAME (systemd#28694), while
  `ip netns exec` binds each entry over its /etc counterpart: one
  `BindReadOnlyPaths=` (or `BindPaths=`) line per entry present when the
  drop-in is written, prefixed with `-` so that an entry removed later does
  not stop the service from starting (ip netns exec binds what is there).

Every value that reaches the drop-in is checked first: systemd expands `%`
specifiers in these settings and splits bind lists at blanks and `:`.
"""

from __future__ import annotations

import dataclasses
import os
import re

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.files import written_by
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.options import (
    _refuse,
    check_directory,
    check_unit_name,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import check_name

HEADER = '# Managed by nsfd.namespaces (netns_service): changes here are overwritten.'
DROPIN = '50-nsfd-netns.conf'
# Taken literally by systemd in NetworkNamespacePath= and in a bind list
# (no % specifier, blank, quote, backslash escape or ':' separator).
LITERAL = re.compile(r'^[A-Za-z0-9_.@+-]+\Z')
LITERAL_PATH = re.compile(r'^[A-Za-z0-9/_.@+-]+\Z')
LITERAL_WHY = '(systemd expands % specifiers in it and splits it at blanks and :)'


def _literal_dir(option: str, value: object) -> str:
    path = check_directory(option, value)
    if not LITERAL_PATH.match(path):
        _refuse(option, path, 'a directory path of letters, digits and /_.@+- only ' + LITERAL_WHY)
    return path


# eq=False: compared and hashed by identity, as before it was a dataclass
@dataclasses.dataclass(eq=False)
class ServiceOptions:
    """Checked on construction: every path and name is safe to write into
    the drop-in, and the drop-in path stays inside unit_dir. An empty
    boot_unit is kept as None (no boot unit)."""

    unit: str
    namespace: str
    pin_dir: str = '/run/netns'
    unit_dir: str = '/etc/systemd/system'
    boot_unit: str | None = 'nsfd-netns.service'
    etc_dir: str = '/etc/netns'
    bind_etc: bool = True
    writable_etc: bool = False

    def __post_init__(self) -> None:
        self.unit = check_unit_name('unit', self.unit, ('.service',))
        namespace = self.namespace
        self.namespace = check_name(namespace, 'namespace')
        if not LITERAL.match(namespace):
            _refuse('namespace', namespace, 'a name of letters, digits and _.@+- only ' + LITERAL_WHY)
        self.pin_dir = _literal_dir('pin_dir', self.pin_dir)
        self.unit_dir = check_directory('unit_dir', self.unit_dir)
        self.boot_unit = check_unit_name('boot_unit', self.boot_unit, ('.service',)) if self.boot_unit else None
        self.etc_dir = _literal_dir('etc_dir', self.etc_dir)
        self.bind_etc = bool(self.bind_etc)
        self.writable_etc = bool(self.writable_etc)

    @property
    def pin_path(self) -> str:
        return os.path.join(self.pin_dir, self.namespace)

    @property
    def dropin_dir(self) -> str:
        return os.path.join(self.unit_dir, self.unit + '.d')

    @property
    def dropin_path(self) -> str:
        return os.path.join(self.dropin_dir, DROPIN)

    @property
    def netns_etc(self) -> str:
        return os.path.join(self.etc_dir, self.namespace)


def etc_entries(options: ServiceOptions) -> list[str]:
    """The entries of /etc/netns/NAME now (what `ip netns exec` would bind),
    sorted; a name systemd would not take literally fails, naming it."""
    if not options.bind_etc or not os.path.isdir(options.netns_etc):
        return []
    names = sorted(os.listdir(options.netns_etc))
    for name in names:
        if not LITERAL.match(name):
            raise NamespaceError(
                f'{name!r} in {options.netns_etc} cannot be bound over /etc by a systemd drop-in, which takes names of '
                f'letters, digits and _.@+- only {LITERAL_WHY}',
                name=options.namespace,
                path=os.path.join(options.netns_etc, name),
                hint='Rename it, or set bind_etc: false. Nothing was changed.',
            )
    return names


def render(options: ServiceOptions, entries: list[str]) -> str:
    """The drop-in's text for the /etc/netns entries `entries`."""
    lines = [
        HEADER,
        f'# Runs {options.unit} inside network namespace {options.namespace} (nsfd.namespaces.netns_service).',
    ]
    if options.boot_unit:
        lines += [
            '[Unit]',
            '# the pin is rebuilt at boot by this unit; it must exist before the service starts',
            f'Requires={options.boot_unit}',
            f'After={options.boot_unit}',
            '',
        ]
    lines += ['[Service]', f'NetworkNamespacePath={options.pin_path}']
    if entries:
        setting = 'BindPaths' if options.writable_etc else 'BindReadOnlyPaths'
        lines.append('# as ip netns exec does; `-`: an entry removed later is skipped (rerun to drop it)')
        lines += [
            f'{setting}=-{os.path.join(options.netns_etc, name)}:{os.path.join("/etc", name)}' for name in entries
        ]
    return '\n'.join(lines) + '\n'


@dataclasses.dataclass(frozen=True)
class DropinChange:
    """The change to the drop-in, in words (text); its text before (None:
    there was none) and after ('' once removed)."""

    text: str
    path: str
    before: str | None
    after: str

    def as_diff(self) -> dict[str, str]:
        return {
            'before_header': self.path,
            'after_header': self.path,
            'before': self.before or '',
            'after': self.after or '',
        }


def _refuse_foreign(options: ServiceOptions) -> None:
    if not written_by(options.dropin_path, HEADER):
        raise NamespaceError(
            f'{options.dropin_path} exists and was not written by nsfd.namespaces (its first lines lack {HEADER!r}): '
            'it is neither overwritten nor removed',
            name=options.namespace,
            path=options.dropin_path,
            hint='Move that file away. Nothing was changed.',
        )


def ensure_present(options: ServiceOptions, content: str, check_mode: bool = False) -> DropinChange | None:
    """Write the drop-in when it differs. Returns a DropinChange or None."""
    _refuse_foreign(options)
    before = fileio.read_text(options.dropin_path)
    if before == content:
        return None
    if not check_mode:
        fileio.write_atomically(options.dropin_path, content, 0o644)
    return DropinChange(
        f'{("write" if before is None else "update")} {options.dropin_path}',
        options.dropin_path,
        before,
        content,
    )


def ensure_absent(options: ServiceOptions, check_mode: bool = False) -> DropinChange | None:
    """Remove our drop-in (and its directory when that is left empty).
    Returns a DropinChange or None."""
    _refuse_foreign(options)
    before = fileio.read_text(options.dropin_path)
    if before is None:
        return None
    if not check_mode:
        fileio.remove(options.dropin_path)
        if not os.listdir(options.dropin_dir):
            os.rmdir(options.dropin_dir)
    return DropinChange(f'remove {options.dropin_path}', options.dropin_path, before, '')
