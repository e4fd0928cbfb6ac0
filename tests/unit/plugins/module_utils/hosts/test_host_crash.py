"""A run killed (kill -9) half-way through starting a new host: the next run
must be able to start it and state absent must remove all of it."""

import os
import shutil
import signal

import pytest

from nsoracle import ip_netns_list, running, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, init, record, spec as hostspec


@pytest.fixture
def data_dir(tmp_path):
    path = str(tmp_path / 'hosts')
    os.makedirs(path)
    return path


def pid_one(pid):
    """Whether pid is pid 1 of its pid namespace (not the init's shell forking a child)."""
    with open(f'/proc/{pid}/status') as handle:
        return any(line.startswith('NSpid:') and line.split()[-1] == '1' for line in handle)


def inits_of(name, data_dir):
    """The pids of every init of host name in data_dir, as pgrep finds them: its marker, name and data_dir end its
    command line (the sandbox has no pid namespace of its own: other tests' hosts are in /proc too)."""
    pattern = f' {record.INIT_MARKER} {name} {data_dir}$'
    found = sh('pgrep', '-f', '--', pattern, check=False).stdout.split()
    return [int(pid) for pid in found if running(int(pid)) and pid_one(int(pid))]


def crashed_start(name, data_dir, pin=True):
    """Run the module's work in a child and SIGKILL it at the point a kill -9
    would hit: right after the init started (pin=False) or right after its
    pins were made, before the record has its pid (pin=True)."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the killed run
        try:

            def die(*_args, **_kwargs):
                os.kill(os.getpid(), signal.SIGKILL)

            if pin:
                saving = record.save
                engine.record.save = lambda d, n, rec: die() if rec.get('pid') else saving(d, n, rec)
            else:
                engine._pin = die
            engine.converge(hostspec.build(name=name, data_dir=data_dir))
        finally:
            os._exit(3)
    assert os.waitpid(child, 0)[1] == signal.SIGKILL
    orphans = inits_of(name, data_dir)
    assert len(orphans) == 1, orphans
    return orphans[0]


@pytest.mark.parametrize('pin', [True, False], ids=['pinned', 'not-pinned-yet'])
def test_a_start_killed_half_way_is_started_again_and_removed_completely(data_dir, pin):
    orphan = crashed_start('web1', data_dir, pin=pin)
    again = engine.converge(hostspec.build(name='web1', data_dir=data_dir))
    assert again.changed and again.host['running'] and again.host['pid'] != orphan
    assert not running(orphan), 'the crashed run\'s init still runs beside the new one'
    assert sh('nsenter', '--uts=/run/utsns/web1', 'hostname').stdout.strip() == 'web1'
    engine.converge(hostspec.build(name='web1', data_dir=data_dir, state='absent'))
    assert ip_netns_list() == [] and not os.path.exists(os.path.join(data_dir, 'web1'))


def test_absent_after_a_start_killed_half_way_leaves_nothing(data_dir):
    orphan = crashed_start('web1', data_dir)
    gone = engine.converge(hostspec.build(name='web1', data_dir=data_dir, state='absent'))
    assert gone.changed and not gone.warnings
    assert not running(orphan)
    assert ip_netns_list() == [] and not os.path.exists(os.path.join(data_dir, 'web1'))
    assert 'web1' not in sh('findmnt', '-rn', '-o', 'TARGET').stdout


def test_a_host_whose_directory_was_removed_by_hand_is_started_again_or_removed(data_dir):
    first = engine.converge(hostspec.build(name='web1', data_dir=data_dir)).host['pid']
    shutil.rmtree(os.path.join(data_dir, 'web1'))
    again = engine.converge(hostspec.build(name='web1', data_dir=data_dir))
    assert again.changed and again.host['running'] and not running(first)
    assert inits_of('web1', data_dir) == [again.host['pid']]
    shutil.rmtree(os.path.join(data_dir, 'web1'))
    planned = engine.converge(hostspec.build(name='web1', data_dir=data_dir, state='absent'), check_mode=True)
    assert planned.changed and running(again.host['pid'])
    gone = engine.converge(hostspec.build(name='web1', data_dir=data_dir, state='absent'))
    assert gone.changed and not gone.warnings and not running(again.host['pid'])
    assert ip_netns_list() == [] and not os.path.exists('/run/utsns/web1')


def test_an_init_of_the_same_name_and_data_dir_elsewhere_is_left_alone(data_dir):
    # another sandbox (or container) with its own /var runs a host web1 of the same data_dir path; here it
    # is an init started like one but neither pinned here nor recorded
    engine.converge(hostspec.build(name='web1', data_dir=data_dir))
    elsewhere = init.start(hostspec.build(name='web1', data_dir=data_dir))[0]
    try:
        engine.converge(hostspec.build(name='web1', data_dir=data_dir, state='rebooted'))
        engine.converge(hostspec.build(name='web1', data_dir=data_dir, state='absent'))
        assert running(elsewhere)
    finally:
        init.kill(elsewhere)
