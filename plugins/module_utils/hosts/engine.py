# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converge a namespace host to started, rebooted or absent, and list hosts.

Every run first plans from what the machine shows (the record, the init,
the pins, the lab) without touching anything; check mode and a run with
nothing to do stop there. A new host that fails half-way is taken down
again completely.
"""

import binascii
import errno
import fcntl
import ipaddress
import os
import shutil
from contextlib import contextmanager

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import init, lab as labs, record
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import TYPES, lab_end_name
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, nsprops, spec as pinspec
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import (
    ABSENT, PRESENT, STALE, inspect, location)


class Result(object):
    def __init__(self):
        self.changed = False
        self.actions = []
        self.warnings = []
        self.host = None
        self.before = {}
        self.after = {}

    def act(self, text):
        self.changed = True
        self.actions.append(text)

    def as_dict(self):
        return {'changed': self.changed, 'actions': self.actions, 'host': self.host,
                'diff': {'before': self.before, 'after': self.after}}


def pins(name):
    return dict((t, location(name, t).path) for t in TYPES)


def view(rec, running):
    """The host as modules return it."""
    lab = rec.get('lab') or {}
    return {'name': rec['name'], 'hostname': rec['hostname'], 'pid': rec.get('pid'), 'root': rec['root'],
            'data_dir': rec['data_dir'], 'address': lab.get('address'), 'interface': lab.get('interface'),
            'lab': lab or None, 'shared_paths': rec.get('shared_paths') or [], 'pins': pins(rec['name']),
            'running': bool(running)}


def _new_record(spec, pid=None, started=None):
    rec = {'name': spec.name, 'data_dir': spec.data_dir, 'pid': pid, 'start_time': started, 'pins': pins(spec.name)}
    rec.update(spec.config())
    return rec


def _pin_states(name):
    return dict((t, inspect(location(name, t))) for t in TYPES)


def _pins_follow(states, pid):
    """Whether every pin holds the namespace the init is in."""
    for nstype, state in states.items():
        if state.state != PRESENT:
            return False
        try:
            st = os.stat('/proc/%d/ns/%s' % (pid, nstype))
        except OSError:
            return False
        if (st.st_dev, st.st_ino) != (state.dev, state.ino):
            return False
    return True


def _orphaned(spec, states):
    """Whether the pins of a host without a record (its directory removed by
    hand, or a run killed before the record) are those of a running init of
    this host (its marker, name and data_dir on its command line): the
    host is then still the module's to restart or remove."""
    pinned = dict((t, s) for t, s in states.items() if s.state != ABSENT)
    return bool(pinned) and any(_pins_follow(pinned, pid) for pid in record.stray_inits(spec.name, spec.data_dir))


def _check_pins(spec, rec, states):
    if rec is None:
        taken = [s for s in states.values() if s.state != ABSENT]
        if taken:
            raise NamespaceError('the name is taken: %s %s, and there is no host record at %s'
                                 % (taken[0].location.path, 'is a %s namespace pin' % taken[0].location.type
                                    if taken[0].state in (PRESENT, STALE) else 'exists (%s)' % taken[0].detail,
                                    record.path_of(spec.data_dir, spec.name)),
                                 name=spec.name, path=taken[0].location.path,
                                 hint='Choose another host name, or remove that namespace first '
                                      '(nsfd.namespaces.namespace state=absent) if it is yours to remove.')
        return
    for state in states.values():
        if state.state not in (ABSENT, PRESENT, STALE):
            raise NamespaceError('the pin path of the host is not a %s namespace pin: it %s'
                                 % (state.location.type, state.detail), name=spec.name, path=state.location.path,
                                 hint='It is left untouched; move it away.')


def _lab_neighbours(spec):
    """(name, record) of the other hosts of data_dir, and of the running hosts
    of other data directories cabled to this very lab: their lab end is on
    its bridge and their init is the one pinned here by their name (a host
    of another mount namespace, with its own /run, is not on this lab)."""
    cabled = labs.ports(spec.lab.as_dict()) if labs.exists(spec.lab.name) else []
    others = sorted(record.running_data_dirs() - set([spec.data_dir])) if cabled else []
    for data_dir in [spec.data_dir] + others:
        for other in record.names(data_dir):
            if data_dir == spec.data_dir and other == spec.name:
                continue
            if data_dir != spec.data_dir and (other == spec.name or lab_end_name(other) not in cabled):
                continue
            try:
                rec = record.load(data_dir, other)
            except NamespaceError:
                if data_dir == spec.data_dir:
                    raise
                continue
            if data_dir != spec.data_dir and not (
                    record.init_alive(rec) and _pins_follow({'net': inspect(location(other, 'net'))}, rec['pid'])):
                continue
            yield other, rec


def _check_lab(spec):
    """The lab address against the other hosts of data_dir and the bridge."""
    lab = spec.lab
    if lab.name == spec.name or lab.name in record.names(spec.data_dir):
        raise NamespaceError('lab.name %r is the name of a host: a host\'s network namespace is no lab' % lab.name,
                             name=spec.name, hint='Give the lab a name of its own, such as nsfd-lab.')
    pinned = labs.host_pin(lab.name)
    if pinned:
        raise NamespaceError('lab.name %r is the network namespace of a host (of this or another data_dir): %s pins '
                             'another of its namespaces' % (lab.name, pinned), name=spec.name, path=pinned,
                             errno=errno.EEXIST, hint='Give the lab a name no host has, such as nsfd-lab.')
    for other, rec in _lab_neighbours(spec):
        theirs = (rec or {}).get('lab')
        if not theirs or theirs['name'] != lab.name:
            continue
        if theirs['address'].split('/')[0] == str(lab.address.ip):
            raise NamespaceError('lab.address %s is already the address of host %s in lab %s'
                                 % (lab.address, other, lab.name), name=spec.name,
                                 hint='Give every host of a lab its own address.')
        if theirs['address'].split('/')[0] == str(lab.gateway.ip):
            raise NamespaceError('lab.gateway %s is the address of host %s in lab %s: the bridge cannot have it too'
                                 % (lab.gateway.ip, other, lab.name), name=spec.name,
                                 hint='Leave lab.gateway out, or give the one gateway the lab\'s other hosts use.')
        if theirs['address'].split('/')[1] != str(lab.address.network.prefixlen) or \
                lab.address.ip not in ipaddress.ip_interface(theirs['address']).network:
            raise NamespaceError('lab.address %s is outside the lab subnet of %s (host %s has %s)'
                                 % (lab.address, lab.name, other, theirs['address']), name=spec.name,
                                 hint='Use an address of the lab subnet, or another lab name.')
    addresses = labs.bridge_addresses(lab)
    if lab.address.ip in [a.ip for a in addresses]:
        raise NamespaceError('lab.address %s is an address of bridge %s of lab %s (a gateway of other hosts)'
                             % (lab.address, lab.bridge, lab.name), name=spec.name,
                             hint='Give the host an address the bridge does not have.')
    networks = [a.network for a in addresses]
    if networks and lab.address.network not in networks:
        raise NamespaceError('lab.address %s is outside the lab subnet: bridge %s of lab %s has %s'
                             % (lab.address, lab.bridge, lab.name, ', '.join(map(str, networks))),
                             name=spec.name, hint='Use an address of that subnet, or another lab name.')


OVERLAYFS_MAGIC = 0x794C7630


def _check_data_dir_fs(spec):
    """overlayfs refuses an overlay as upper layer (the copy-on-write /etc of
    a container, say): say so before starting anything."""
    existing = spec.data_dir
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    fd = os.open(existing, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        magic = syscalls.fstatfs_type(fd)
    finally:
        os.close(fd)
    if magic == OVERLAYFS_MAGIC:
        raise NamespaceError('data_dir %r is on an overlay filesystem (%s), which overlayfs cannot use for the '
                             "host's copy-on-write layers" % (spec.data_dir, existing), name=spec.name,
                             path=spec.data_dir, errno=errno.EINVAL,
                             hint='Choose a data_dir on ext4, xfs, btrfs or tmpfs.')


def _differences(spec, rec):
    have = dict((k, rec.get(k)) for k in ('hostname', 'root', 'lab'))
    have['shared_paths'] = rec.get('shared_paths') or []
    want = spec.config()
    return ['%s %r (running with %r)' % (k, want[k], have[k]) for k in sorted(want) if want[k] != have[k]]


def started(spec, check_mode=False, reboot=False):
    result = Result()
    rec = record.load(spec.data_dir, spec.name)
    states = _pin_states(spec.name)
    orphan = rec is None and _orphaned(spec, states)
    if not orphan:
        _check_pins(spec, rec, states)
    if spec.lab:
        _check_lab(spec)
    _check_data_dir_fs(spec)
    alive = rec is not None and record.init_alive(rec)
    result.before = view(rec, alive) if rec else {}
    if alive and not reboot and _differences(spec, rec):
        raise NamespaceError('the running host differs from the task: %s' % '; '.join(_differences(spec, rec)),
                             name=spec.name, path=record.path_of(spec.data_dir, spec.name),
                             hint='state: rebooted starts it again with these settings (keeping its files).')
    restart = reboot or not alive
    if reboot and alive:
        result.act('end the init (pid %d) of host %s and everything inside' % (rec['pid'], spec.name))
    if restart:
        result.act('%s the init of host %s (%s root)' % (
            'start' if rec is None else 'restart', spec.name, spec.root))
    # result.before is what the machine shows of a running host where it drifted
    # from the record (the record alone made before == after under changed)
    pinned = not restart and _pins_follow(states, rec['pid'])
    if not pinned:
        result.act('pin its namespaces at %s' % ', '.join(sorted(pins(spec.name).values())))
        if not restart:
            result.before['pins'] = dict((t, path) for t, path in pins(spec.name).items()
                                         if _pins_follow({t: states[t]}, rec['pid']))
    hostname = None if restart else _hostname_of(rec['pid'])
    renamed = not restart and hostname != spec.hostname
    if renamed:
        result.act('set the hostname of host %s back to %s' % (spec.name, spec.hostname))
        result.before['hostname'] = hostname
    if spec.lab:
        for text in labs.lab_actions(spec.lab):
            result.act(text)
        cut = pinned and not labs.cabled(spec.lab, lab_end_name(spec.name), pins(spec.name)['net'])
        if cut:
            result.before.update(address=None, interface=None)
        if not pinned or cut:
            result.act('cable %s (%s) to bridge %s of lab %s via %s' % (
                spec.lab.interface, spec.lab.address, spec.lab.bridge, spec.lab.name, lab_end_name(spec.name)))
    planned = _new_record(spec, rec.get('pid') if rec and not restart else None,
                          rec.get('start_time') if rec and not restart else None)
    if rec and not restart and rec.get('nonce'):
        planned['nonce'] = rec['nonce']
    if check_mode or not result.changed:
        result.host = view(planned, not check_mode or not restart)
        result.after = result.host
        return result
    new = rec is None
    made_lab = spec.lab is not None and not labs.exists(spec.lab.name)
    try:
        if reboot and alive:
            init.kill(rec['pid'])
        if restart and (rec is not None or orphan):
            _release(spec.name, rec or {'data_dir': spec.data_dir})
        if restart:
            # recorded before anything starts, with the nonce the new init
            # carries: a run killed from here on leaves a record, so the next
            # run finds and ends what it left
            planned['nonce'] = binascii.hexlify(os.urandom(8)).decode('ascii')
            record.save(spec.data_dir, spec.name, planned)
            pid, start = _start_and_pin(spec, planned['nonce'])
            planned['pid'], planned['start_time'] = pid, start
        elif not pinned:
            # a running init whose pins someone removed (ip netns delete) or moved
            _pin(spec.name, rec['pid'])
        if renamed:
            _with_uts(rec['pid'], lambda fd: nsprops.set_uts(fd, spec.hostname))
        record.save(spec.data_dir, spec.name, planned)
        if spec.lab:
            labs.ensure(spec.lab)
            if not labs.cabled(spec.lab, lab_end_name(spec.name), pins(spec.name)['net']):
                labs.cable(spec.lab, lab_end_name(spec.name), pins(spec.name)['net'])
    except BaseException:
        if new:
            _take_down(spec.name, spec.data_dir, planned, made_lab and spec.lab)
        raise
    old_lab = (rec or {}).get('lab')
    if old_lab and old_lab['name'] != (spec.lab.name if spec.lab else None) and labs.exists(old_lab['name']) \
            and not _lab_in_use(old_lab, spec.data_dir):
        removed = labs.remove(old_lab)
        if removed:
            result.act(removed)
    result.host = view(planned, True)
    result.after = result.host
    return result


def _with_uts(pid, action):
    path = '/proc/%d/ns/uts' % pid
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot open the uts namespace of the host\'s init', path=path)
    try:
        return action(fd)
    finally:
        os.close(fd)


def _hostname_of(pid):
    """The hostname in the running init's uts namespace (someone inside may
    have changed it: the task's hostname is set again)."""
    return _with_uts(pid, lambda fd: nsprops.read({'uts': fd}, ['hostname'])['hostname'])


def _start_and_pin(spec, nonce=None):
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
            init.kill(pid)
            _unpin(spec.name)
            if exc.errno != errno.EINVAL or attempt == len(attempts) - 1:
                raise
    raise AssertionError('unreachable')  # pragma: no cover


def _release(name, rec):
    """Let the namespaces of a dead (or just killed) init go before a new one
    starts: its mount namespace, held by its pin, still has the overlay over
    the upper and work directories the new init is about to mount, and
    overlayfs must not have two mounts on one upper layer."""
    _end_strays(name, rec['data_dir'], rec.get('nonce'))
    if rec.get('lab') and labs.exists(rec['lab']['name']):
        labs.uncable(rec['lab']['name'], lab_end_name(name))
    if any(s.state != ABSENT for s in _pin_states(name).values()):
        _unpin(name)


def _end_strays(name, data_dir, nonce=None):
    """Kill the inits of the host no record holds (a run killed half-way):
    those its pins hold, or carrying the record's nonce. Only these: an init
    with the same name and data_dir in another mount namespace (another
    container or sandbox, its own /var) is not this host. Returns their pids."""
    pinned = dict((t, s) for t, s in _pin_states(name).items() if s.state == PRESENT)
    ended = []
    for pid in record.stray_inits(name, data_dir):
        if (pinned and _pins_follow(pinned, pid)) or (nonce and record.nonce_of(pid) == nonce):
            init.kill(pid)
            ended.append(pid)
    return ended


def _pin(name, pid):
    # force: the record proved these are the host's pins; they follow its (new) init
    engine.ensure_present(pinspec.build(name=name, types=TYPES, source_pid=pid, force=True))


def _unpin(name):
    engine.ensure_absent(pinspec.build(name=name, types=TYPES))


def _take_down(name, data_dir, rec, lab=None):
    """Everything of the host goes: init, lab end, pins, files; the lab too
    when this was its last host. Returns what it did."""
    done = []
    if rec and rec.get('pid') and record.init_alive(rec):
        init.kill(rec['pid'])
        done.append('end the init (pid %d) of host %s and everything inside' % (rec['pid'], name))
    for pid in _end_strays(name, data_dir, (rec or {}).get('nonce')):
        done.append('end the unrecorded init (pid %d) of host %s, left by a run that was killed' % (pid, name))
    their_lab = (rec or {}).get('lab') or (lab.as_dict() if lab else None)
    if their_lab and labs.exists(their_lab['name']) and labs.uncable(their_lab['name'], lab_end_name(name)):
        done.append('delete %s from lab %s' % (lab_end_name(name), their_lab['name']))
    if any(s.state != ABSENT for s in _pin_states(name).values()):
        _unpin(name)
        done.append('unpin its namespaces at %s' % ', '.join(sorted(pins(name).values())))
    # the lab before the record: a run killed after the record went would
    # leave a lab that nothing names any more, and the next absent no way to
    # know it was this host's
    if their_lab and labs.exists(their_lab['name']) and not _lab_in_use(their_lab, data_dir, leaving=name):
        removed = labs.remove(their_lab)
        if removed:
            done.append(removed)
    host_dir = os.path.join(data_dir, name)
    if os.path.lexists(host_dir):
        shutil.rmtree(host_dir)
        done.append('remove %s' % host_dir)
    return done


def _lab_in_use(lab, data_dir, leaving=None):
    """Whether a host (other than leaving, in check mode still cabled) uses the lab."""
    for other in record.names(data_dir):
        if other == leaving:
            continue
        theirs = (record.load(data_dir, other) or {}).get('lab')
        if theirs and theirs['name'] == lab['name']:
            return True
    mine = lab_end_name(leaving) if leaving else None
    return any(port != mine for port in labs.ports(lab))


def absent(spec, check_mode=False):
    result = Result()
    rec = record.load(spec.data_dir, spec.name)
    states = _pin_states(spec.name)
    if rec is None:
        if _orphaned(spec, states):
            if check_mode:
                result.act('end the unrecorded init of host %s and unpin its namespaces' % spec.name)
            else:
                for text in _take_down(spec.name, spec.data_dir, None):
                    result.act(text)
            return result
        if any(s.state != ABSENT for s in states.values()):
            result.warnings.append('%s is pinned but is no namespace host (no record at %s): it is left alone'
                                   % (spec.name, record.path_of(spec.data_dir, spec.name)))
            return result
        if os.path.lexists(spec.host_dir):
            # a start that crashed before its record: its files only
            result.act('remove %s' % spec.host_dir)
            if not check_mode:
                shutil.rmtree(spec.host_dir)
        return result
    _check_pins(spec, rec, states)
    alive = record.init_alive(rec)
    result.before = view(rec, alive)
    if check_mode:
        if alive:
            result.act('end the init (pid %d) of host %s and everything inside' % (rec['pid'], spec.name))
        if rec.get('lab'):
            result.act('delete %s from lab %s' % (lab_end_name(spec.name), rec['lab']['name']))
        result.act('unpin its namespaces at %s' % ', '.join(sorted(pins(spec.name).values())))
        their_lab = rec.get('lab')
        if their_lab and labs.exists(their_lab['name']) \
                and not _lab_in_use(their_lab, spec.data_dir, leaving=spec.name):
            removed = labs.remove(their_lab, check_mode=True)
            if removed:
                result.act(removed)
        result.act('remove %s' % spec.host_dir)
        return result
    for text in _take_down(spec.name, spec.data_dir, rec):
        result.act(text)
    return result


def info(data_dir, name=None):
    hosts = []
    for one in record.names(data_dir):
        if name is not None and one != name:
            continue
        rec = record.load(data_dir, one)
        hosts.append(view(rec, record.init_alive(rec)))
    return hosts


def converge(spec, check_mode=False):
    """The module's one call: the host to spec.state.

    Runs on one data_dir are serialised (its flock): the address checks, the
    records and the lab's last-host test must not interleave; runs on one lab
    are too, whatever their data_dir (the lab's lock, taken second). A data_dir that
    does not exist yet is made only once a plan says there is work."""
    def run(check):
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


def _netns_names(spec):
    """The network namespace names a run may check, cable or remove: the
    task's lab, the lab the record says the host is on, and the host's own."""
    rec = record.load(spec.data_dir, spec.name) or {}
    return [spec.name] + [lab['name'] for lab in (rec.get('lab'), spec.lab and spec.lab.as_dict()) if lab]


@contextmanager
def _locked(directory):
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
