"""A host whose pyroute2 is older than the floor the tests measured
(netns_socket.PYROUTE2_FLOOR) fails the task naming its version, the floor
and the remedy, before anything is changed. The version is patched: this
checkout's virtualenv has a supported pyroute2, and the point is the path a
real old one takes (measured against real old releases, see
tests/test_pyroute2_floor.py)."""

import os
import subprocess

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import lab
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import netns_socket
from moduleharness import netns_config_run as converge

TENANT = [
    {
        'name': 'old',
        'links': [{'name': 'eth0', 'kind': 'veth', 'addresses': ['10.201.1.2/24'], 'peer': {'name': 'old-host'}}],
    }
]


def test_an_older_pyroute2_fails_naming_both_versions_and_the_remedy_with_nothing_changed(capsys, monkeypatch):
    monkeypatch.setattr(netns_socket, 'pyroute2_version', lambda: '0.5.19')
    out = converge(
        capsys,
        TENANT,
        record='/var/lib/nsfd-test/record.json',
        boot={'boot_dir': '/etc/nsfd-test-boot', 'unit_dir': '/etc/systemd/system'},
    )
    assert out['failed'] and out['_exit_code'] == 1, out
    msg = out['msg']
    assert 'pyroute2 0.5.19' in msg and netns_socket.PYROUTE2_FLOOR in msg, msg
    assert 'netns_install_requirements' in msg and 'pip install' in msg and 'nothing was changed' in msg, msg
    assert not os.path.exists('/run/netns/old')
    assert not os.path.exists('/var/lib/nsfd-test/record.json')
    assert not os.path.exists('/etc/nsfd-test-boot')
    assert not os.path.exists('/run/nsfd-netns-config.lock')
    links = subprocess.run(['ip', '-o', 'link'], capture_output=True, text=True, check=True).stdout
    assert 'old-host' not in links


def test_the_floor_itself_and_newer_ones_pass(monkeypatch):
    for version in (netns_socket.PYROUTE2_FLOOR, '0.9.7', '0.9.0rc1', '1.0'):
        assert netns_socket.pyroute2_too_old(version) is None, version
    assert netns_socket.pyroute2_too_old('0.5.19')
    # a version that cannot be told does not block: the kernel's errors still name what fails
    assert netns_socket.pyroute2_too_old('unknown') is None


def test_the_real_version_is_read_and_passes():
    found = netns_socket.pyroute2_version()
    assert found and netns_socket.pyroute2_too_old(found) is None, found


def test_a_lab_host_with_an_older_pyroute2_is_refused_before_anything_is_made(monkeypatch):
    monkeypatch.setattr(netns_socket, 'pyroute2_version', lambda: '0.5.19')
    with pytest.raises(NamespaceError) as raised:
        lab.need_pyroute2('h1')
    text = str(raised.value)
    assert '0.5.19' in text and netns_socket.PYROUTE2_FLOOR in text, text
