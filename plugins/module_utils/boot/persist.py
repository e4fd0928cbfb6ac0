# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The boot files as modules offer them: netns_persist takes these options
at its top level, netns_config under `boot` (so the netns role persists and
converges a host in one module call), and both return the same result."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import files as boot_files, script as boot_script
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.options import DEFAULT_WANTED_BY, BootOptions
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate

if TYPE_CHECKING:
    from typing import Any

OPTION_SPEC: dict[str, dict[str, Any]] = dict(
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    boot_dir=dict(type='path', default='/etc/nsfd-netns'),
    unit_dir=dict(type='path', default='/etc/systemd/system'),
    unit_name=dict(type='str', default='nsfd-netns.service'),
    # unset: found in PATH when the boot script runs (options.BOOT_PATH)
    ip_command=dict(type='path'),
    sysctl_command=dict(type='path'),
    wanted_by=dict(type='list', elements='str', default=list(DEFAULT_WANTED_BY)),
)


def systemd_running() -> bool:
    return os.path.isdir('/run/systemd/system')


def apply(
    namespaces: list[dict[str, Any]] | None, params: dict[str, Any], check_mode: bool = False, diff: bool = False
) -> dict[str, Any]:
    """Write (state present) or remove the boot files for the declaration
    `namespaces` (netns_config's schema); params holds OPTION_SPEC's keys.
    Raises NamespaceError (bad input, nothing written) or OSError."""
    # both raise NamespaceError before anything is touched, in either state
    options = BootOptions(**dict((key, params[key]) for key in OPTION_SPEC if key != 'state'))
    decls = validate(namespaces) if namespaces is not None else []  # a bad declaration changes nothing, either state
    if params['state'] == 'present':
        changes = boot_files.ensure_present(decls, options, check_mode=check_mode)
    else:
        changes = boot_files.ensure_absent(options, check_mode=check_mode)
    result: dict[str, Any] = {
        'changed': bool(changes),
        'changes': [c.text for c in changes],
        'files': [c.path for c in changes],
        'unit': options.unit_path,
        'systemd_running': systemd_running(),
    }
    if diff:
        result['diff'] = [
            {'before_header': c.path, 'after_header': c.path, 'before': c.before or '', 'after': c.after or ''}
            for c in changes
            if c.after is not None
        ]
    return result


def check_pin_dir(params: dict[str, Any] | None, pin_dir: str | None) -> None:
    """The boot script pins network namespaces where iproute2 does
    (/run/netns): refuse a boot option that would rebuild them elsewhere
    than the pin_dir the same call converges, before anything is written."""
    if params is None or params['state'] != 'present' or pin_dir is None:
        return
    if os.path.realpath(pin_dir) != boot_script.PIN_DIR:
        raise NamespaceError(
            f'boot rebuilds the namespaces in {boot_script.PIN_DIR} (the iproute2 directory), '
            f'not in pin_dir {pin_dir!r}; nothing was changed',
            path=pin_dir,
            hint=f'Leave pin_dir unset (or {boot_script.PIN_DIR}) to persist these namespaces, or drop boot.',
        )
