"""A host on the cached stock Debian root tree (scripts/debian-root)."""

import os
import subprocess

import pytest

from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec as hostspec

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', '..'))
DEBIAN_ROOT = subprocess.run(
    [os.path.join(REPO, 'scripts', 'debian-root'), '--print-only'], capture_output=True, text=True, check=True
).stdout.strip()
HAVE_ROOT = os.path.isfile(os.path.join(DEBIAN_ROOT, '.complete'))


@pytest.fixture
def debian_root():
    if not HAVE_ROOT:
        if os.environ.get('CI'):
            pytest.fail(f'no cached Debian root at {DEBIAN_ROOT} under CI: run scripts/debian-root first')
        pytest.skip('no cached Debian root: run scripts/debian-root on the machine (it needs the Debian mirror)')
    return DEBIAN_ROOT


def enter(name, *argv):
    pins = {'net': 'netns', 'uts': 'utsns', 'ipc': 'ipcns', 'mount': 'mntns', 'pid': 'pidns', 'cgroup': 'cgroupns'}
    return sh('nsenter', *[f'--{option}=/run/{directory}/{name}' for option, directory in pins.items()], '--', *argv)


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


@pytest.fixture
def hostile_root(tmp_path, debian_root):
    """The Debian tree with absolute symlinks a tree may well have: etc/hostname
    to a file and var/shared to a directory that are the machine's too (here
    under the sandbox's own /run). Hard links: the copy costs no space, and
    neither the host nor this fixture writes into a linked file."""
    tree = tmp_path / 'tree'
    sh('cp', '-al', debian_root, str(tree))
    (tree / 'etc' / 'hostname').unlink()
    (tree / 'etc' / 'hostname').symlink_to('/run/machine-file')
    (tree / 'var' / 'shared').symlink_to('/run/elsewhere')
    return str(tree)


def test_a_root_tree_never_writes_through_its_symlinks_onto_the_machine(tmp_path, hostile_root):
    # issue 22: /etc/hostname and the shared paths' mount points were made before pivot_root
    with open('/run/machine-file', 'w') as handle:
        handle.write('precious\n')
    os.makedirs('/run/elsewhere')  # where the tree's var/shared leads on the machine
    os.makedirs('/var/shared/data')  # the machine's (the sandbox's copy-on-write /var)
    with open('/var/shared/data/README', 'w') as handle:
        handle.write('shared\n')
    data_dir = str(tmp_path / 'hosts')
    converge('deb1', data_dir, root=hostile_root, shared_paths=['/var/shared/data'])
    with open('/run/machine-file') as handle:
        assert handle.read() == 'precious\n', 'the host wrote through its tree\'s symlink onto the machine'
    assert os.listdir('/run/elsewhere') == [], 'a mount point was made through the tree\'s symlink'
    assert enter('deb1', 'cat', '/etc/hostname').stdout == 'deb1\n'
    assert enter('deb1', 'cat', '/var/shared/data/README').stdout == 'shared\n'
    converge('deb1', data_dir, state='absent')
    assert ip_netns_list() == []


def test_a_shared_path_the_root_tree_cannot_hold_fails_the_start(tmp_path, debian_root):
    tree = tmp_path / 'tree'
    sh('cp', '-al', debian_root, str(tree))
    (tree / 'var' / 'blocked').write_text('a file where the mount point would go\n')
    os.makedirs('/var/blocked/data')  # the machine's (the sandbox's copy-on-write /var)
    data_dir = str(tmp_path / 'hosts')
    with pytest.raises(NamespaceError, match='shared path /var/blocked/data: cannot make its mount point'):
        converge('deb1', data_dir, root=str(tree), shared_paths=['/var/blocked/data'])
    assert ip_netns_list() == [] and not os.path.exists(os.path.join(data_dir, 'deb1'))
