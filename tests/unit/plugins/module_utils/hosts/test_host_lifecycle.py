"""Namespace hosts against the real kernel: start, rerun, reach, remove."""

import os
import time

import pytest

from nsoracle import ip_netns_list, lsns, proc_inode, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec as hostspec

TYPES = ('mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup')
PIN_DIRS = {'mnt': '/run/mntns', 'uts': '/run/utsns', 'ipc': '/run/ipcns', 'net': '/run/netns',
            'pid': '/run/pidns', 'cgroup': '/run/cgroupns'}


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
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def enter(name, *argv):
    return sh('nsenter', '--net=/run/netns/%s' % name, '--uts=/run/utsns/%s' % name, '--ipc=/run/ipcns/%s' % name,
              '--mount=/run/mntns/%s' % name, '--pid=/run/pidns/%s' % name, '--cgroup=/run/cgroupns/%s' % name,
              '--', *argv)


def test_start_pins_and_names_the_host_and_a_rerun_changes_nothing(data_dir):
    began = time.monotonic()
    result = up('h1', data_dir)
    took = time.monotonic() - began
    assert result.changed and result.host['running'], result.as_dict()
    pid = result.host['pid']
    assert took < 1.0, 'one host took %.3f s' % took
    assert sh('nsenter', '--net=/run/netns/h1', '--uts=/run/utsns/h1', 'hostname').stdout.strip() == 'h1'
    assert 'h1' in ip_netns_list()
    entry = lsns('pid')[proc_inode(pid, 'pid')]
    assert entry['pid'] == pid
    assert enter('h1', 'sh', '-c', 'echo $$').stdout.strip() != '1'
    assert enter('h1', 'cat', '/proc/1/cmdline').stdout.split('\0')[-4] == 'nsfd-namespace-host'
    for nstype in TYPES:
        assert result.host['pins'][nstype] == os.path.join(PIN_DIRS[nstype], 'h1')
        assert os.stat(result.host['pins'][nstype]).st_ino == proc_inode(pid, nstype)
    again = up('h1', data_dir)
    assert not again.changed, again.actions
    assert again.host['pid'] == pid


def test_private_run_tmp_and_copy_on_write_etc(data_dir):
    up('h1', data_dir)
    enter('h1', 'sh', '-c', 'echo inside > /etc/nsfd-host-test; touch /tmp/t /run/r')
    assert not os.path.exists('/etc/nsfd-host-test')
    assert not os.path.exists('/tmp/t') and not os.path.exists('/run/r')
    assert enter('h1', 'cat', '/etc/nsfd-host-test').stdout == 'inside\n'
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
    assert ip_netns_list() == []
    assert not engine.absent(hostspec.build(name='h1', state='absent', data_dir=data_dir)).changed
