"""Check mode, stale pins, attach, removal and errors, judged from outside."""

import errno
import os
import subprocess
import time

import pytest

from nsoracle import ip_netns_list, nsfs_mounts, pin_kind_and_inode, sh
from waiting import wait_for

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec


def _tree(root='/run'):
    found = []
    for base, dirs, files in os.walk(root):
        found.extend(os.path.join(base, n) for n in dirs + files)
    return sorted(found)


@pytest.mark.parametrize('types', [['net'], ['net', 'uts', 'ipc', 'mnt', 'pid', 'user', 'cgroup', 'time']])
def test_check_mode_creates_nothing_not_even_a_directory(types):
    before = _tree()
    result = engine.ensure_present(spec.build('blue', types, hostname='h' if 'uts' in types else None), check_mode=True)
    assert result.changed
    assert len(result.actions) == len(types)
    assert all(p['inode'] is None for p in result.pins)
    assert _tree() == before
    assert nsfs_mounts() == []


def test_check_mode_predicts_the_real_run():
    predicted = engine.ensure_present(spec.build('b', ['net', 'uts']), check_mode=True)
    real = engine.ensure_present(spec.build('b', ['net', 'uts']))
    assert predicted.actions == real.actions
    assert predicted.as_dict()['diff']['before'] == real.as_dict()['diff']['before']


def test_check_mode_absent_removes_nothing_and_reports_who_is_inside():
    engine.ensure_present(spec.build('busy'))
    proc = subprocess.Popen(['ip', 'netns', 'exec', 'busy', 'sleep', '60'])
    try:
        wait_for(lambda: str(proc.pid) in sh('ip', 'netns', 'pids', 'busy').stdout)
        result = engine.ensure_absent(spec.build('busy'), check_mode=True)
        assert result.changed and result.pids_remaining == [proc.pid]
        assert ip_netns_list() == ['busy']
    finally:
        proc.kill()


def test_stale_pin_from_ip_netns_is_repaired_and_said():
    sh('ip', 'netns', 'add', 'crash')
    sh('umount', '/run/netns/crash')  # what a crash between open and bind leaves
    result = engine.ensure_present(spec.build('crash'))
    assert result.changed
    assert any('stale' in w and 'repaired' in w for w in result.warnings)
    assert pin_kind_and_inode('/run/netns/crash')[0] == 'net'
    assert ip_netns_list() == ['crash']


def test_stale_pin_is_removed_on_absent():
    os.makedirs('/run/utsns')
    open('/run/utsns/old', 'w').close()
    result = engine.ensure_absent(spec.build('old', 'uts'))
    assert result.changed and result.actions == ['remove stale uts pin file /run/utsns/old']
    assert not os.path.exists('/run/utsns/old')


@pytest.mark.parametrize(
    'make, words',
    [
        (os.mkdir, 'is a directory'),
        (lambda p: open(p, 'w').write('precious'), 'regular file with 8 bytes'),
        (lambda p: os.symlink('/proc/self/ns/net', p), 'symbolic link'),
        (os.mkfifo, 'special file'),
    ],
)
def test_something_that_is_not_a_pin_is_never_clobbered(make, words):
    os.makedirs('/run/netns')
    make('/run/netns/x')
    before = os.lstat('/run/netns/x')
    for operation in (engine.ensure_present, engine.ensure_absent):
        with pytest.raises(NamespaceError) as info:
            operation(spec.build('x'))
        assert words in str(info.value) and '/run/netns/x' in str(info.value)
    after = os.lstat('/run/netns/x')
    assert (before.st_ino, before.st_mode, before.st_size) == (after.st_ino, after.st_mode, after.st_size)


def test_a_pin_of_another_type_is_refused_then_replaced_with_force():
    engine.ensure_present(spec.build('x', 'uts', pin_dir='/run/netns'))
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('x'))
    assert 'holds a uts namespace, not a net namespace' in str(info.value)
    with pytest.raises(NamespaceError):
        engine.ensure_absent(spec.build('x'))
    engine.ensure_present(spec.build('x', force=True))
    assert pin_kind_and_inode('/run/netns/x')[0] == 'net'


def _start_unshared(*flags):
    proc = subprocess.Popen(['unshare'] + list(flags) + ['sleep', '60'])
    wait_for(lambda: os.readlink(f'/proc/{proc.pid}/exe').endswith('sleep'))
    return proc


def test_attach_pins_the_namespaces_of_a_process_like_ip_netns_attach():
    proc = _start_unshared('--net', '--uts')
    try:
        result = engine.ensure_present(spec.build('app', ['net', 'uts'], source_pid=proc.pid))
        assert result.changed
        assert pin_kind_and_inode('/run/netns/app')[1] == os.stat(f'/proc/{proc.pid}/ns/net').st_ino
        assert pin_kind_and_inode('/run/utsns/app')[1] == os.stat(f'/proc/{proc.pid}/ns/uts').st_ino
        assert sh('ip', 'netns', 'identify', str(proc.pid)).stdout.strip() == 'app'
        assert not engine.ensure_present(spec.build('app', ['net', 'uts'], source_pid=proc.pid)).changed
    finally:
        proc.kill()


@pytest.mark.parametrize('nstype', ['net', 'uts', 'ipc', 'mnt', 'pid', 'user', 'cgroup', 'time'])
def test_attach_from_a_path_for_every_type(nstype):
    engine.ensure_present(spec.build('orig', nstype))
    source = f'/run/{nstype}ns/orig'
    if nstype == 'mnt':
        # a mount namespace can be pinned only from an older mount namespace: this is one
        result = engine.ensure_present(spec.build('copy', nstype, source_path=source))
    else:
        result = engine.ensure_present(spec.build('copy', nstype, source_path=source))
    assert result.changed
    assert pin_kind_and_inode(f'/run/{nstype}ns/copy')[1] == pin_kind_and_inode(source)[1]
    assert not engine.ensure_present(spec.build('copy', nstype, source_path=source)).changed


def test_attach_to_a_pin_holding_another_namespace_needs_force():
    engine.ensure_present(spec.build('a'))
    engine.ensure_present(spec.build('b'))
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('b', source_path='/run/netns/a'))
    assert 'force: true' in str(info.value)
    result = engine.ensure_present(spec.build('b', source_path='/run/netns/a', force=True))
    assert result.changed
    assert pin_kind_and_inode('/run/netns/b')[1] == pin_kind_and_inode('/run/netns/a')[1]


def test_attach_refuses_the_wrong_type_and_missing_sources():
    engine.ensure_present(spec.build('a'))
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('b', 'uts', source_path='/run/netns/a'))
    assert 'not a uts namespace' in str(info.value)
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('b', source_pid=999999999))
    assert f'errno {errno.ENOENT} ENOENT' in str(info.value)
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('b', source_path='/etc/hostname'))
    assert 'not a namespace file' in str(info.value)
    assert ip_netns_list() == ['a']


def test_remove_unpins_and_says_who_keeps_the_namespace_alive():
    engine.ensure_present(spec.build('busy'))
    proc = subprocess.Popen(['ip', 'netns', 'exec', 'busy', 'sleep', '60'])
    try:
        wait_for(lambda: str(proc.pid) in sh('ip', 'netns', 'pids', 'busy').stdout)
        result = engine.ensure_absent(spec.build('busy'))
        assert result.changed and result.pids_remaining == [proc.pid]
        assert ip_netns_list() == [] and not os.path.exists('/run/netns/busy')
        assert any('still inside' in w for w in result.warnings)
    finally:
        proc.kill()


def test_removing_a_missing_name_is_unchanged():
    result = engine.ensure_absent(spec.build('never', ['net', 'pid']))
    assert not result.changed and result.pids_remaining == []
    assert not os.path.exists('/run/netns')


def test_remove_pid_namespace_ends_its_holder_and_everything_inside():
    engine.ensure_present(spec.build('p', ['pid', 'net']))
    proc = subprocess.Popen(['nsenter', '--pid=/run/pidns/p', '--', 'sleep', '60'])
    time.sleep(0.2)
    result = engine.ensure_absent(spec.build('p', ['pid', 'net']))
    assert result.changed and result.pids_remaining == []
    assert any('holder' in a for a in result.actions)
    assert proc.wait(timeout=5) == -9
    assert nsfs_mounts() == []


def test_removing_a_second_name_of_a_pid_namespace_keeps_its_holder_for_the_first():
    first = engine.ensure_present(spec.build('a', 'pid'))
    engine.ensure_present(spec.build('b', 'pid', source_path='/run/pidns/a'))
    result = engine.ensure_absent(spec.build('b', 'pid'))
    assert result.changed and not any('holder' in a for a in result.actions), result.actions
    # a is still a live pid namespace: its init is there, and a new process gets pid 2
    again = engine.ensure_present(spec.build('a', 'pid'))
    assert not again.changed and again.pins[0]['inode'] == first.pins[0]['inode'], again.warnings
    out = sh('nsenter', '--pid=/run/pidns/a', '--', 'sh', '-c', 'echo $$').stdout.strip()
    assert out == '2'


def test_removing_an_attached_pid_namespace_never_kills_a_foreign_init():
    proc = subprocess.Popen(['unshare', '--pid', '--fork', 'sleep', '60'])
    try:
        wait_for(lambda: any(os.readlink(f'/proc/{c}/exe').endswith('sleep') for c in _children(proc.pid)))
        child = _children(proc.pid)[0]
        engine.ensure_present(spec.build('foreign', 'pid', source_pid=int(child)))
        result = engine.ensure_absent(spec.build('foreign', 'pid'))
        assert result.pids_remaining == [int(child)]
        assert proc.poll() is None
    finally:
        proc.kill()


def _children(pid):
    with open(f'/proc/{pid}/task/{pid}/children') as handle:
        return handle.read().split()


def test_absent_does_both_unmount_and_unlink_even_with_stacked_mounts():
    engine.ensure_present(spec.build('s'))
    sh('mount', '--bind', '/proc/self/ns/net', '/run/netns/s')  # stack a second mount, as pinns can
    engine.ensure_absent(spec.build('s'))
    assert nsfs_mounts() == [] and not os.path.exists('/run/netns/s')


def test_a_bind_failing_midway_rolls_back_the_whole_set(monkeypatch):
    real_mount = syscalls.mount
    calls = []

    def failing_mount(source, target, fstype, flags, data=None):
        if source and source.startswith('/proc/self/fd/'):
            calls.append(target)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, 'injected')
        return real_mount(source, target, fstype, flags, data)

    monkeypatch.setattr(syscalls, 'mount', failing_mount)
    with pytest.raises(NamespaceError) as info:
        engine.ensure_present(spec.build('half', ['uts', 'ipc', 'pid']))
    assert 'ENOSPC' in str(info.value) and calls[1] in str(info.value)
    assert nsfs_mounts() == []
    assert not any(os.path.exists(f'/run/{t}ns/half') for t in ('uts', 'ipc', 'pid'))
    # and the holder started for the pid namespace is gone
    assert 'nsfd-namespaces-holder' not in sh('ps', '-eo', 'args').stdout


def test_errno_and_advice_without_capabilities():
    # drop CAP_SYS_ADMIN in a child process and try to create a pin from it
    code = (
        f'import sys; sys.path[:0] = {[p for p in __import__("sys").path if "collections" in p]!r}\n'
        'from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec\n'
        'from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError\n'
        'try:\n engine.ensure_present(spec.build("nocap", "uts"))\n'
        'except NamespaceError as e:\n print(e)\n'
    )
    out = sh('setpriv', '--inh-caps=-all', '--bounding-set=-all', '--', 'python3', '-c', code).stdout
    assert "namespace 'nocap'" in out and 'EPERM' in out and 'become' in out
