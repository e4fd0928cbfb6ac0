# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netns_service: put an existing systemd service into a pinned network
namespace (boot/dropin.py writes the drop-in), refusing first what cannot
work, then telling a running systemd and restarting the service when asked.

systemd reads a new or changed drop-in only at `daemon-reload`, so that
follows every change while systemd runs (daemon_reload: false leaves it to
the caller). A running service stays in the namespace it was started in:
only a restart moves it, which happens with restart: true.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import dropin, unitprops
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.persist import systemd_running
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import pinstate

if TYPE_CHECKING:
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.dropin import ServiceOptions
    from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.unitprops import UnitProps

OPTION_SPEC: dict[str, dict[str, Any]] = dict(
    unit=dict(type='str', required=True),
    namespace=dict(type='str', required=True),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    pin_dir=dict(type='path', default='/run/netns'),
    require_pin=dict(type='bool', default=True),
    boot_unit=dict(type='str', default='nsfd-netns.service'),
    bind_etc=dict(type='bool', default=True),
    writable_etc=dict(type='bool', default=False),
    etc_dir=dict(type='path', default='/etc/netns'),
    unit_dir=dict(type='path', default='/etc/systemd/system'),
    daemon_reload=dict(type='bool', default=True),
    restart=dict(type='bool', default=False),
)
# what a caller that does not take every option (netns_config's services) starts from
OPTION_SPEC_DEFAULTS = dict((key, spec.get('default')) for key, spec in OPTION_SPEC.items())
OPTIONS = ('unit', 'namespace', 'pin_dir', 'unit_dir', 'boot_unit', 'etc_dir', 'bind_etc', 'writable_etc')


def _check_pin(options: ServiceOptions) -> pinstate.PinState:
    """The pin must be a live network namespace: systemd opens it when the
    service starts, and fails to start it when it is not."""
    state = pinstate.inspect(pinstate.location(options.namespace, 'net', pin_dir=options.pin_dir))
    if state.present:
        return state
    why = {
        pinstate.ABSENT: 'does not exist',
        pinstate.STALE: 'is a stale pin (no namespace is mounted on it)',
        pinstate.WRONG_TYPE: f'is a {state.actual_type} namespace, not a network namespace',
    }
    problem = why.get(state.state, state.detail)
    raise NamespaceError(
        f'{state.location.path} {problem}, and the service would fail to start',
        name=options.namespace,
        path=state.location.path,
        hint='Create it first (nsfd.namespaces.netns_config, the netns role or ip netns add), or '
        'set require_pin: false when the boot unit creates it later. Nothing was changed.',
    )


def _check_unit(options: ServiceOptions) -> UnitProps:
    props = unitprops.inspect(options.unit, options.unit_dir)
    where = (
        'systemd says so'
        if props.source == 'systemctl'
        else f'found in none of {", ".join(unitprops.search_path(options.unit_dir))}; '
        'systemd is not running, so only the unit files were read'
    )
    if not props.exists:
        raise NamespaceError(
            f'unit {options.unit!r} does not exist ({where})',
            name=options.namespace,
            hint='Install the service first; netns_service changes existing services only. Nothing was changed.',
        )
    if props.masked:
        raise NamespaceError(
            f'unit {options.unit!r} is masked ({props.fragment})',
            name=options.namespace,
            hint='Unmask it first (systemctl unmask). Nothing was changed.',
        )
    if props.private_network:
        raise NamespaceError(
            f'unit {options.unit!r} has PrivateNetwork=yes (read from '
            f'{"systemctl show" if props.source == "systemctl" else "its unit files"}): '
            f'systemd gives it a network namespace of its own with only lo instead of joining {options.pin_path}',
            name=options.namespace,
            path=props.fragment,
            hint='Remove PrivateNetwork= from the unit (or set PrivateNetwork=no in a drop-in of '
            'your own) and run again. Nothing was changed.',
        )
    _check_not_overridden(options)
    return props


def _check_not_overridden(options: ServiceOptions) -> None:
    """A drop-in applied after ours with its own NetworkNamespacePath= wins:
    the service would run outside the namespace while we reported success."""
    for path, value in unitprops.assigned_after(
        options.unit, unitprops.search_path(options.unit_dir), dropin.DROPIN, 'NetworkNamespacePath'
    ):
        if value != options.pin_path:
            raise NamespaceError(
                f'{path} sets NetworkNamespacePath={value} and is applied after {dropin.DROPIN} '
                f'(systemd reads drop-ins in name order), so unit {options.unit!r} would not run in {options.pin_path}',
                name=options.namespace,
                path=path,
                hint=f'Remove that setting from {path} (or the file) and run again. Nothing was changed.',
            )


def _run(argv: list[str], done: list[str], unit: str | None = None) -> None:
    """systemctl argv; a failure says what had been changed before it."""
    ran = unitprops.systemctl(*argv)
    if ran.returncode != 0:
        raise NamespaceError(
            f'systemctl {" ".join(argv)} failed (status {ran.returncode}): {(ran.stderr or ran.stdout).strip()}',
            done=done,
            hint=f'See journalctl -u {unit}.' if unit else None,
        )


def _check_params(params: dict[str, Any], options: ServiceOptions, present: bool) -> None:
    """Refuses what the parameters cannot ask for, before anything is read
    or written."""
    if params['restart'] and not params['daemon_reload']:
        # systemd restarts from the unit it loaded: without the reload the
        # service would start outside the namespace again
        raise NamespaceError(
            f'daemon_reload: {params["daemon_reload"]!r} is not allowed with restart: True: '
            'systemd only applies the drop-in after a daemon-reload',
            name=options.namespace,
            hint='Leave daemon_reload at true, or set restart: false and reload and restart '
            'yourself. Nothing was changed.',
        )
    if present and options.unit == options.boot_unit:
        raise NamespaceError(
            f'unit: {options.unit!r} is not allowed: it is the boot_unit, which creates the pins at boot and '
            'cannot itself run inside one of them',
            name=options.namespace,
            hint='Name the service to move as unit, or set boot_unit to the unit that creates '
            f'{options.pin_path}. Nothing was changed.',
        )


def _daemon_reload(result: dict[str, Any], options: ServiceOptions, stale: bool, check_mode: bool) -> None:
    """Has systemd read the drop-in (stale: unchanged on disk, but not what
    systemd had loaded), and adds it to result's changes."""
    result['changes'].append(
        'systemctl daemon-reload'
        + (f' (systemd had not loaded {options.dropin_path} as it is on disk)' if stale else '')
    )
    result['changed'] = True
    if not check_mode:
        _run(['daemon-reload'], result['changes'][:-1])
        result['daemon_reloaded'] = True


def _restart(result: dict[str, Any], options: ServiceOptions, present: bool, why: str | None, check_mode: bool) -> None:
    """Restarts the service (try-restart once the drop-in is gone: a stopped
    service stays stopped) and adds that to result's changes, with why when
    given (the service is down and nothing else called for the restart)."""
    verb = 'restart' if present else 'try-restart'
    result['changes'].append(f'systemctl {verb} {options.unit}' + (f' ({why})' if why else ''))
    result['changed'] = True
    if not check_mode:
        _run([verb, options.unit], result['changes'][:-1], options.unit)
        result['restarted'] = True


def apply(params: dict[str, Any], check_mode: bool = False, diff: bool = False) -> dict[str, Any]:
    """params holds OPTION_SPEC's keys. Raises NamespaceError (bad input or a
    service that cannot join the namespace: nothing written) or OSError."""
    options = dropin.ServiceOptions(**dict((key, params[key]) for key in OPTIONS))
    present = params['state'] == 'present'
    _check_params(params, options, present)
    props: UnitProps | None = None
    if present:
        if params['require_pin']:
            _check_pin(options)
        props = _check_unit(options)
        entries = dropin.etc_entries(options)
        change = dropin.ensure_present(options, dropin.render(options, entries), check_mode=check_mode)
    else:
        entries = []
        change = dropin.ensure_absent(options, check_mode=check_mode)
    running = systemd_running()
    result: dict[str, Any] = {
        'changed': change is not None,
        'dropin': options.dropin_path,
        'pin': options.pin_path,
        'etc_files': entries,
        'changes': [change.text] if change else [],
        'systemd_running': running,
        'daemon_reloaded': False,
        'restarted': False,
    }
    # a run killed between writing and reloading left systemd with the old
    # drop-in: without this reload the next runs would see nothing to do
    stale = change is None and running and _not_loaded(options, props, present)
    if (change is not None or stale) and running and params['daemon_reload']:
        _daemon_reload(result, options, stale, check_mode)
    moved = present and _outside(options, props)
    down = _down(props) if present else None
    if params['restart'] and running and (change is not None or stale or moved or down) and (present or _runs(options)):
        # leaving the namespace only concerns a running service
        _restart(result, options, present, None if change is not None or stale or moved else down, check_mode)
    if props is not None:
        result['unit_source'] = props.source
    if diff and change is not None:
        result['diff'] = change.as_diff()
    return result


def _down(props: UnitProps | None) -> str | None:
    """Why a service that should run does not, or None: systemd's own rule,
    a unit that is enabled but inactive, or failed (a restart that failed
    earlier, this module's included, leaves it so; the next run with
    restart: true starts it again instead of reporting nothing to do)."""
    if props is None or props.source != 'systemctl':
        return None
    if props.active == 'failed':
        return 'it has failed'
    if props.active == 'inactive' and props.enabled:
        return 'it is enabled but inactive'
    return None


def _runs(options: ServiceOptions) -> bool:
    """The unit exists and runs: try-restart fails on a unit that is gone
    (its package removed before the drop-in)."""
    props = unitprops.from_systemctl(options.unit)
    return props is not None and props.exists and props.active in ('active', 'activating', 'reloading')


def _not_loaded(options: ServiceOptions, props: UnitProps | None, present: bool) -> bool:
    """systemd's loaded drop-ins (DropInPaths) or its NetworkNamespacePath=
    disagree with the file on disk: written, updated or removed without a
    daemon-reload since. NeedDaemonReload
    does not tell (systemd 252 says no for a new drop-in directory), and a
    unit_dir outside systemd's search path is never loaded."""
    if options.unit_dir not in unitprops.UNIT_PATH:
        return False
    if props is None:
        props = unitprops.from_systemctl(options.unit)
    if props is None or props.source != 'systemctl' or not props.exists or props.masked:
        return False
    if present and props.netns_path != options.pin_path:
        return True
    return (options.dropin_path in props.dropin_paths) != present


def _outside(options: ServiceOptions, props: UnitProps | None) -> bool:
    """A running service whose main process is not in the pin's namespace
    (started before the drop-in, or the namespace was made anew since)."""
    if props is None or props.main_pid is None:
        return False
    try:
        pin = pinstate.inspect(pinstate.location(options.namespace, 'net', pin_dir=options.pin_dir))
    except OSError:
        return False
    inode = unitprops.netns_inode(props.main_pid)
    return pin.present and inode is not None and inode != pin.ino
