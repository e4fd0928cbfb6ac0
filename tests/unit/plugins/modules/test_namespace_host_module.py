"""namespace_host and namespace_host_info as Ansible runs them, against the real kernel."""

import os
import signal
import time

import pytest

from moduleharness import run_module
from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.modules import namespace_host, namespace_host_info


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


def test_info_lists_hosts_and_says_when_an_init_is_gone(capsys, data_dir):
    assert run_module(namespace_host_info, {'data_dir': data_dir}, capsys)['hosts'] == []
    for name in ('a1', 'b1'):
        run_module(namespace_host, {'name': name, 'data_dir': data_dir}, capsys)
    hosts = run_module(namespace_host_info, {'data_dir': data_dir}, capsys)['hosts']
    assert [h['name'] for h in hosts] == ['a1', 'b1'] and all(h['running'] for h in hosts)
    assert hosts[0]['pins']['net'] == '/run/netns/a1' and hosts[0]['address'] is None
    os.kill(hosts[0]['pid'], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        only = run_module(namespace_host_info, {'data_dir': data_dir, 'name': 'a1'}, capsys)['hosts']
        if not only[0]['running']:
            break
    assert [h['name'] for h in only] == ['a1'] and not only[0]['running']
    restarted = run_module(namespace_host, {'name': 'a1', 'data_dir': data_dir}, capsys)
    assert restarted['changed'] and restarted['host']['running']


def test_check_and_diff_mode(capsys, data_dir):
    args = {'name': 'web1', 'data_dir': data_dir}
    planned = run_module(namespace_host, args, capsys, check_mode=True, diff=True)
    assert planned['changed'] and planned['diff']['before'] == {} and planned['diff']['after']['name'] == 'web1'
    assert not os.path.exists(data_dir) and 'web1' not in ip_netns_list()
    run_module(namespace_host, args, capsys)
    planned = run_module(namespace_host, dict(args, state='absent'), capsys, check_mode=True, diff=True)
    assert planned['changed'] and planned['diff']['before']['running'] and 'web1' in ip_netns_list()


def test_bad_input_fails_the_task_naming_option_and_value(capsys, data_dir):
    out = run_module(namespace_host, {'name': 'web1', 'data_dir': data_dir, 'root': '/nonexistent'}, capsys)
    assert out['failed'] and "root '/nonexistent' is not a distribution root tree" in out['msg']
    out = run_module(namespace_host, {'name': 'web1', 'data_dir': data_dir, 'lab': {'name': 'nsfd-lab'}}, capsys)
    assert out['failed'] and 'address' in out['msg']
    assert not os.path.exists(data_dir)


@pytest.mark.parametrize(
    'name, expected', [('../x', "name '../x' must not contain '/'"), ('a b', "name 'a b' is not a valid hostname")]
)
def test_info_refuses_a_name_no_host_can_have(capsys, data_dir, name, expected):
    out = run_module(namespace_host_info, {'data_dir': data_dir, 'name': name}, capsys)
    assert out['failed'] and expected in out['msg'], out


def test_the_diff_under_drift_shows_what_changed(capsys, data_dir):
    from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import lab_end_name

    args = {'name': 'web1', 'data_dir': data_dir, 'lab': {'address': '10.77.0.1/24'}}
    run_module(namespace_host, args, capsys)

    def drifted(expected, check_mode):
        out = run_module(namespace_host, args, capsys, diff=True, check_mode=check_mode)
        before, after = out['diff']['before'], out['diff']['after']
        assert out['changed'] and sorted(k for k in after if before.get(k) != after[k]) == expected, out
        return before, after

    sh('nsenter', '--uts=/run/utsns/web1', 'hostname', 'evil')
    for check_mode in (True, False):
        before, after = drifted(['hostname'], check_mode)
        assert before['hostname'] == 'evil' and after['hostname'] == 'web1'
    sh('ip', '-n', 'nsfd-lab', 'link', 'del', lab_end_name('web1'))
    before, after = drifted(['address', 'interface'], False)
    assert before['address'] is None and after['address'] == '10.77.0.1/24'
    sh('ip', 'netns', 'delete', 'web1')
    before, after = drifted(['pins'], False)
    assert 'net' not in before['pins'] and after['pins']['net'] == '/run/netns/web1'


@pytest.mark.parametrize(
    'data_dir, expected',
    [
        ('/proc/self', "data_dir '/proc/self'"),
        ('/sys/fs/cgroup', "data_dir '/sys/fs/cgroup'"),
        ('/run/netns', "data_dir '/run/netns'"),
    ],
)
def test_a_data_dir_of_the_kernel_fails_the_task_with_nothing_changed(capsys, data_dir, expected):
    # issue 22: tracebacks, or cgroups left behind
    before = sorted(os.listdir('/sys/fs/cgroup'))
    out = run_module(namespace_host, {'name': 'h1', 'data_dir': data_dir}, capsys)
    assert out['_exit_code'] == 1 and out['failed'] and expected in out['msg'], out
    assert 'exception' not in out and sorted(os.listdir('/sys/fs/cgroup')) == before
    assert ip_netns_list() == []


def test_an_error_of_the_machine_fails_the_task_naming_host_path_and_errno(capsys, tmp_path):
    read_only = tmp_path / 'ro'
    read_only.mkdir()
    sh('mount', '-t', 'tmpfs', '-o', 'ro', 'tmpfs', str(read_only))  # in the test's own mount namespace
    out = run_module(namespace_host, {'name': 'h1', 'data_dir': str(read_only / 'hosts')}, capsys)
    assert out['_exit_code'] == 1 and out['errno'] == 'EROFS' and "'h1'" in out['msg'], out
    assert str(read_only / 'hosts') in out['msg'] and 'exception' not in out
