"""A host on the cached stock Debian root tree (scripts/debian-root)."""

import os
import subprocess

import pytest

from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec as hostspec

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..'))
DEBIAN_ROOT = subprocess.run([os.path.join(REPO, 'scripts', 'debian-root'), '--print-only'], capture_output=True,
                             text=True, check=True).stdout.strip()
HAVE_ROOT = os.path.isfile(os.path.join(DEBIAN_ROOT, '.complete'))


@pytest.fixture
def debian_root():
    if not HAVE_ROOT:
        if os.environ.get('CI'):
            pytest.fail('no cached Debian root at %s under CI: run scripts/debian-root first' % DEBIAN_ROOT)
        pytest.skip('no cached Debian root: run scripts/debian-root on the machine (it needs the Debian mirror)')
    return DEBIAN_ROOT


def enter(name, *argv):
    pins = {'net': 'netns', 'uts': 'utsns', 'ipc': 'ipcns', 'mount': 'mntns', 'pid': 'pidns', 'cgroup': 'cgroupns'}
    return sh('nsenter', *['--%s=/run/%s/%s' % (option, directory, name) for option, directory in pins.items()],
              '--', *argv)


def converge(name, data_dir, **kwargs):
    return engine.converge(hostspec.build(name=name, data_dir=data_dir, **kwargs))


def test_debian_host_runs_on_its_own_root_keeps_it_across_a_reboot_and_leaves_nothing(tmp_path, debian_root):
    data_dir = str(tmp_path / 'hosts')
    lab = {'address': '10.77.0.11/24'}
    first = converge('deb1', data_dir, root=debian_root, lab=lab)
    assert first.changed and first.host['root'] == debian_root
    assert 'ID=debian' in enter('deb1', 'cat', '/etc/os-release').stdout
    assert enter('deb1', 'cat', '/etc/hostname').stdout.strip() == 'deb1'
    assert enter('deb1', '/usr/bin/python3', '-c', 'import socket; print(socket.gethostname())').stdout == 'deb1\n'
    assert enter('deb1', 'ls', '/mnt').stdout == '', 'the machine root is not reachable inside'
    enter('deb1', 'sh', '-c', 'echo kept > /root/mark; echo ok > /dev/null')
    assert not os.path.exists(os.path.join(debian_root, 'root', 'mark')), 'the tree itself is never written'
    assert not converge('deb1', data_dir, root=debian_root, lab=lab).changed
    again = converge('deb1', data_dir, root=debian_root, lab=lab, state='rebooted')
    assert again.host['pid'] != first.host['pid']
    assert enter('deb1', 'cat', '/root/mark').stdout == 'kept\n'
    sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.11')
    converge('deb1', data_dir, state='absent')
    assert ip_netns_list() == [] and not os.path.exists(os.path.join(data_dir, 'deb1'))
    assert data_dir not in sh('ps', '-e', '-o', 'args=').stdout
