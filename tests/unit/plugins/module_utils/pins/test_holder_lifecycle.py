"""pid namespace holders never outlive their purpose (issue 11): a creator
killed at any step leaves no holder behind, later runs and state=absent end
orphans, and create+remove of one set at once leaks nothing. Judged by ps,
lsns and findmnt."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from nsoracle import nsfs_mounts, sh
from waiting import wait_for

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.procscan import HOLDER_MARKER
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, listing, pindir, spec

SET = ['net', 'uts', 'ipc', 'pid', 'cgroup']


def _unique(prefix):
    # Other sandboxes share this machine's pid namespace: our holders are told apart by name.
    return f'{prefix}-{uuid.uuid4().hex[:8]}'


def _reap():
    # This test process is the subreaper of orphans: let no zombie hide a pid.
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _labelled(line, name):
    words = line.split()
    after = words.index(HOLDER_MARKER) + 1 if HOLDER_MARKER in words else len(words)
    return HOLDER_MARKER in words and name in words[after:]


def _holders(name):
    """ps's view: pids of holder processes started for name."""
    _reap()
    out = sh('ps', '-e', '-ww', '-o', 'pid=,args=').stdout
    return [int(line.split(None, 1)[0]) for line in out.splitlines() if _labelled(line, name)]


def _lsns_commands(name):
    """lsns's view: namespaces whose first process is a holder of name."""
    _reap()
    for _attempt in range(20):
        # lsns fails (rc 1, no message) when a process exits under it: other sandboxes share /proc
        run = sh('lsns', '-n', '-o', 'NS,TYPE,COMMAND', check=False, env=dict(os.environ, COLUMNS='100000'))
        if run.returncode == 0:
            break
        time.sleep(0.05)
    out = (
        sh('lsns', '-n', '-o', 'NS,TYPE,COMMAND', env=dict(os.environ, COLUMNS='100000')).stdout
        if run.returncode
        else run.stdout
    )
    return [line for line in out.splitlines() if _labelled(line, name)]


# A real process runs the engine and stops itself (SIGSTOP) at one step, so
# the test can kill -9 it exactly there.
_CREATOR = r'''
import os, signal, sys
sys.path[:0] = %(path)r
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import create, engine, pinops, spec
point, name = sys.argv[1], sys.argv[2]
calls = []

def stop_at(obj, attr, nth=1):
    real = getattr(obj, attr)
    def stopped(*args, **kwargs):
        calls.append(attr)
        if calls.count(attr) == nth:
            os.kill(os.getpid(), signal.SIGSTOP)
        return real(*args, **kwargs)
    setattr(obj, attr, stopped)

if point == 'unshared':        # the child has unshared; no holder yet
    stop_at(create, '_write_maps')
elif point == 'holder-forked':  # the holder exists, the child still runs
    stop_at(create.Child, 'finish')
elif point == 'before-bind':    # the child is gone, nothing is pinned
    stop_at(pinops, 'bind_fd', 1)
elif point == 'last-bind':      # all but one type pinned (pid among them)
    stop_at(pinops, 'bind_fd', %(types)d)
engine.ensure_present(spec.build(name, %(set)r))
'''


def _creator(point, name):
    code = _CREATOR % {'path': [p for p in sys.path if 'collections' in p], 'types': len(SET), 'set': SET}
    proc = subprocess.Popen([sys.executable, '-c', code, point, name])

    def stopped():
        with open(f'/proc/{proc.pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] == 'T'

    wait_for(stopped, timeout=20)
    return proc


@pytest.mark.parametrize('point', ['unshared', 'holder-forked', 'before-bind', 'last-bind'])
def test_a_creator_killed_at_any_step_leaves_no_holder(point):
    name = _unique('k9')
    proc = _creator(point, name)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # no run needed: a holder whose creator died before pinning it ends itself
    wait_for(lambda: _holders(name) == [])
    assert _lsns_commands(name) == []
    # the next run completes the set (after last-bind: pid and cgroup anew), with exactly one holder
    result = engine.ensure_present(spec.build(name, SET))
    assert result.changed
    assert len(_holders(name)) == 1
    assert sorted(m['target'] for m in nsfs_mounts()) == sorted(f'/run/{t}ns/{name}' for t in SET)
    engine.ensure_absent(spec.build(name, SET))
    wait_for(lambda: _holders(name) == [])
    assert _lsns_commands(name) == [] and nsfs_mounts() == []


def _orphan(name):
    """An orphan holder as a crash of an older version left it: a pid set
    created, then its pins removed behind the engine's back."""
    engine.ensure_present(spec.build(name, SET))
    for nstype in SET:
        sh('umount', f'/run/{nstype}ns/{name}')
        os.unlink(f'/run/{nstype}ns/{name}')
    holders = _holders(name)
    assert len(holders) == 1 and not [m for m in nsfs_mounts() if m['target'].endswith('/' + name)]
    return holders[0]


def test_absent_ends_the_orphan_holder_of_its_name_even_without_pins():
    name = _unique('orph')
    other = _unique('keep')
    engine.ensure_present(spec.build(other, SET))
    holder = _orphan(name)
    assert engine.ensure_absent(spec.build(name, SET), check_mode=True).changed
    assert _holders(name) == [holder]
    result = engine.ensure_absent(spec.build(name, SET))
    assert result.changed and any(str(holder) in a and 'holder' in a for a in result.actions), result.actions
    wait_for(lambda: _holders(name) == [])
    assert _lsns_commands(name) == []
    assert len(_holders(other)) == 1  # a pinned holder of another name is never touched
    assert not engine.ensure_absent(spec.build(name, SET)).changed


def test_the_next_present_run_ends_the_orphan_and_creates_the_set_whole():
    name = _unique('orph')
    holder = _orphan(name)
    result = engine.ensure_present(spec.build(name, SET))
    assert result.changed and any(str(holder) in a for a in result.actions), result.actions
    wait_for(lambda: holder not in _holders(name))
    assert len(_holders(name)) == 1
    assert not engine.ensure_present(spec.build(name, SET)).changed


def test_namespace_info_shows_orphan_holders_by_default():
    name = _unique('orph')
    holder = _orphan(name)
    pinned = _unique('pinned')
    engine.ensure_present(spec.build(pinned, SET))
    orphans, warnings = listing.orphan_holders()
    assert [(o['name'], o['pid']) for o in orphans if o['name'] in (name, pinned)] == [(name, holder)]
    assert any(str(holder) in w and name in w and 'state=absent' in w for w in warnings), warnings


def _present_then_absent(name):
    try:
        engine.ensure_present(spec.build(name, ['pid', 'net']))
        engine.ensure_absent(spec.build(name, ['pid', 'net']))
        return 'ok'
    except Exception as exc:  # report, do not hide
        return f'error: {exc}'


def _absent(name):
    try:
        engine.ensure_absent(spec.build(name, ['pid', 'net']))
        return 'ok'
    except Exception as exc:
        return f'error: {exc}'


def test_a_removal_that_waited_for_the_lock_plans_again(monkeypatch):
    name = _unique('replan')
    engine.ensure_present(spec.build(name, SET))
    real_locked = pindir.locked
    interleaved = []

    def locked(directories):
        if not interleaved:
            # While this removal waits for the lock, others remove the set
            # and create it anew: a new holder, new pins.
            interleaved.append(True)
            engine.ensure_absent(spec.build(name, SET))
            engine.ensure_present(spec.build(name, SET))
        return real_locked(directories)

    monkeypatch.setattr(pindir, 'locked', locked)
    result = engine.ensure_absent(spec.build(name, SET))
    assert interleaved and result.changed
    wait_for(lambda: _holders(name) == [])
    assert _lsns_commands(name) == [] and nsfs_mounts() == []


def test_create_and_remove_of_one_pid_set_at_once_leak_no_holder():
    name = _unique('race')
    jobs = [(_present_then_absent, name), (_absent, name)] * 10
    with multiprocessing.get_context('fork').Pool(4) as pool:
        results = [pool.apply_async(func, (arg,)) for func, arg in jobs]
        outcomes = [r.get(timeout=60) for r in results]
    assert [o for o in outcomes if o != 'ok'] == []
    engine.ensure_absent(spec.build(name, ['pid', 'net']))
    wait_for(lambda: _holders(name) == [])
    assert nsfs_mounts() == [] and _lsns_commands(name) == []
