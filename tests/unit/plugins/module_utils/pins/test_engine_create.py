"""Creating namespaces of every type, checked with findmnt, ip netns, nsenter and /proc."""

import os
import time

import pytest

from nsoracle import ip_netns_list, nsfs_mounts, pin_kind_and_inode, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPE_NAMES
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec

ALL = TYPE_NAMES


@pytest.mark.parametrize('nstype', ALL)
def test_create_pins_a_new_namespace_of_the_type(nstype):
    result = engine.ensure_present(spec.build('t1', nstype))
    assert result.changed
    path = f'/run/{nstype}ns/t1'
    kind, ino = pin_kind_and_inode(path)
    assert kind == nstype
    assert result.pins == [{'type': nstype, 'path': path, 'inode': ino, 'dev': os.stat(path).st_dev}]
    own = int(
        os.readlink('/proc/self/ns/{}'.format({'pid': 'pid', 'time': 'time'}.get(nstype, nstype))).split('[')[1][:-1]
    )
    assert ino != own, 'the pin must hold a new namespace, not the caller own'


@pytest.mark.parametrize('nstype', ALL)
def test_second_run_is_unchanged_and_keeps_the_inode(nstype):
    first = engine.ensure_present(spec.build('t2', nstype))
    second = engine.ensure_present(spec.build('t2', nstype))
    assert not second.changed
    assert second.actions == []
    assert second.pins == first.pins


def test_the_module_process_stays_in_its_own_namespaces():
    before = dict((t, os.readlink(f'/proc/self/ns/{t}')) for t in os.listdir('/proc/self/ns'))
    engine.ensure_present(spec.build('vs', ALL, hostname='vs'))
    after = dict((t, os.readlink(f'/proc/self/ns/{t}')) for t in os.listdir('/proc/self/ns'))
    assert before == after


def test_task_namespaces_come_from_one_thread_and_every_thread_stays_home():
    """net, uts, ipc and cgroup are created by a thread without a fork: one
    set from one unshare, hostname applied, and neither the main thread nor
    any other thread of the process is left in them."""
    own = _thread_namespaces()
    result = engine.ensure_present(spec.build('task', ['net', 'uts', 'ipc', 'cgroup'], hostname='tasks'))
    assert sorted(p['type'] for p in result.pins) == ['cgroup', 'ipc', 'net', 'uts']
    assert _thread_namespaces() == own
    for pin in result.pins:
        assert pin_kind_and_inode(pin['path']) == (pin['type'], pin['inode'])
        assert pin['inode'] != _ino(f'/proc/self/ns/{pin["type"]}')
    assert sh('nsenter', '--uts=/run/utsns/task', 'hostname').stdout.strip() == 'tasks'
    assert not engine.ensure_present(spec.build('task', ['net', 'uts', 'ipc', 'cgroup'], hostname='tasks')).changed


def _thread_namespaces():
    return sorted(
        (tid, t, os.readlink(f'/proc/self/task/{tid}/ns/{t}'))
        for tid in os.listdir('/proc/self/task')
        for t in ('net', 'uts', 'ipc', 'cgroup')
    )


def test_net_pins_are_iproute2_pins():
    engine.ensure_present(spec.build('blue'))
    assert ip_netns_list() == ['blue']
    out = sh('ip', 'netns', 'exec', 'blue', 'ip', '-o', 'link').stdout
    assert out.count('\n') == 1 and 'lo:' in out
    assert 'blue' in sh('nsenter', '--net=/run/netns/blue', 'ip', 'netns', 'identify').stdout
    # /run/netns is a shared mount of itself, as ip netns makes it
    assert 'shared' in sh('findmnt', '-n', '-o', 'PROPAGATION', '/run/netns').stdout


def test_exactly_one_mount_per_pin_even_under_a_shared_run():
    sh('mount', '--make-rshared', '/run')
    engine.ensure_present(spec.build('a', ['net', 'uts', 'ipc']))
    engine.ensure_present(spec.build('b'))
    targets = sorted(m['target'] for m in nsfs_mounts())
    assert targets == ['/run/ipcns/a', '/run/netns/a', '/run/netns/b', '/run/utsns/a']


def test_a_named_set_comes_from_one_unshare():
    result = engine.ensure_present(spec.build('vs', ['net', 'uts', 'ipc', 'pid'], hostname='vs1'))
    assert [p['type'] for p in result.pins] == ['uts', 'ipc', 'net', 'pid']
    # the holder of the pid namespace was born in the same unshare: it is in all four
    inodes = dict((p['type'], p['inode']) for p in result.pins)
    holder = [
        pid
        for pid in os.listdir('/proc')
        if pid.isdigit() and os.path.exists(f'/proc/{pid}/ns/pid') and _ino(f'/proc/{pid}/ns/pid') == inodes['pid']
    ]
    assert len(holder) == 1
    for nstype in ('net', 'uts', 'ipc'):
        assert _ino(f'/proc/{holder[0]}/ns/{nstype}') == inodes[nstype]
    assert sh('nsenter', '--uts=/run/utsns/vs', 'hostname').stdout.strip() == 'vs1'


def _ino(path):
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def test_pid_namespace_has_a_live_init_and_can_run_processes():
    engine.ensure_present(spec.build('p', 'pid'))
    # the first process entering gets pid 2: the holder is pid 1
    out = sh('nsenter', '--pid=/run/pidns/p', '--', 'sh', '-c', 'echo $$').stdout.strip()
    assert out == '2'
    again = engine.ensure_present(spec.build('p', 'pid'))
    assert not again.changed


def test_pid_namespace_whose_init_died_is_recreated():
    first = engine.ensure_present(spec.build('p', 'pid'))
    ino = first.pins[0]['inode']
    for pid in os.listdir('/proc'):
        if pid.isdigit() and _ino(f'/proc/{pid}/ns/pid') == ino:
            os.kill(int(pid), 9)
    deadline = time.time() + 5
    while time.time() < deadline and any(_ino(f'/proc/{p}/ns/pid') == ino for p in os.listdir('/proc') if p.isdigit()):
        time.sleep(0.02)
    again = engine.ensure_present(spec.build('p', 'pid'))
    assert again.changed
    assert any('no init process' in w for w in again.warnings)
    assert again.pins[0]['inode'] != ino
    assert sh('nsenter', '--pid=/run/pidns/p', '--', 'true').returncode == 0


def test_uts_hostname_and_domainname_are_set_and_corrected():
    engine.ensure_present(spec.build('u', 'uts', hostname='one', domainname='example'))
    assert sh('nsenter', '--uts=/run/utsns/u', 'hostname').stdout.strip() == 'one'
    assert sh('nsenter', '--uts=/run/utsns/u', 'cat', '/proc/sys/kernel/domainname').stdout.strip() == 'example'
    same = engine.ensure_present(spec.build('u', 'uts', hostname='one', domainname='example'))
    assert not same.changed
    changed = engine.ensure_present(spec.build('u', 'uts', hostname='two'))
    assert changed.changed and changed.actions == ["set hostname of uts namespace u from 'one' to 'two'"]
    assert sh('nsenter', '--uts=/run/utsns/u', 'hostname').stdout.strip() == 'two'
    assert sh('hostname').stdout.strip() != 'two', 'the host name of the caller must not change'


def test_user_namespace_maps():
    engine.ensure_present(
        spec.build('us', 'user', uid_map=['0 100000 65536'], gid_map=[{'inside': 0, 'outside': 200000, 'count': 10}])
    )
    uid_map = sh('nsenter', '--user=/run/userns/us', 'cat', '/proc/self/uid_map').stdout.split()
    gid_map = sh('nsenter', '--user=/run/userns/us', 'cat', '/proc/self/gid_map').stdout.split()
    assert uid_map == ['0', '100000', '65536']
    assert gid_map == ['0', '200000', '10']
    assert not engine.ensure_present(spec.build('us', 'user', uid_map=['0 100000 65536'])).changed


def test_user_namespace_map_mismatch_fails_unless_forced():
    from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

    first = engine.ensure_present(spec.build('us', 'user', uid_map=['0 100000 65536']))
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('us', 'user', uid_map=['0 300000 65536']))
    assert 'cannot change after creation' in str(info.value)
    assert pin_kind_and_inode('/run/userns/us')[1] == first.pins[0]['inode'], 'a failure changes nothing'
    forced = engine.ensure_present(spec.build('us', 'user', uid_map=['0 300000 65536'], force=True))
    assert forced.changed and forced.pins[0]['inode'] != first.pins[0]['inode']


def _monotonic_inside(path):
    return float(sh('nsenter', f'--time={path}', 'python3', '-c', 'import time; print(time.monotonic())').stdout)


def test_time_namespace_offsets_are_written_before_anyone_enters():
    engine.ensure_present(spec.build('tn', 'time', time_offsets={'monotonic': 86400, 'boottime': '7 0'}))
    offset = _monotonic_inside('/run/timens/tn') - time.monotonic()
    assert 86390 < offset < 86410
    assert not engine.ensure_present(spec.build('tn', 'time', time_offsets={'monotonic': 86400})).changed


def test_user_set_owns_the_other_namespaces():
    engine.ensure_present(
        spec.build('c', ['user', 'uts', 'net'], uid_map=['0 100000 1000'], gid_map=['0 100000 1000'], hostname='inside')
    )
    # nsenter into the user namespace, then the uts one it owns
    out = sh('nsenter', '--user=/run/userns/c', '--uts=/run/utsns/c', 'hostname').stdout.strip()
    assert out == 'inside'


def test_mount_namespace_pin_keeps_no_copies_of_other_pins():
    engine.ensure_present(spec.build('other', ['net', 'uts']))
    engine.ensure_present(spec.build('m', 'mnt'))
    inside = sh('nsenter', '--mount=/run/mntns/m', 'findmnt', '-n', '-t', 'nsfs', check=False).stdout
    assert inside.strip() == ''
    propagation = sh('findmnt', '-n', '-o', 'PROPAGATION', '/run/mntns').stdout
    assert 'unbindable' in propagation


def test_missing_types_of_a_partial_set_are_added_with_a_warning():
    engine.ensure_present(spec.build('half', 'net'))
    result = engine.ensure_present(spec.build('half', ['net', 'uts']))
    assert result.actions == ['create uts namespace and pin it at /run/utsns/half']
    assert any('do not come from one unshare' in w for w in result.warnings)


def test_custom_pin_dir_and_explicit_path(tmp_path):
    engine.ensure_present(spec.build('x', 'uts', pin_dir=str(tmp_path / 'pins')))
    assert pin_kind_and_inode(str(tmp_path / 'pins' / 'x'))[0] == 'uts'
    engine.ensure_present(spec.build(path=str(tmp_path / 'deep' / 'dir' / 'ipc-one'), types='ipc'))
    assert pin_kind_and_inode(str(tmp_path / 'deep' / 'dir' / 'ipc-one'))[0] == 'ipc'


def test_numeric_name_is_a_name_not_a_pid():
    me = str(os.getpid())
    result = engine.ensure_present(spec.build(me))
    assert result.pins[0]['path'] == '/run/netns/' + me
    assert result.pins[0]['inode'] != os.stat('/proc/self/ns/net').st_ino
