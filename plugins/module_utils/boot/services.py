# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netns_config's `services`: the systemd services each declared namespace
runs, placed with netns_service's drop-in (boot/service.py) in the same call
that converges the namespaces, and taken out again once no longer declared
(the record lists what was placed).

One module call does what took a task per service and a read of the role's
own record: on a fleet every task is a round trip to each host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import service
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.dropin import ServiceOptions
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.record import declared_services

if TYPE_CHECKING:
    from typing import Any

DEFAULT_PIN_DIR = '/run/netns'
HINT = 'Nothing was changed: fix the service in namespaces and run again.'


def boot_unit_of(boot: dict[str, Any] | None) -> str:
    """The unit that creates the pins at boot, which the drop-ins require: none without boot files."""
    return boot['unit_name'] if boot and boot['state'] == 'present' else ''


def unit_dir_of(boot: dict[str, Any] | None) -> str:
    return boot['unit_dir'] if boot else service.OPTION_SPEC['unit_dir']['default']


def check(decls: list[dict[str, Any]], pin_dir: str | None, boot: dict[str, Any] | None) -> None:
    """Refuse, before anything is touched, a declared service whose names cannot go into its drop-in."""
    unit = boot_unit_of(boot)
    for index, decl in enumerate(decls):
        if decl['state'] != 'present':
            continue
        for number, entry in enumerate(decl['services']):
            where = f'namespaces[{index}].services[{number}]'
            try:
                ServiceOptions(
                    entry['name'],
                    decl['name'],
                    pin_dir=pin_dir or DEFAULT_PIN_DIR,
                    unit_dir=unit_dir_of(boot),
                    boot_unit=unit,
                )
            except NamespaceError as exc:
                raise NamespaceError(f'{where}: {exc.message}', name=decl['name'], hint=HINT)
            if entry['name'] == unit:
                raise NamespaceError(
                    f'{where}: {entry["name"]!r} is the boot unit, which creates the pins at boot and cannot itself '
                    'run inside one of them',
                    name=decl['name'],
                    hint=HINT,
                )


class ServicesStep:
    """converge_recorded's services_step: places the declared services, takes out the undeclared ones
    and keeps each one's result (results) and failure (failed)."""

    def __init__(
        self, pin_dir: str | None, boot: dict[str, Any] | None, check_mode: bool = False, diff: bool = False
    ) -> None:
        self.pin_dir = pin_dir or DEFAULT_PIN_DIR
        self.boot_unit = boot_unit_of(boot)
        self.unit_dir = unit_dir_of(boot)
        self.check_mode = check_mode
        self.diff = diff
        self.results: list[dict[str, Any]] = []
        self.failed: list[str] = []

    def __call__(self, decls: list[dict[str, Any]], undeclared: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The services the record keeps: every declared one, and those that could not be taken out."""
        declared = declared_services(decls)
        for entry in declared:
            self._apply(entry, 'present')
        return declared + [entry for entry in undeclared if not self._apply(entry, 'absent')]

    def _apply(self, entry: dict[str, Any], state: str) -> bool:
        params = dict(
            service.OPTION_SPEC_DEFAULTS,
            unit=entry['name'],
            namespace=entry['namespace'],
            state=state,
            pin_dir=self.pin_dir,
            unit_dir=self.unit_dir,
            boot_unit=self.boot_unit,
            # check mode made no namespace that is only declared yet
            require_pin=not self.check_mode,
            restart=entry.get('restart', False),
            writable_etc=entry.get('writable_etc', False),
            bind_etc=entry.get('bind_etc', True),
        )
        head = {'unit': entry['name'], 'namespace': entry['namespace'], 'state': state}
        try:
            result = service.apply(params, check_mode=self.check_mode, diff=self.diff)
        except (NamespaceError, OSError) as exc:
            self.failed.append(
                f'{entry["name"]} {("in" if state == "present" else "out of")} {entry["namespace"]}: {exc}'
            )
            self.results.append(dict(head, changed=False, failed=True, msg=str(exc)))
            return False
        self.results.append(dict(head, **result))
        return True
