# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files that rebuild declared network namespaces at boot, without Ansible.

/run is a tmpfs: a reboot removes every pin, so every namespace and the
links inside it. From netns_config's (validated) declarations this writes

- namespaces.sh (boot/script.py), which builds whatever of the declaration
  is missing, at boot and at every later run;
- a oneshot systemd unit whose ExecStart runs it, enabled by symlinks (what
  `systemctl enable` does, also where systemd is not running);

and removes them again. Files it did not write are never overwritten or
removed (a package's unit of the same name, an admin's file).
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import script
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.options import BootOptions, check_programs
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

# BootOptions above is imported at run time, not only for the annotations: callers take it from here
# (boot_files.BootOptions)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

HEADER = script.HEADER + '\n'
SCRIPT = 'namespaces.sh'
# Written by earlier versions (an `ip -batch` file that failed on a second
# run): removed when the files are written again.
LEGACY = ('host.batch',)


def unit(options: BootOptions) -> str:
    return (
        '\n'.join(
            [
                HEADER.rstrip('\n'),
                '# Rebuilds the network namespaces declared for this host at boot, without',
                '# Ansible. ExecStart can run again at any time (systemctl restart): it',
                '# keeps what exists and builds what is missing.',
                '[Unit]',
                'Description=Network namespaces declared with nsfd.namespaces',
                'DefaultDependencies=no',
                'After=local-fs.target',
                'Before=network-pre.target network-online.target',
                'Wants=network-pre.target',
                '',
                '[Service]',
                'Type=oneshot',
                'RemainAfterExit=yes',
                f'ExecStart=/bin/sh {options.boot_file(SCRIPT)}',
                '',
                '[Install]',
                f'WantedBy={" ".join(options.wanted_by)}',
            ]
        )
        + '\n'
    )


def render(decls: list[dict[str, Any]], options: BootOptions) -> dict[str, tuple[str, int]]:
    """{path: (content, mode)} of every boot file for the present namespaces."""
    present = [d for d in decls if d['state'] == 'present']
    script.check_plain(present)
    return {
        options.boot_file(SCRIPT): (script.render(present, options), 0o755),
        options.unit_path: (unit(options), 0o644),
    }


@dataclasses.dataclass(frozen=True)
class Change:
    """One change, in words (text), of path; before and after are the
    file's text where there is one (after is '' for a removed file)."""

    text: str
    path: str
    before: str | None = None
    after: str | None = None


def _file_mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def written_by(path: str, header: str) -> bool:
    """Whether path is absent or a regular file whose first two lines hold
    `header`. A file at path that this collection did not write (a package's
    unit of the same name, an admin's file) is neither overwritten nor removed."""
    if not os.path.lexists(path):
        return True
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    return header.rstrip('\n') in (fileio.read_text(path) or '').splitlines()[:2]


def _written_by_us(path: str) -> bool:
    return written_by(path, HEADER)


def _refuse_foreign(paths: Iterable[str]) -> None:
    header = HEADER.rstrip('\n')
    for path in paths:
        if not _written_by_us(path):
            raise NamespaceError(
                f'{path} exists and was not written by nsfd.namespaces (its first lines lack {header!r}): it is '
                'neither overwritten nor removed',
                path=path,
                hint='Choose another unit_name or boot_dir, or move that file away. Nothing was changed.',
            )


def _managed_files(options: BootOptions) -> list[str]:
    return [options.boot_file(name) for name in LEGACY + (SCRIPT,)] + [options.unit_path]


def ensure_present(decls: list[dict[str, Any]], options: BootOptions, check_mode: bool = False) -> list[Change]:
    """Write what differs, enable the unit. Returns [Change]."""
    rendered = render(decls, options)
    sysctl, bridge = script.needs([d for d in decls if d['state'] == 'present'])
    check_programs(options, sysctl=sysctl, bridge=bridge)  # a unit that cannot run them would fail at boot
    _refuse_foreign(_managed_files(options))
    for link in options.wants_links():
        if os.path.lexists(link) and not os.path.islink(link):
            raise NamespaceError(
                f'{link} is not a symlink: it is not replaced', path=link, hint='Move it away. Nothing was changed.'
            )
    changes: list[Change] = []
    for path, (content, mode) in sorted(rendered.items()):
        before = fileio.read_text(path)
        if before != content:
            changes.append(Change(f'{("write" if before is None else "update")} {path}', path, before, content))
            if not check_mode:
                fileio.write_atomically(path, content, mode)
        elif _file_mode(path) != mode:
            changes.append(Change(f'set mode of {path} to {mode:04o}', path))
            if not check_mode:
                os.chmod(path, mode)
    for path in [options.boot_file(name) for name in LEGACY]:
        if os.path.lexists(path):
            changes.append(Change(f'remove {path} (replaced by {SCRIPT})', path, fileio.read_text(path), ''))
            if not check_mode:
                fileio.remove(path)
    for link in options.wants_links():
        if os.path.islink(link) and os.readlink(link) == options.unit_path:
            continue
        changes.append(Change(f'enable {options.unit_name}: link {link}', link))
        if not check_mode:
            if not os.path.isdir(os.path.dirname(link)):
                os.makedirs(os.path.dirname(link), 0o755)
            fileio.remove(link)
            os.symlink(options.unit_path, link)
    return changes


def ensure_absent(options: BootOptions, check_mode: bool = False) -> list[Change]:
    """Disable and remove the unit and the boot files. Returns [Change]."""
    files = _managed_files(options)
    _refuse_foreign(files)
    # only the links that enable this very unit file
    links = [link for link in options.wants_links() if os.path.islink(link) and os.readlink(link) == options.unit_path]
    changes: list[Change] = []
    for path in links + files:
        if os.path.lexists(path):
            changes.append(
                Change(f'remove {path}', path, fileio.read_text(path) if not os.path.islink(path) else None, '')
            )
            if not check_mode:
                fileio.remove(path)
    if os.path.isdir(options.boot_dir) and not [
        n for n in os.listdir(options.boot_dir) if os.path.join(options.boot_dir, n) not in files
    ]:
        changes.append(Change(f'remove directory {options.boot_dir}', options.boot_dir))
        if not check_mode:
            os.rmdir(options.boot_dir)
    return changes
