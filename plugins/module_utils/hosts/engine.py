# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge a namespace host to started, rebooted or absent, and list hosts.

Every run first plans from what the machine shows (the record, the init,
the pins, the lab) without touching anything; check mode and a run with
nothing to do stop there. A new host that fails half-way is taken down
again completely.

Only what the module can prove it made is ever removed: a host directory
holding its record or marker (and in it only the entries it makes), pins
whose dev/ino the record kept or that hold a running init of the host.
"""

from __future__ import annotations

import binascii
import errno
import fcntl
import ipaddress
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.changes import Changes
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError, default_hint
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import init, lab as labs, record
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import TYPES, filesystem_of, lab_end_name
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, nsprops, spec as pinspec
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import (
    ABSENT,
    PRESENT,
    STALE,
    inspect,
    location,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import TypeVar

    from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import HostSpec, Lab
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PinState

    T = TypeVar('T')


class Result(Changes):
    def __init__(self) -> None:
        super().__init__()
        self.host: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(super().as_dict(), host=self.host)


def pins(name: str) -> dict[str, str]:
    return dict((t, location(name, t).path) for t in TYPES)


def view(rec: dict[str, Any], running: object) -> dict[str, Any]:
    """The host as modules return it."""
    lab = rec.get('lab') or {}
    return {
        'name': rec['name'],
        'hostname': rec['hostname'],
        'pid': rec.get('pid'),
        'root': rec['root'],
        'data_dir': rec['data_dir'],
        'address': lab.get('address'),
        'interface': lab.get('interface'),
        'lab': lab or None,
        'shared_paths': rec.get('shared_paths') or [],
        'pins': pins(rec['name']),
        'running': bool(running),
    }


def _new_record(spec: HostSpec, pid: int | None = None, started: int | None = None) -> dict[str, Any]:
    rec = {'name': spec.name, 'data_dir': spec.data_dir, 'pid': pid, 'start_time': started, 'pins': pins(spec.name)}
    rec.update(spec.config())
    return rec


def _pin_states(name: str) -> dict[str, PinState]:
    return dict((t, inspect(location(name, t))) for t in TYPES)


def _pins_follow(states: Mapping[str, PinState], pid: int) -> bool:
    """Whether every pin holds the namespace the init is in."""
    for nstype, state in states.items():
        if state.state != PRESENT:
            return False
        try:
            st = os.stat(f'/proc/{pid}/ns/{nstype}')
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != (state.dev, state.ino):
            return False
    return True


def _orphaned(spec: HostSpec, states: Mapping[str, PinState]) -> bool:
    """Whether the pins of a host without a record (its directory removed by
    hand, or a run killed before the record) are those of a running init of
    this host (its marker, name and data_dir on its command line): the
    host is then still the module's to restart or remove."""
    pinned = dict((t, s) for t, s in states.items() if s.state != ABSENT)
    return bool(pinned) and any(_pins_follow(pinned, pid) for pid in record.stray_inits(spec.name, spec.data_dir))


def _boot_id() -> str:
    """Pin ids prove nothing across a reboot (the kernel numbers namespaces anew)."""
    return (fileio.read_text('/proc/sys/kernel/random/boot_id') or '').strip()


def _pin_ids(name: str) -> dict[str, list[int]]:
    """dev/ino of each pin of the host, as its record keeps them."""
    present = dict((t, s) for t, s in _pin_states(name).items() if s.state == PRESENT)
    return dict((t, [cast(int, s.dev), cast(int, s.ino)]) for t, s in present.items())


def _live_inits(name: str, rec: dict[str, Any]) -> list[int]:
    """The running inits of the host: the record's and any its command line names."""
    pids = [rec['pid']] if rec.get('pid') and record.init_alive(rec) else []
    return pids + [pid for pid in record.stray_inits(name, rec['data_dir']) if pid not in pids]


def _ownership(
    name: str, rec: dict[str, Any], states: Mapping[str, PinState]
) -> tuple[dict[str, PinState], list[PinState]]:
    """(ours, foreign): the pins of the host's name the module may remove
    (by type), and the live pins it cannot prove it made, someone else's
    namespace pinned under the name (ip netns add after the init died).

    A pin is ours when its dev/ino is the one the record kept (this boot), or
    it holds a namespace of a running init of the host. A record written
    before the module kept pin ids (no pin_ids at all) proves every pin, as
    it did then; a damaged record proves none by itself."""
    recorded = (rec.get('pin_ids') or {}) if rec.get('pin_boot') == _boot_id() else {}
    legacy = 'pin_ids' not in rec
    inits = None
    ours, foreign = {}, []
    for nstype, state in states.items():
        if state.state == STALE:
            ours[nstype] = state  # an empty file nothing is mounted on holds no namespace
        elif state.state != PRESENT:
            continue
        elif legacy or recorded.get(nstype) == [state.dev, state.ino]:
            ours[nstype] = state
        else:
            # only now the scan of /proc: a host whose record proves its pins needs none
            inits = _live_inits(name, rec) if inits is None else inits
            if any(_pins_follow({nstype: state}, pid) for pid in inits):
                ours[nstype] = state
            else:
                foreign.append(state)
    return ours, foreign


def _foreign_pins(name: str, foreign: list[PinState]) -> NamespaceError:
    held = '; '.join(f'{s.location.path} holds a {s.location.type} namespace the host did not make' for s in foreign)
    return NamespaceError(
        f'the name is taken by a namespace that is not this host\'s: {held}',
        name=name,
        path=foreign[0].location.path,
        errno=errno.EEXIST,
        hint='It is left alone. Remove it if it is no longer needed (ip netns delete NAME for a network '
        'namespace), or give the host another name; its record and files stay.',
    )


def _left_alone(foreign: Iterable[PinState]) -> list[str]:
    return [
        f'{s.location.path} holds a {s.location.type} namespace this host did not make: it is left alone'
        for s in foreign
    ]


def _load_for_start(spec: HostSpec) -> dict[str, Any] | None:
    try:
        return record.load(spec.data_dir, spec.name)
    except record.Damaged as exc:
        raise NamespaceError(
            f'{exc.message}; the host cannot be started from it',
            name=spec.name,
            path=exc.path,
            hint='Run the task with state: absent first (it ends what is left of '
            'the host and removes what the module made), then start it again.',
        )


def _check_pins(spec: HostSpec, rec: dict[str, Any] | None, states: Mapping[str, PinState]) -> None:
    if rec is None:
        taken = [s for s in states.values() if s.state != ABSENT]
        if taken:
            what = (
                f'is a {taken[0].location.type} namespace pin'
                if taken[0].state in (PRESENT, STALE)
                else f'exists ({taken[0].detail})'
            )
            raise NamespaceError(
                f'the name is taken: {taken[0].location.path} {what}, '
                f'and there is no host record at {record.path_of(spec.data_dir, spec.name)}',
                name=spec.name,
                path=taken[0].location.path,
                hint='Choose another host name, or remove that namespace first '
                '(nsfd.namespaces.namespace state=absent) if it is yours to remove.',
            )
        return
    for state in states.values():
        if state.state not in (ABSENT, PRESENT, STALE):
            raise NamespaceError(
                f'the pin path of the host is not a {state.location.type} namespace pin: it {state.detail}',
                name=spec.name,
                path=state.location.path,
                hint='It is left untouched; move it away.',
            )


def _lab_neighbours(spec: HostSpec, lab: Lab) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(name, record) of the other hosts of data_dir, and of the running hosts
    of other data directories cabled to this very lab (spec.lab): their lab end is on
    its bridge and their init is the one pinned here by their name (a host
    of another mount namespace, with its own /run, is not on this lab)."""
    cabled = labs.ports(lab.as_dict()) if labs.exists(lab.name) else []
    others = sorted(record.running_data_dirs() - set([spec.data_dir])) if cabled else []
    for data_dir in [spec.data_dir] + others:
        for other in record.names(data_dir):
            if data_dir == spec.data_dir and other == spec.name:
                continue
            if data_dir != spec.data_dir and (other == spec.name or lab_end_name(other) not in cabled):
                continue
            try:
                rec = record.load(data_dir, other)
            except NamespaceError as exc:
                # another host's damaged record is its own absent's business; its
                # address, if it still runs, is on the bridge (checked below)
                if data_dir == spec.data_dir and not isinstance(exc, record.Damaged):
                    raise
                continue
            # names() listed it by its record: there is one
            theirs = cast('dict[str, Any]', rec)
            if data_dir != spec.data_dir and not (
                record.init_alive(theirs) and _pins_follow({'net': inspect(location(other, 'net'))}, theirs['pid'])
            ):
                continue
            yield other, rec


def _check_lab_name(spec: HostSpec, lab: Lab) -> None:
    """lab.name is no host's name, here or (by its pins) in another data_dir."""
    if lab.name == spec.name or lab.name in record.names(spec.data_dir):
        raise NamespaceError(
            f'lab.name {lab.name!r} is the name of a host: a host\'s network namespace is no lab',
            name=spec.name,
            hint='Give the lab a name of its own, such as nsfd-lab.',
        )
    pinned = labs.host_pin(lab.name)
    if pinned:
        raise NamespaceError(
            f'lab.name {lab.name!r} is the network namespace of a host (of this or another data_dir): {pinned} pins '
            'another of its namespaces',
            name=spec.name,
            path=pinned,
            errno=errno.EEXIST,
            hint='Give the lab a name no host has, such as nsfd-lab.',
        )


def _check_neighbour(spec: HostSpec, lab: Lab, other: str, theirs: dict[str, Any]) -> None:
    """The lab address and gateway against those of host other (theirs: its lab) in the same lab."""
    if theirs['address'].split('/')[0] == str(lab.address.ip):
        raise NamespaceError(
            f'lab.address {lab.address} is already the address of host {other} in lab {lab.name}',
            name=spec.name,
            hint='Give every host of a lab its own address.',
        )
    if theirs['address'].split('/')[0] == str(lab.gateway.ip):
        raise NamespaceError(
            f'lab.gateway {lab.gateway.ip} is the address of host {other} in lab {lab.name}: '
            'the bridge cannot have it too',
            name=spec.name,
            hint='Leave lab.gateway out, or give the one gateway the lab\'s other hosts use.',
        )
    if (
        theirs['address'].split('/')[1] != str(lab.address.network.prefixlen)
        or lab.address.ip not in ipaddress.ip_interface(theirs['address']).network
    ):
        raise NamespaceError(
            f'lab.address {lab.address} is outside the lab subnet of {lab.name} (host {other} has {theirs["address"]})',
            name=spec.name,
            hint='Use an address of the lab subnet, or another lab name.',
        )


def _check_bridge(spec: HostSpec, lab: Lab) -> None:
    """The lab address against the addresses the lab bridge already has."""
    addresses = labs.bridge_addresses(lab)
    if lab.address.ip in [a.ip for a in addresses]:
        raise NamespaceError(
            f'lab.address {lab.address} is an address of bridge {lab.bridge} of lab {lab.name} '
            '(a gateway of other hosts)',
            name=spec.name,
            hint='Give the host an address the bridge does not have.',
        )
    networks = [a.network for a in addresses]
    if networks and lab.address.network not in networks:
        raise NamespaceError(
            f'lab.address {lab.address} is outside the lab subnet: bridge {lab.bridge} of lab {lab.name} '
            f'has {", ".join(map(str, networks))}',
            name=spec.name,
            hint='Use an address of that subnet, or another lab name.',
        )


def _check_lab(spec: HostSpec, lab: Lab) -> None:
    """The lab address (lab: spec.lab) against the other hosts of data_dir and the bridge."""
    labs.need_pyroute2(spec.name)  # a missing or too old one fails before anything is made
    _check_lab_name(spec, lab)
    for other, rec in _lab_neighbours(spec, lab):
        theirs = (rec or {}).get('lab')
        if not theirs or theirs['name'] != lab.name:
            continue
        _check_neighbour(spec, lab, other, theirs)
    _check_bridge(spec, lab)


def _check_data_dir_fs(spec: HostSpec) -> None:
    """overlayfs refuses an overlay as upper layer (the copy-on-write /etc of
    a container, say): say so before starting anything."""
    magic, existing = filesystem_of(spec.data_dir)
    if magic == syscalls.OVERLAYFS_MAGIC:
        raise NamespaceError(
            f'data_dir {spec.data_dir!r} is on an overlay filesystem ({existing}), which overlayfs cannot use for the '
            "host's copy-on-write layers",
            name=spec.name,
            path=spec.data_dir,
            errno=errno.EINVAL,
            hint='Choose a data_dir on ext4, xfs, btrfs or tmpfs.',
        )


def _differences(spec: HostSpec, rec: dict[str, Any]) -> list[str]:
    have = dict((k, rec.get(k)) for k in ('hostname', 'root', 'lab'))
    have['shared_paths'] = rec.get('shared_paths') or []
    want = spec.config()
    return [f'{k} {want[k]!r} (running with {have[k]!r})' for k in sorted(want) if want[k] != have[k]]


def started(spec: HostSpec, check_mode: bool = False, reboot: bool = False) -> Result:
    result = Result()
    rec, states, orphan, mine = _check_start(spec)
    plan = _plan_start(spec, rec, states, reboot, result)
    if check_mode or not result.changed:
        result.host = view(plan.planned, not check_mode or not plan.restart)
        result.after = result.host
        return result
    _apply_start(spec, rec, orphan, mine, reboot, plan)
    _remove_old_lab(spec, rec, result)
    result.host = view(plan.planned, True)
    result.after = result.host
    return result


def _check_start(
    spec: HostSpec,
) -> tuple[dict[str, Any] | None, dict[str, PinState], bool, dict[str, PinState]]:
    """(record, pin states, orphan, pins that are the host's), or an error
    before anything is planned."""
    rec = _load_for_start(spec)
    states = _pin_states(spec.name)
    orphan = rec is None and _orphaned(spec, states)
    if not orphan:
        _check_pins(spec, rec, states)
    if rec is None:
        record.check_dir(spec.data_dir, spec.name)
    mine, foreign = _ownership(spec.name, rec or {'data_dir': spec.data_dir, 'pin_ids': {}}, states)
    if foreign:
        raise _foreign_pins(spec.name, foreign)
    if spec.lab:
        _check_lab(spec, spec.lab)
    _check_data_dir_fs(spec)
    return rec, states, orphan, mine


class _StartPlan(NamedTuple):
    """What started() decided to do; planned is the record it will save."""

    alive: bool
    restart: bool
    pinned: bool
    renamed: bool
    planned: dict[str, Any]


def _plan_start(
    spec: HostSpec, rec: dict[str, Any] | None, states: Mapping[str, PinState], reboot: bool, result: Result
) -> _StartPlan:
    """The actions (into result) and the _StartPlan, from what is there now."""
    # the record when its init runs, and when that init keeps running (no reboot)
    live = rec if rec is not None and record.init_alive(rec) else None
    kept = None if reboot else live
    alive = live is not None
    result.before = view(rec, alive) if rec else {}
    if kept is not None and _differences(spec, kept):
        raise NamespaceError(
            f'the running host differs from the task: {"; ".join(_differences(spec, kept))}',
            name=spec.name,
            path=record.path_of(spec.data_dir, spec.name),
            hint='state: rebooted starts it again with these settings (keeping its files).',
        )
    restart = kept is None  # reboot or not alive
    if reboot and live is not None:
        result.act(f'end the init (pid {live["pid"]}) of host {spec.name} and everything inside')
    if restart:
        result.act(f'{("start" if rec is None else "restart")} the init of host {spec.name} ({spec.root} root)')
    # result.before is what the machine shows of a running host where it drifted
    # from the record (the record alone made before == after under changed)
    pinned = kept is not None and _pins_follow(states, kept['pid'])
    if not pinned:
        result.act(f'pin its namespaces at {", ".join(sorted(pins(spec.name).values()))}')
        if kept is not None:
            result.before['pins'] = dict(
                (t, path) for t, path in pins(spec.name).items() if _pins_follow({t: states[t]}, kept['pid'])
            )
    hostname = None if kept is None else _hostname_of(kept['pid'])
    renamed = kept is not None and hostname != spec.hostname
    if renamed:
        result.act(f'set the hostname of host {spec.name} back to {spec.hostname}')
        result.before['hostname'] = hostname
    if spec.lab:
        _plan_lab(spec, spec.lab, pinned, result)
    planned = _new_record(
        spec, rec.get('pid') if rec and not restart else None, rec.get('start_time') if rec and not restart else None
    )
    if rec and not restart and rec.get('nonce'):
        planned['nonce'] = rec['nonce']
    return _StartPlan(alive, restart, pinned, renamed, planned)


def _plan_lab(spec: HostSpec, lab: Lab, pinned: bool, result: Result) -> None:
    """The actions of the host's lab (spec.lab) and of its cable to it, into result."""
    for text in labs.lab_actions(lab):
        result.act(text)
    cut = pinned and not labs.cabled(lab, lab_end_name(spec.name), pins(spec.name)['net'])
    if cut:
        result.before.update(address=None, interface=None)
    if not pinned or cut:
        result.act(
            f'cable {lab.interface} ({lab.address}) to bridge {lab.bridge} of lab {lab.name} '
            f'via {lab_end_name(spec.name)}'
        )


def _apply_start(
    spec: HostSpec,
    rec: dict[str, Any] | None,
    orphan: bool,
    mine: Mapping[str, PinState],
    reboot: bool,
    plan: _StartPlan,
) -> None:
    """Carries out plan; a new host is taken down again if it fails part-way."""
    planned = plan.planned
    new = rec is None
    # read only where plan.alive or a kept init says the record is there
    old = cast('dict[str, Any]', rec)
    made_lab = spec.lab is not None and not labs.exists(spec.lab.name)
    try:
        if reboot and plan.alive:
            init.kill(old['pid'])
        if plan.restart and (rec is not None or orphan):
            _release(spec.name, rec or {'data_dir': spec.data_dir}, mine)
        # the marker first: from here on the directory is provably the host's
        record.claim(spec.data_dir, spec.name)
        if plan.restart:
            # recorded before anything starts, with the nonce the new init
            # carries: a run killed from here on leaves a record, so the next
            # run finds and ends what it left (pins it made hold that init)
            planned['nonce'] = binascii.hexlify(os.urandom(8)).decode('ascii')
            planned['pin_ids'] = {}
            record.save(spec.data_dir, spec.name, planned)
            pid, start = _start_and_pin(spec, planned['nonce'])
            planned['pid'], planned['start_time'] = pid, start
        elif not plan.pinned:
            # a running init whose pins someone removed (ip netns delete) or moved
            _pin(spec.name, old['pid'])
        if plan.renamed:
            _with_uts(old['pid'], lambda fd: nsprops.set_uts(fd, spec.hostname))
        # what proves later (the init dead) that these pins are the host's
        planned.update(pin_ids=_pin_ids(spec.name), pin_boot=_boot_id())
        record.save(spec.data_dir, spec.name, planned)
        if spec.lab:
            labs.ensure(spec.lab)
            if not labs.cabled(spec.lab, lab_end_name(spec.name), pins(spec.name)['net']):
                labs.cable(spec.lab, lab_end_name(spec.name), pins(spec.name)['net'])
    except BaseException:
        if new:
            _take_down(spec.name, spec.data_dir, planned, spec.lab if made_lab else None)
        raise


def _remove_old_lab(spec: HostSpec, rec: dict[str, Any] | None, result: Result) -> None:
    """The lab the host has left, when no other host uses it."""
    old_lab = (rec or {}).get('lab')
    if (
        old_lab
        and old_lab['name'] != (spec.lab.name if spec.lab else None)
        and labs.exists(old_lab['name'])
        and not _lab_in_use(old_lab, spec.data_dir)
    ):
        removed = labs.remove(old_lab)
        if removed:
            result.act(removed)


def _with_uts(pid: int, action: Callable[[int], T]) -> T:
    path = f'/proc/{pid}/ns/uts'
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot open the uts namespace of the host\'s init', path=path)
    try:
        return action(fd)
    finally:
        os.close(fd)


def _hostname_of(pid: int) -> str:
    """The hostname in the running init's uts namespace (someone inside may
    have changed it: the task's hostname is set again)."""
    return _with_uts(pid, lambda fd: nsprops.read({'uts': fd}, ['hostname'])['hostname'])


def _start_and_pin(spec: HostSpec, nonce: str | None = None) -> tuple[int, int | None]:
    """Start the init and pin its namespaces; on failure nothing of it stays.

    The kernel binds a mount namespace file only when that namespace's id is
    above the caller's; since Linux 6.18 ids come from per-CPU batches, so
    when the bind is refused the init is started again on each CPU in turn
    (as the pins engine does for namespaces it creates)."""
    init.prepare_layers(spec)
    attempts = [None] + sorted(os.sched_getaffinity(0))
    for attempt, cpu in enumerate(attempts):
        pid, start = init.start(spec, cpu=cpu, nonce=nonce)
        try:
            _pin(spec.name, pid)
            return pid, start
        except NamespaceError as exc:
            made = dict((t, s) for t, s in _pin_states(spec.name).items() if _pins_follow({t: s}, pid))
            init.kill(pid)
            _unpin(spec.name, made)
            if exc.errno != errno.EINVAL or attempt == len(attempts) - 1:
                raise
    raise AssertionError('unreachable')  # pragma: no cover


def _release(name: str, rec: dict[str, Any], mine: Mapping[str, PinState]) -> None:
    """Let the namespaces of a dead (or just killed) init go before a new one
    starts: its mount namespace, held by its pin, still has the overlay over
    the upper and work directories the new init is about to mount, and
    overlayfs must not have two mounts on one upper layer. mine: the pins
    proven the host's (_ownership, judged before any init was ended)."""
    _end_strays(name, rec['data_dir'], rec.get('nonce'))
    if rec.get('lab') and labs.exists(rec['lab']['name']):
        labs.uncable(rec['lab']['name'], lab_end_name(name))
    _unpin(name, mine)


def _end_strays(name: str, data_dir: str, nonce: str | None = None) -> list[int]:
    """Kill the inits of the host no record holds (a run killed half-way):
    those its pins hold, or carrying the record's nonce. Only these: an init
    with the same name and data_dir in another mount namespace (another
    container or sandbox, its own /var) is not this host. Returns their pids."""
    pinned = dict((t, s) for t, s in _pin_states(name).items() if s.state == PRESENT)
    ended = []
    for pid in record.stray_inits(name, data_dir):
        # any pin of the name holding it: another namespace pinned under the
        # name (someone else's) must not hide the host's own init
        if any(_pins_follow({t: s}, pid) for t, s in pinned.items()) or (nonce and record.nonce_of(pid) == nonce):
            init.kill(pid)
            ended.append(pid)
    return ended


def _pin(name: str, pid: int) -> None:
    # force: the record proved these are the host's pins; they follow its (new) init
    engine.ensure_present(pinspec.build(name=name, types=TYPES, source_pid=pid, force=True))


def _unpin(name: str, types: Iterable[str]) -> None:
    """Remove the pins of these types only (those proven the host's)."""
    if types:
        engine.ensure_absent(pinspec.build(name=name, types=[t for t in TYPES if t in types]))


def _take_down(
    name: str,
    data_dir: str,
    rec: dict[str, Any] | None,
    lab: Lab | None = None,
    warnings: list[str] | None = None,
) -> list[str]:
    """Everything of the host goes: init, lab end, its pins, the files it
    made; the lab too when this was its last host. Returns what it did;
    what it leaves (someone else's) goes to warnings."""
    warnings = [] if warnings is None else warnings
    done = []
    mine, foreign = _ownership(name, rec or {'data_dir': data_dir, 'pin_ids': {}}, _pin_states(name))
    warnings.extend(_left_alone(foreign))
    if rec and rec.get('pid') and record.init_alive(rec):
        init.kill(rec['pid'])
        done.append(f'end the init (pid {rec["pid"]}) of host {name} and everything inside')
    for pid in _end_strays(name, data_dir, (rec or {}).get('nonce')):
        done.append(f'end the unrecorded init (pid {pid}) of host {name}, left by a run that was killed')
    their_lab = (rec or {}).get('lab') or (lab.as_dict() if lab else None)
    if their_lab and labs.exists(their_lab['name']) and labs.uncable(their_lab['name'], lab_end_name(name)):
        done.append(f'delete {lab_end_name(name)} from lab {their_lab["name"]}')
    if mine:
        _unpin(name, mine)
        done.append(f'unpin its namespaces at {", ".join(sorted(s.location.path for s in mine.values()))}')
    # the lab before the record: a run killed after the record went would
    # leave a lab that nothing names any more, and the next absent no way to
    # know it was this host's
    if their_lab and labs.exists(their_lab['name']) and not _lab_in_use(their_lab, data_dir, leaving=name):
        removed = labs.remove(their_lab)
        if removed:
            done.append(removed)
    done.extend(_remove_host_dir(name, data_dir, warnings))
    return done


def _remove_host_dir(name: str, data_dir: str, warnings: list[str]) -> list[str]:
    """The host directory, when it is the module's, less what others put there."""
    host_dir = os.path.join(data_dir, name)
    if not os.path.lexists(host_dir):
        return []
    if not record.ours(data_dir, name):
        warnings.append(_not_ours(host_dir))
        return []
    left = record.remove_dir(data_dir, name, init.OVERLAY_LAYERS + init.ROOT_LAYERS)
    if left:
        warnings.append(
            f'{host_dir} keeps {", ".join(left)}, which the host did not make: only its own files were removed'
        )
        return [f'remove the files of host {name} from {host_dir}']
    return [f'remove {host_dir}']


def _not_ours(host_dir: str) -> str:
    return (
        f'{host_dir} is not a host directory of this module '
        f'(it holds neither {record.RECORD} nor {record.MARKER}): it is left alone'
    )


def _lab_in_use(lab: dict[str, Any], data_dir: str, leaving: str | None = None) -> bool:
    """Whether a host (other than leaving, in check mode still cabled) uses the lab."""
    for other in record.names(data_dir):
        if other == leaving:
            continue
        # a damaged record's host, if it still runs, is cabled: ports() below
        theirs = (record.load_any(data_dir, other) or {}).get('lab')
        if theirs and theirs['name'] == lab['name']:
            return True
    mine = lab_end_name(leaving) if leaving else None
    return any(port != mine for port in labs.ports(lab))


def absent(spec: HostSpec, check_mode: bool = False) -> Result:
    result = Result()
    rec = record.load_any(spec.data_dir, spec.name)
    states = _pin_states(spec.name)
    if rec is None:
        return _absent_unrecorded(spec, states, result, check_mode)
    if rec.get('damaged'):
        return _absent_damaged(spec, rec, result, check_mode)
    _check_pins(spec, rec, states)
    alive = record.init_alive(rec)
    result.before = view(rec, alive)
    if not check_mode:
        for text in _take_down(spec.name, spec.data_dir, rec, warnings=result.warnings):
            result.act(text)
        return result
    mine, foreign = _ownership(spec.name, rec, states)
    result.warnings.extend(_left_alone(foreign))
    if alive:
        result.act(f'end the init (pid {rec["pid"]}) of host {spec.name} and everything inside')
    if rec.get('lab'):
        result.act(f'delete {lab_end_name(spec.name)} from lab {rec["lab"]["name"]}')
    if mine:
        result.act(f'unpin its namespaces at {", ".join(sorted(s.location.path for s in mine.values()))}')
    their_lab = rec.get('lab')
    if their_lab and labs.exists(their_lab['name']) and not _lab_in_use(their_lab, spec.data_dir, leaving=spec.name):
        removed = labs.remove(their_lab, check_mode=True)
        if removed:
            result.act(removed)
    result.act(f'remove {spec.host_dir}')
    return result


def _absent_unrecorded(spec: HostSpec, states: Mapping[str, PinState], result: Result, check_mode: bool) -> Result:
    """No record: an orphaned init of the host, a start that crashed before
    its record (the marker only), or something that is not a host."""
    if _orphaned(spec, states):
        if check_mode:
            result.act(f'end the unrecorded init of host {spec.name} and unpin its namespaces')
        else:
            for text in _take_down(spec.name, spec.data_dir, None, warnings=result.warnings):
                result.act(text)
        return result
    if any(s.state != ABSENT for s in states.values()):
        result.warnings.append(
            f'{spec.name} is pinned but is no namespace host '
            f'(no record at {record.path_of(spec.data_dir, spec.name)}): it is left alone'
        )
        return result
    if not check_mode:
        for text in _remove_host_dir(spec.name, spec.data_dir, result.warnings):
            result.act(text)
    elif os.path.lexists(spec.host_dir) and not record.ours(spec.data_dir, spec.name):
        result.warnings.append(_not_ours(spec.host_dir))
    elif os.path.lexists(spec.host_dir):
        result.act(f'remove {spec.host_dir}')
    return result


def _absent_damaged(spec: HostSpec, rec: dict[str, Any], result: Result, check_mode: bool) -> Result:
    """A damaged record: the host is removed by what the machine shows of it
    (its inits by their command line, the pins holding them, its lab end
    found on a lab's bridge) and what the record still tells (salvage)."""
    result.warnings.append(
        f'the record {record.path_of(spec.data_dir, spec.name)} is damaged ({rec["damaged"]}): '
        'the host is removed by what its init, pins and lab show'
    )
    if not rec.get('lab'):
        rec['lab'] = labs.lab_of_end(lab_end_name(spec.name))
    if check_mode:
        result.act(
            f'end what runs of host {spec.name}, unpin the namespaces of its init, delete its lab end '
            f'and remove {spec.host_dir}'
        )
        return result
    for text in _take_down(spec.name, spec.data_dir, rec, warnings=result.warnings):
        result.act(text)
    return result


def info(data_dir: str, name: str | None = None) -> list[dict[str, Any]]:
    hosts = []
    for one in record.names(data_dir):
        if name is not None and one != name:
            continue
        # names() listed it by its record: there is one
        rec = cast('dict[str, Any]', record.load_any(data_dir, one))
        if rec.get('damaged'):
            # listed, not failed: one damaged record hides no other host
            entry = view(rec, record.stray_inits(one, data_dir))
            entry['damaged'] = rec['damaged']
        else:
            entry = view(rec, record.init_alive(rec))
        hosts.append(entry)
    return hosts


def converge(spec: HostSpec, check_mode: bool = False) -> Result:
    """The module's one call: the host to spec.state. An error of the machine
    (a read-only or full filesystem, a path that is no directory) fails it
    naming the host, the path and the errno, never as a traceback."""
    try:
        return _converge(spec, check_mode)
    except OSError as exc:
        raise NamespaceError.from_os_error(
            exc,
            f'a step of host {spec.name} failed on the machine',
            name=spec.name,
            path=exc.filename or spec.host_dir,
            hint=default_hint(exc.errno)
            or 'Make that path usable (a writable directory with free space) and '
            'run the task again; state: absent removes what the host left.',
        )


def _converge(spec: HostSpec, check_mode: bool = False) -> Result:
    """The host to spec.state.

    Runs on one data_dir are serialised (its flock): the address checks, the
    records and the lab's last-host test must not interleave; runs on one lab
    are too, whatever their data_dir (the lab's lock, taken second). A data_dir that
    does not exist yet is made only once a plan says there is work."""

    def run(check: bool) -> Result:
        if spec.state == 'absent':
            return absent(spec, check)
        return started(spec, check, reboot=spec.state == 'rebooted')

    if check_mode:
        return run(True)
    if not os.path.isdir(spec.data_dir):
        planned = run(True)
        if not planned.changed or spec.state == 'absent':
            return planned
        os.makedirs(spec.data_dir, 0o755, exist_ok=True)
    with _locked(spec.data_dir):
        with labs.locked(_netns_names(spec)):
            return run(False)


def _netns_names(spec: HostSpec) -> list[str]:
    """The network namespace names a run may check, cable or remove: the
    task's lab, the lab the record says the host is on, and the host's own."""
    rec = record.load_any(spec.data_dir, spec.name) or {}
    if rec.get('damaged') and not rec.get('lab') and spec.state == 'absent':
        rec['lab'] = labs.lab_of_end(lab_end_name(spec.name))
    return [spec.name] + [lab['name'] for lab in (rec.get('lab'), spec.lab and spec.lab.as_dict()) if lab]


@contextmanager
def _locked(directory: str) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
