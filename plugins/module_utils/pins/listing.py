# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A read-only inventory of pinned (and optionally unpinned) namespaces."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import nsid as nsid_util, procscan
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES, proc_path
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import holder
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import (
    FOREIGN,
    NOT_A_PIN,
    PRESENT,
    STALE,
    WRONG_TYPE,
    canonical_dir,
    inspect,
    location,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TypedDict

    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.holder import Orphan

    class NamespaceEntry(TypedDict):
        """One namespace as namespace_info returns it (namespaces[])."""

        name: str | None  # None for an unpinned namespace
        type: str
        path: str
        inode: int | None
        stale: bool
        pids: list[int]
        nsid: int | None


def _entries(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return []
        raise


def _nsid(path: str) -> int | None:
    try:
        return nsid_util.nsid_of_path(path)
    except OSError:
        return None


def list_namespaces(
    types: Sequence[str],
    names: Sequence[str] | None = None,
    include_unpinned: bool = False,
    pin_dirs: dict[str, str] | None = None,
) -> tuple[list[NamespaceEntry], list[str]]:
    """Entries {name, type, path, inode, stale, pids, nsid}, plus a list of
    warnings about directory entries that are not pins at all."""
    pin_dirs = pin_dirs or {}
    wanted = set(names) if names is not None else None
    owners = procscan.scan(types)
    entries: list[NamespaceEntry] = []
    warnings: list[str] = []
    pinned: set[tuple[str, int | None]] = set()
    for nstype in types:
        directory = canonical_dir(pin_dirs.get(nstype) or TYPES[nstype].default_dir)
        foreign = 0
        for name in _entries(directory):
            if wanted is not None and name not in wanted:
                continue
            if name_problem(name):
                continue
            state = inspect(location(name, nstype, pin_dir=directory))
            if state.state == FOREIGN:
                foreign += 1  # one warning for the directory, not one per file of, say, /etc
                continue
            if state.state in (NOT_A_PIN, WRONG_TYPE):
                warnings.append(f'{state.location.path} is not a {nstype} namespace pin: it {state.detail}')
                continue
            entry: NamespaceEntry = {
                'name': name,
                'type': nstype,
                'path': state.location.path,
                'inode': state.ino,
                'stale': state.state == STALE,
                'pids': [],
                'nsid': None,
            }
            if state.state == PRESENT:
                pinned.add((nstype, state.ino))
                entry['pids'] = sorted(owners[nstype].get(cast(int, state.ino), []))
                if nstype == 'pid' and not entry['pids']:
                    entry['stale'] = True  # its init is gone: nothing can run in it again
                if nstype == 'net':
                    entry['nsid'] = _nsid(state.location.path)
            entries.append(entry)
        if foreign:
            warnings.append(
                f'{directory} is not a pin directory: {foreign} entries in it that are not {nstype} namespace pins are '
                'not listed (empty files count as stale pins only in the pin directories)'
            )
    if include_unpinned and wanted is None:
        entries.extend(_unpinned_entries(types, owners, pinned))
    return entries, warnings


def _unpinned_entries(
    types: Sequence[str], owners: dict[str, dict[int, list[int]]], pinned: set[tuple[str, int | None]]
) -> list[NamespaceEntry]:
    """Entries for the namespaces processes are in that no pin listed holds
    (name None, the path under /proc of the lowest pid), by type, then
    inode."""
    entries: list[NamespaceEntry] = []
    for nstype in types:
        for ino, pids in sorted(owners[nstype].items()):
            if (nstype, ino) in pinned:
                continue
            pids = sorted(pids)
            path = proc_path(pids[0], nstype)
            entries.append(
                {
                    'name': None,
                    'type': nstype,
                    'path': path,
                    'inode': ino,
                    'stale': False,
                    'pids': pids,
                    'nsid': _nsid(path) if nstype == 'net' else None,
                }
            )
    return entries


def orphan_holders() -> tuple[list[Orphan], list[str]]:
    """Holders this collection started whose pid namespace is pinned nowhere
    (a creator killed by an older version, pins removed by hand), with a
    warning each saying how to end them. ([{pid, name, pin, inode, pids}],
    warnings)"""
    orphans = holder.orphans()
    warnings = [
        f'process {o["pid"]} is the init (holder) of pid namespace {o["name"]} (inode {o["inode"]}), which is '
        'pinned nowhere: it keeps its namespaces alive with nothing to reach them by; end it with '
        f'nsfd.namespaces.namespace name={o["name"]} type=pid state=absent'
        f'{f" pin_dir={holder_dir(o)}" if holder_dir(o) else ""}'
        for o in orphans
    ]
    return orphans, warnings


def holder_dir(orphan: Orphan) -> str | None:
    """The pin_dir to name in advice, when it is not the default."""
    directory = os.path.dirname(orphan['pin'] or '')
    return directory if directory and directory != canonical_dir(TYPES['pid'].default_dir) else None
