# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host's record (data_dir/NAME/host.json), its directory's marker, and
telling its init apart from a process that merely got the same pid later.

A host directory is the module's only when it holds the record or the
marker (written first thing when the module makes or takes the directory):
only then, and only what the module puts there, is ever removed."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

if TYPE_CHECKING:
    from collections.abc import Iterable

RECORD = 'host.json'
# Written into a host directory before anything else: a directory without it
# (or the record) is someone else's, whatever its name.
MARKER = '.nsfd-host'
# write_atomically's temporary files of the record
_RECORD_TEMP = f'.{RECORD}.'
# argv[0] of every host's init (sh -c SCRIPT MARKER NAME DATA_DIR): with the
# start time, what proves a pid is still that host's init.
INIT_MARKER = 'nsfd-namespace-host'


def path_of(data_dir: str, name: str) -> str:
    return os.path.join(data_dir, name, RECORD)


class Damaged(NamespaceError):
    """A record that is there but cannot be read as this host's."""


def load(data_dir: str, name: str) -> dict[str, Any] | None:
    """The record of host name, or None when there is none; Damaged when it
    cannot be read as this host's."""
    path = path_of(data_dir, name)
    try:
        text = fileio.read_text(path)
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot read the host record', name=name, path=path)
    if text is None:
        return None
    try:
        record = json.loads(text)
        if not isinstance(record, dict) or record.get('name') != name:
            raise ValueError('not the record of this host')
    except ValueError as exc:
        raise Damaged(
            f'the host record is damaged ({exc})',
            name=name,
            path=path,
            hint='Remove the host with state: absent (it ends the host\'s init and removes what the '
            'module made), then start it again.',
        )
    return record


def load_any(data_dir: str, name: str) -> dict[str, Any] | None:
    """The record, or for a damaged one what can still be read of it (salvage)
    with 'damaged' saying why; None when there is none."""
    try:
        return load(data_dir, name)
    except Damaged as exc:
        return salvage(data_dir, name, exc.message)


def salvage(data_dir: str, name: str, why: str) -> dict[str, Any]:
    """What a damaged (truncated) record still tells: the nonce of its init,
    the ids of its pins and its lab, each when its text is whole. The rest is
    unknown (None), never guessed."""
    try:
        text = fileio.read_text(path_of(data_dir, name)) or ''
    except OSError:
        text = ''
    found: dict[str, Any] = {
        'name': name,
        'data_dir': data_dir,
        'damaged': why,
        'pid': None,
        'start_time': None,
        'hostname': None,
        'root': None,
        'shared_paths': [],
        'lab': None,
        'pin_ids': {},
    }
    nonce = re.search(r'"nonce": "([0-9a-f]+)"', text)
    if nonce:
        found['nonce'] = nonce.group(1)
    ids = re.search(r'"pin_ids": \{([^}]*)\}', text)
    for nstype, dev, ino in re.findall(r'"(\w+)": \[\s*(\d+),\s*(\d+)\s*\]', ids.group(1) if ids else ''):
        found['pin_ids'][nstype] = [int(dev), int(ino)]
    boot = re.search(r'"pin_boot": "([0-9a-f-]+)"', text)
    found['pin_boot'] = boot.group(1) if boot else None
    lab = re.search(r'"lab": \{([^}]*)\}', text)
    fields = dict(re.findall(r'"(\w+)": "([^"]*)"', lab.group(1))) if lab else {}
    if fields.get('name') and fields.get('bridge'):
        found['lab'] = {'name': fields['name'], 'bridge': fields['bridge']}
    return found


def save(data_dir: str, name: str, record: dict[str, Any]) -> None:
    fileio.write_atomically(path_of(data_dir, name), json.dumps(record, indent=1, sort_keys=True) + '\n', 0o600)


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def ours(data_dir: str, name: str) -> bool:
    """Whether data_dir/NAME is a host directory the module made or took:
    its record or its marker is there (a regular file, not a link)."""
    host_dir = os.path.join(data_dir, name)
    return _regular(os.path.join(host_dir, RECORD)) or _regular(os.path.join(host_dir, MARKER))


def foreign_dir(data_dir: str, name: str) -> str | None:
    """The host directory's path when something is there that the module
    did not make (an empty directory may be taken), else None."""
    host_dir = os.path.join(data_dir, name)
    if not os.path.lexists(host_dir) or ours(data_dir, name):
        return None
    if os.path.isdir(host_dir) and not os.path.islink(host_dir) and not os.listdir(host_dir):
        return None
    return host_dir


def check_dir(data_dir: str, name: str) -> None:
    """Refuse a directory of the host's name that the module did not make."""
    host_dir = foreign_dir(data_dir, name)
    if host_dir:
        raise NamespaceError(
            f'{host_dir} is there and is not a host directory of this module (it holds neither {RECORD} nor {MARKER})',
            name=name,
            path=host_dir,
            errno=errno.EEXIST,
            hint='It is left untouched: move it away, or give the host another name or data_dir.',
        )


def claim(data_dir: str, name: str) -> None:
    """Make the host directory (or take an empty one) and mark it as the
    module's, before anything else is written there."""
    host_dir = os.path.join(data_dir, name)
    check_dir(data_dir, name)
    os.makedirs(data_dir, 0o755, exist_ok=True)
    try:
        os.mkdir(host_dir, 0o755)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise
    if not _regular(os.path.join(host_dir, MARKER)):
        fileio.write_atomically(os.path.join(host_dir, MARKER), name + '\n', 0o644)


def remove_dir(data_dir: str, name: str, layers: Iterable[str]) -> list[str]:
    """Remove what the module makes in a host directory of its own: the
    record, the marker, the record's temporary files and the layers (paths
    like etc/upper), then each directory left empty. Returns the entries
    left in it (someone else's), [] when the directory is gone. Never
    called for a directory that is not the module's (ours)."""
    host_dir = os.path.join(data_dir, name)
    for layer in layers:
        _remove_tree(os.path.join(host_dir, layer))
    for entry in os.listdir(host_dir):
        if entry == RECORD or entry.startswith(_RECORD_TEMP) or entry.startswith(f'.{MARKER}.'):
            fileio.remove(os.path.join(host_dir, entry))
    # the marker last: a run killed before this point leaves a directory the next absent still owns
    fileio.remove(os.path.join(host_dir, MARKER))
    parents = sorted(set(os.path.dirname(layer) for layer in layers if os.path.dirname(layer)), reverse=True)
    for sub in parents + ['']:
        try:
            os.rmdir(os.path.join(host_dir, sub) if sub else host_dir)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.ENOTDIR):
                raise
    return sorted(os.listdir(host_dir)) if os.path.isdir(host_dir) else []


def _remove_tree(path: str) -> None:
    """A layer: its whole tree (a symlink put in its place is only unlinked)."""
    if os.path.islink(path) or os.path.isfile(path):
        fileio.remove(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def names(data_dir: str) -> list[str]:
    """The names of the hosts with a record in data_dir (damaged ones too)."""
    try:
        entries = sorted(os.listdir(data_dir))
    except OSError:
        return []
    return [n for n in entries if os.path.isfile(os.path.join(data_dir, n, RECORD))]


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks after boot), or None when
    there is no such process. The command name (field 2) may hold spaces
    and parentheses: count from the last ')'."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b')') + 2 :].split()
    if fields[0] == b'Z':
        return None  # a zombie is no longer an init
    return int(fields[19])


def _init_of(pid: int, name: str, data_dir: str) -> bool:
    try:
        with open(f'/proc/{pid}/cmdline', 'rb') as handle:
            argv = handle.read().split(b'\0')
    except OSError:
        return False
    return argv[-4:] == [os.fsencode(INIT_MARKER), os.fsencode(name), os.fsencode(data_dir), b'']


def running_data_dirs() -> set[str]:
    """The data directories of every running host's init, whatever its data_dir."""
    found = set()
    for entry in os.listdir('/proc'):
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as handle:
                argv = handle.read().split(b'\0')
        except OSError:
            continue
        if entry.isdigit() and len(argv) >= 4 and argv[-4] == os.fsencode(INIT_MARKER):
            found.add(os.fsdecode(argv[-2]))
    return found


def stray_inits(name: str, data_dir: str) -> list[int]:
    """The pids of every running init of host name in data_dir, recorded or
    not: a run killed (kill -9) between starting an init and saving its pid
    leaves one that only its command line tells."""
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and start_time(int(entry)) is not None and _init_of(int(entry), name, data_dir):
            found.append(int(entry))
    return found


def nonce_of(pid: int) -> str | None:
    """The NSFD_HOST_NONCE its start gave an init (the record holds it from
    before the start), or None."""
    try:
        with open(f'/proc/{pid}/environ', 'rb') as handle:
            environ = handle.read().split(b'\0')
    except OSError:
        return None
    for entry in environ:
        if entry.startswith(b'NSFD_HOST_NONCE='):
            return entry.split(b'=', 1)[1].decode('ascii', 'replace')
    return None


def init_alive(record: dict[str, Any]) -> bool:
    """Whether the record's init still runs: same pid, same start time and the
    marker, name and data directory on its command line."""
    pid = record.get('pid')
    if not pid or start_time(pid) != record.get('start_time'):
        return False
    return _init_of(pid, record['name'], record['data_dir'])
