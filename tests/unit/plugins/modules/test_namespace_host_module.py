"""namespace_host and namespace_host_info as Ansible runs them, against the real kernel."""

import os

import pytest

from moduleharness import run_module
from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.modules import namespace_host


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path / 'hosts')


def test_started_then_unchanged_then_absent(capsys, data_dir):
    args = {'name': 'web1', 'data_dir': data_dir, 'lab': {'address': '10.77.0.1/24'}}
    first = run_module(namespace_host, args, capsys)
    assert first['_exit_code'] == 0 and first['changed'], first
    host = first['host']
    assert host['running'] and host['address'] == '10.77.0.1/24' and host['interface'] == 'eth0'
    assert sorted(ip_netns_list()) == ['nsfd-lab', 'web1']
    assert sh('nsenter', '--net=/run/netns/web1', '--uts=/run/utsns/web1', 'hostname').stdout.strip() == 'web1'
    second = run_module(namespace_host, args, capsys)
    assert not second['changed'] and second['host']['pid'] == host['pid'], second
    gone = run_module(namespace_host, dict(args, state='absent'), capsys)
    assert gone['changed'] and gone['host'] is None
    assert ip_netns_list() == []
    assert not os.path.exists(os.path.join(data_dir, 'web1'))
