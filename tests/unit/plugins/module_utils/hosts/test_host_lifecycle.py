"""Namespace hosts against the real kernel: start, rerun, reach, remove."""

import json
import os
import subprocess
import time

import pytest

from nsoracle import HOST_TYPES as TYPES, PIN_DIRS, ip_netns_list, lsns, proc_inode, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec as hostspec


@pytest.fixture
def data_dir(tmp_path):
    # on the machine's filesystem: the sandbox's own /var is an overlay,
    # which overlayfs refuses as an upper layer
    return str(tmp_path / 'hosts')


def up(name, data_dir, check_mode=False, **kwargs):
    return engine.started(hostspec.build(name=name, data_dir=data_dir, **kwargs), check_mode=check_mode)


def lab(address, **kwargs):
    return dict({'name': 'nsfd-lab', 'address': address}, **kwargs)


def gone_process(pid):
    """No such process, or a zombie (the sandbox is the subreaper that would reap it)."""
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def kill_init(pid):
    os.kill(pid, 9)
    deadline = time.monotonic() + 5
    while not gone_process(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def enter(name, *argv, **kwargs):
    return sh(
        'nsenter',
        f'--net=/run/netns/{name}',
        f'--uts=/run/utsns/{name}',
        f'--ipc=/run/ipcns/{name}',
        f'--mount=/run/mntns/{name}',
        f'--pid=/run/pidns/{name}',
        f'--cgroup=/run/cgroupns/{name}',
        '--',
        *argv,
        **kwargs,
    )


def test_shared_paths_are_seen_under_the_hosts_own_tmp(data_dir, tmp_path):
    # what the host hides with its own /tmp (a checkout or virtualenv there)
    shared = tmp_path / 'checkout dir*'
    shared.mkdir()
    (shared / 'README.md').write_text('seen from the host\n')
    up('h1', data_dir, shared_paths=[str(shared)])
    assert enter('h1', 'cat', str(shared / 'README.md')).stdout == 'seen from the host\n'
    # writable, as the machine's own directories an overlay host shares (Ansible's remote tmp may be there)
    enter('h1', 'touch', str(shared / 'new'))
    assert (shared / 'new').exists()
    assert enter('h1', 'ls', '-1', str(tmp_path)).stdout.splitlines() == [shared.name]  # the rest of /tmp stays private
    assert not up('h1', data_dir, shared_paths=[str(shared)]).changed
    with pytest.raises(NamespaceError, match='shared_paths'):
        up('h1', data_dir)
    assert engine.converge(hostspec.build(name='h1', data_dir=data_dir, state='rebooted')).changed
    assert enter('h1', 'cat', str(shared / 'README.md'), check=False).returncode != 0


def test_start_pins_and_names_the_host_and_a_rerun_changes_nothing(data_dir):
    began = time.monotonic()
    result = up('h1', data_dir)
    took = time.monotonic() - began
    assert result.changed and result.host['running'], result.as_dict()
    pid = result.host['pid']
    assert took < 1.0, f'one host took {took:.3f} s'
    assert sh('nsenter', '--net=/run/netns/h1', '--uts=/run/utsns/h1', 'hostname').stdout.strip() == 'h1'
    assert 'h1' in ip_netns_list()
    entry = lsns('pid')[proc_inode(pid, 'pid')]
    assert entry['pid'] == pid
    assert enter('h1', 'sh', '-c', 'echo $$').stdout.strip() != '1'
    assert enter('h1', 'cat', '/proc/1/cmdline').stdout.split('\0')[-4] == 'nsfd-namespace-host'
    for nstype in TYPES:
        assert result.host['pins'][nstype] == os.path.join(PIN_DIRS[nstype], 'h1')
        assert os.stat(result.host['pins'][nstype]).st_ino == proc_inode(pid, nstype)
    with open(os.path.join(data_dir, 'h1', 'host.json')) as handle:
        rec = json.load(handle)
    assert rec['pid'] == pid and rec['start_time'] > 0 and rec['root'] == 'overlay'
    assert rec['pins'] == result.host['pins']
    again = up('h1', data_dir)
    assert not again.changed, again.actions
    assert again.host['pid'] == pid


def test_private_run_tmp_and_copy_on_write_etc(data_dir):
    up('h1', data_dir)
    enter('h1', 'sh', '-c', 'echo inside > /etc/nsfd-host-test; touch /tmp/t /run/r')
    assert not os.path.exists('/etc/nsfd-host-test')
    assert not os.path.exists('/tmp/t') and not os.path.exists('/run/r')
    assert enter('h1', 'cat', '/etc/nsfd-host-test').stdout == 'inside\n'
    assert enter('h1', 'cat', '/etc/hostname').stdout == 'h1\n'
    assert enter('h1', 'findmnt', '-n', '-o', 'FSTYPE', '/run').stdout.split()[-1] == 'tmpfs'


def test_two_hosts_ping_over_the_lab_and_absent_removes_everything(data_dir):
    one = up('h1', data_dir, lab=lab('10.77.0.1/24'))
    two = up('h2', data_dir, lab=lab('10.77.0.2/24'))
    assert one.changed and two.changed
    assert sorted(ip_netns_list()) == ['h1', 'h2', 'nsfd-lab']
    sh('ip', 'netns', 'exec', 'h1', 'ping', '-c1', '-W2', '10.77.0.2')
    sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.1')
    assert not up('h1', data_dir, lab=lab('10.77.0.1/24')).changed
    for name, host in (('h1', one.host), ('h2', two.host)):
        gone = engine.absent(hostspec.build(name=name, state='absent', data_dir=data_dir))
        assert gone.changed
        assert gone_process(host['pid'])
        assert name not in ip_netns_list()
        for path in host['pins'].values():
            assert not os.path.exists(path)
        assert not os.path.exists(os.path.join(data_dir, name))
        assert not [m for m in sh('findmnt', '-rn', '-o', 'TARGET').stdout.split() if m.endswith('/' + name)]
        if name == 'h1':  # the lab stays for h2, without h1's end
            links = sh('ip', '-n', 'nsfd-lab', '-o', 'link', 'show').stdout
            assert hostspec.lab_end_name('h1') not in links and hostspec.lab_end_name('h2') in links
    assert ip_netns_list() == []
    assert not engine.absent(hostspec.build(name='h1', state='absent', data_dir=data_dir)).changed


def reboot(name, data_dir, **kwargs):
    return engine.converge(hostspec.build(name=name, state='rebooted', data_dir=data_dir, **kwargs))


def test_rebooted_keeps_etc_changes_and_changes_the_pid(data_dir):
    first = up('h1', data_dir, lab=lab('10.77.0.1/24'))
    enter('h1', 'sh', '-c', 'echo kept > /etc/nsfd-host-test; echo lost > /tmp/t; sleep 4242 >/dev/null 2>&1 &')
    assert 'sleep 4242' in enter('h1', 'ps', '-e', '-o', 'args=').stdout
    again = reboot('h1', data_dir, lab=lab('10.77.0.1/24'))
    assert again.changed and again.host['pid'] != first.host['pid']
    assert gone_process(first.host['pid'])
    assert enter('h1', 'cat', '/etc/nsfd-host-test').stdout == 'kept\n'
    assert enter('h1', 'ls', '/tmp').stdout == ''
    assert 'sleep 4242' not in enter('h1', 'ps', '-e', '-o', 'args=').stdout
    for nstype, path in again.host['pins'].items():
        assert os.stat(path).st_ino == proc_inode(again.host['pid'], nstype)
    sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.1')
    assert not up('h1', data_dir, lab=lab('10.77.0.1/24')).changed


def test_a_killed_init_is_started_again(data_dir):
    first = up('h1', data_dir, lab=lab('10.77.0.1/24'))
    kill_init(first.host['pid'])
    assert not engine.info(data_dir)[0]['running']
    again = up('h1', data_dir, lab=lab('10.77.0.1/24'))
    assert again.changed and any('restart' in a for a in again.actions), again.actions
    assert again.host['pid'] != first.host['pid'] and engine.info(data_dir)[0]['running']
    assert os.stat('/run/netns/h1').st_ino == proc_inode(again.host['pid'], 'net')
    sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.1')


def test_a_reused_pid_is_not_the_host(data_dir):
    first = up('h1', data_dir)
    kill_init(first.host['pid'])
    # another process now has the recorded pid: the record's start time tells them apart
    path = os.path.join(data_dir, 'h1', 'host.json')
    with open(path) as handle:
        rec = json.load(handle)
    stranger = subprocess.Popen(['sleep', '600'])
    try:
        rec['pid'] = stranger.pid
        with open(path, 'w') as handle:
            json.dump(rec, handle)
        assert not engine.info(data_dir)[0]['running']
        engine.absent(hostspec.build(name='h1', state='absent', data_dir=data_dir))
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


def snapshot(data_dir):
    return (
        os.path.exists(data_dir),
        sorted(ip_netns_list()),
        sh('findmnt', '-rn', '-o', 'TARGET').stdout,
        sorted(os.listdir('/run')),
    )


def test_check_mode_predicts_and_touches_nothing(data_dir):
    before = snapshot(data_dir)
    result = up('h1', data_dir, check_mode=True, lab=lab('10.77.0.1/24'))
    assert result.changed and result.host['pid'] is None and not result.host['running']
    assert snapshot(data_dir) == before
    up('h1', data_dir, lab=lab('10.77.0.1/24'))
    before = snapshot(data_dir)
    assert not up('h1', data_dir, check_mode=True, lab=lab('10.77.0.1/24')).changed
    gone = engine.absent(hostspec.build(name='h1', state='absent', data_dir=data_dir), check_mode=True)
    assert gone.changed and gone.actions
    rebooted = engine.converge(
        hostspec.build(name='h1', state='rebooted', data_dir=data_dir, lab=lab('10.77.0.1/24')), check_mode=True
    )
    assert rebooted.changed
    assert snapshot(data_dir) == before
    assert engine.info(data_dir)[0]['running']


def test_a_mount_that_fails_leaves_nothing_behind(tmp_path, data_dir):
    # a root tree with /usr/bin and /etc but no /proc: the init's mount of proc fails half-way,
    # after the overlay and the lab are made
    root = tmp_path / 'root'
    for sub in ('usr/bin', 'etc', 'sys', 'dev', 'run', 'tmp'):
        (root / sub).mkdir(parents=True)
    before = snapshot(data_dir)
    with pytest.raises(NamespaceError) as exc:
        up('h1', data_dir, root=str(root), lab=lab('10.77.0.1/24'))
    message = str(exc.value)
    assert 'failed while setting up its filesystems' in message and '/proc' in message, message
    assert not os.path.exists(os.path.join(data_dir, 'h1'))
    assert snapshot(data_dir)[1:] == before[1:]
    assert data_dir not in sh('ps', '-e', '-o', 'args=').stdout


def test_a_data_dir_on_an_overlay_is_refused_before_anything_starts(data_dir):
    # the sandbox's own /var is an overlay
    before = snapshot(data_dir)
    with pytest.raises(NamespaceError) as exc:
        up('h1', '/var/lib/nsfd-hosts-test', lab=lab('10.77.0.1/24'))
    assert "data_dir '/var/lib/nsfd-hosts-test' is on an overlay filesystem" in str(exc.value)
    assert not os.path.exists('/var/lib/nsfd-hosts-test') and snapshot(data_dir) == before


def test_pins_removed_under_a_running_host_are_made_again(data_dir):
    first = up('h1', data_dir, lab=lab('10.77.0.1/24'))
    sh('ip', 'netns', 'delete', 'h1')
    assert 'h1' not in ip_netns_list()
    again = up('h1', data_dir, lab=lab('10.77.0.1/24'))
    assert again.changed and again.host['pid'] == first.host['pid']
    assert os.stat('/run/netns/h1').st_ino == proc_inode(first.host['pid'], 'net')
    sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.1')
    assert not up('h1', data_dir, lab=lab('10.77.0.1/24')).changed


def test_parallel_starts_of_one_data_dir_make_each_host_once(data_dir):
    import threading

    errors = []

    def start(name, address):
        try:
            engine.converge(hostspec.build(name=name, data_dir=data_dir, lab=lab(address)))
        except Exception as exc:  # noqa: B902 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(f'p{i}', f'10.77.0.{i}/24')) for i in range(1, 5)]
    threads += [threading.Thread(target=start, args=('p1', '10.77.0.1/24'))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(ip_netns_list()) == ['nsfd-lab', 'p1', 'p2', 'p3', 'p4']
    assert [h['running'] for h in engine.info(data_dir)] == [True] * 4


def test_a_network_namespace_the_operator_had_as_lab_stays_after_the_last_host(data_dir):
    sh('ip', 'netns', 'add', 'blue')
    sh('ip', '-n', 'blue', 'link', 'add', 'mine0', 'type', 'bridge')
    up('h1', data_dir, lab=lab('10.9.0.1/24', name='blue'))
    gone = engine.converge(hostspec.build(name='h1', data_dir=data_dir, state='absent'))
    assert gone.changed and ip_netns_list() == ['blue'], gone.actions
    links = sh('ip', '-n', 'blue', '-o', 'link', 'show').stdout
    assert 'mine0' in links and 'labbr0' not in links and hostspec.lab_end_name('h1') not in links
    # a lab the module made itself goes with its last host
    up('h2', data_dir, lab=lab('10.9.0.2/24'))
    engine.converge(hostspec.build(name='h2', data_dir=data_dir, state='absent'))
    assert ip_netns_list() == ['blue']


def test_a_hostname_changed_inside_a_running_host_is_set_back(data_dir):
    pid = up('h1', data_dir, hostname='web').host['pid']
    enter('h1', 'hostname', 'evil')
    planned = up('h1', data_dir, hostname='web', check_mode=True)
    assert planned.changed and enter('h1', 'hostname').stdout.strip() == 'evil'
    again = up('h1', data_dir, hostname='web')
    assert again.changed and again.host['pid'] == pid, again.actions
    assert enter('h1', 'hostname').stdout.strip() == 'web'
    assert not up('h1', data_dir, hostname='web').changed


def test_check_mode_of_absent_predicts_the_actions_the_real_run_takes(data_dir):
    up('h1', data_dir, lab=lab('10.77.0.1/24'))
    up('h2', data_dir, lab=lab('10.77.0.2/24'))
    absent = hostspec.build(name='h1', state='absent', data_dir=data_dir)
    planned = engine.converge(absent, check_mode=True).actions
    assert planned == engine.converge(absent).actions
    # the last host of the lab: the lab goes too, and check mode says so
    absent = hostspec.build(name='h2', state='absent', data_dir=data_dir)
    planned = engine.converge(absent, check_mode=True).actions
    assert 'remove lab network namespace nsfd-lab (no host is cabled to it any more)' in planned
    assert planned == engine.converge(absent).actions
