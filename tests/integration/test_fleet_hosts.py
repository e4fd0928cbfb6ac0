"""Namespace hosts as molecule's platforms use them (nsfd.namespaces.namespace_host), seen from inside,
in the sandbox."""

import os
import time

import pytest

from nshosts import debian_root, inside, namespace_host, remove, start
from playbook import REPO

DEBIAN_ROOT = debian_root()

needs_debian_root = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DEBIAN_ROOT, '.complete')),
    reason='no cached Debian root: run scripts/debian-root on the machine (it needs the Debian mirror)',
)


def gone(pid, wait=5.0):
    """The process exited (a zombie its parent has not reaped yet counts)."""
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            with open(f'/proc/{pid}/stat') as handle:
                if handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


@needs_debian_root
def test_debian_host_runs_on_its_own_stock_root(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    start(tmp_path, ['deb1'], data_dir, root=DEBIAN_ROOT)
    start(tmp_path, ['plain'], data_dir, first=2)
    try:
        assert 'VERSION_CODENAME=bookworm' in inside('deb1', 'cat', '/etc/os-release').stdout
        assert inside('deb1', 'hostname').stdout.strip() == 'deb1'
        # its own Python, without pyroute2; the overlay host keeps the machine's root
        probe = inside('deb1', '/usr/bin/python3', '-c', 'import sys; print(sys.prefix)')
        assert probe.returncode == 0 and probe.stdout.strip() == '/usr'
        assert 'No module named' in inside('deb1', '/usr/bin/python3', '-c', 'import pyroute2').stderr
        assert inside('plain', 'test', '-e', os.path.join(REPO, 'README.md')).returncode == 0
        assert inside('deb1', 'test', '-e', os.path.join(REPO, 'README.md')).returncode != 0
        # a copy-on-write root with private /run and /tmp, and a working network
        mounts = dict(
            line.split() for line in inside('deb1', 'findmnt', '-n', '-o', 'TARGET,FSTYPE', '-l').stdout.splitlines()
        )
        assert (mounts['/'], mounts['/run'], mounts['/tmp'], mounts['/proc']) == ('overlay', 'tmpfs', 'tmpfs', 'proc')
        assert '10.77.0.1/24' in inside('deb1', 'ip', '-br', 'addr', 'show', 'eth0').stdout
        assert inside('plain', 'ping', '-c', '1', '-W', '3', '10.77.0.1').returncode == 0, 'deb1 answers on the lab'
        assert inside('deb1', 'ip', 'netns', 'add', 'blue').returncode == 0
        assert inside('deb1', 'ip', 'netns', 'list').stdout.split() == ['blue']
        assert inside('deb1', 'sh', '-c', 'echo x > /usr/local/written-here').returncode == 0
        assert not os.path.exists(os.path.join(DEBIAN_ROOT, 'usr', 'local', 'written-here')), 'the cache is untouched'
        assert not os.path.exists('/run/netns/blue')
    finally:
        remove(tmp_path, ['deb1', 'plain'], data_dir)


@needs_debian_root
def test_debian_host_keeps_its_root_across_a_reboot_and_absent_removes_it(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    pid = start(tmp_path, ['deb1'], data_dir, root=DEBIAN_ROOT)['deb1']['pid']
    assert inside('deb1', 'sh', '-c', 'echo kept > /etc/kept; ip netns add gone').returncode == 0
    new = start(tmp_path, ['deb1'], data_dir, root=DEBIAN_ROOT, state='rebooted')['deb1']['pid']
    assert new != pid and gone(pid)
    assert inside('deb1', 'cat', '/etc/kept').stdout == 'kept\n', 'found again by name, with its files'
    assert inside('deb1', 'ip', 'netns', 'list').stdout == '', '/run is fresh after a reboot'
    again = namespace_host(tmp_path, name='deb1', data_dir=data_dir, root=DEBIAN_ROOT, lab={'address': '10.77.0.1/24'})
    assert not again['changed'] and again['host']['pid'] == new, 'started is idempotent'
    remove(tmp_path, ['deb1'], data_dir)
    assert not os.path.exists(os.path.join(data_dir, 'deb1')), 'absent leaves nothing of the host'
    assert gone(new)
    assert not any(os.path.exists(f'/run/{t}ns/deb1') for t in ('net', 'uts', 'ipc', 'mnt', 'pid', 'cgroup'))


def test_a_bad_root_is_refused_before_anything_starts(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    result = namespace_host(
        tmp_path, name='h2', data_dir=data_dir, root=str(tmp_path / 'solaris'), lab={'address': '10.77.0.2/24'}
    )
    assert result.get('failed') and repr(str(tmp_path / 'solaris')) in result['msg'], result
    assert not os.path.exists(os.path.join(data_dir, 'h2'))
    assert not os.path.exists('/run/netns/nsfd-lab') and not os.path.exists('/run/netns/h2')


def test_absent_removes_only_its_own_data_dirs_hosts(tmp_path):
    # test sandboxes share the machine's pid namespace: removing one fleet's
    # hosts must not reach another fleet (another test's, another engineer's
    # molecule run) with the same lab
    mine, other = str(tmp_path / 'mine'), str(tmp_path / 'other')
    other_pid = start(tmp_path, ['o1'], other)['o1']['pid']
    try:
        mine_pid = namespace_host(tmp_path, name='m1', data_dir=mine, lab={'address': '10.77.0.2/24'})['host']['pid']
        remove(tmp_path, ['m1'], mine)
        assert gone(mine_pid)
        assert inside('o1', 'hostname').stdout.strip() == 'o1', 'the other fleet is untouched'
        assert not gone(other_pid, wait=0.1)
        assert os.path.exists('/run/netns/nsfd-lab'), 'the lab stays while o1 is cabled to it'
    finally:
        remove(tmp_path, ['o1'], other)
    assert not os.path.exists('/run/netns/nsfd-lab'), 'the lab goes with its last host'
