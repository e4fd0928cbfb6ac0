"""The become and connection plugins, end to end through ansible-playbook, in the sandbox."""

import os
import signal
import sys

import pytest

from nshosts import inside, remove, start
from playbook import ansible_playbook, run_tool

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks')


def _playbook(tmp_path, name, inventory='localhost,', extra=None, env_extra=None):
    result = ansible_playbook(
        tmp_path,
        os.path.join(PLAYBOOKS, name),
        '-e',
        f'out_dir={tmp_path}',
        *(extra or []),
        inventory=inventory,
        env=env_extra,
        timeout=600,
    )
    assert result.returncode == 0, f'{name} failed:\n{result.stdout[-8000:]}\n{result.stderr[-3000:]}'
    return result


def test_become_netns_runs_modules_inside_the_namespace(tmp_path):
    _playbook(tmp_path, 'become_netns.yml')


def _fleet(tmp_path, *names, **kwargs):
    """Namespace hosts, and an inventory that reaches them by pid (by_name: by their pinned names)."""
    data_dir = str(tmp_path / 'hosts')
    hosts = start(tmp_path, names, data_dir)
    inventory = tmp_path / 'inventory.yml'
    lines = ['fleet:', '  hosts:']
    for index, name in enumerate(names, start=1):
        target = kwargs.get('by_name', {}).get(name, f'"pid:{hosts[name]["pid"]}"')
        lines.append(f'    {name}: {{ansible_host: {target}, lab_address: 10.77.0.{index}}}')
    lines += [
        '  vars:',
        '    ansible_connection: nsfd.namespaces.nsenter',
        f'    ansible_python_interpreter: {sys.executable}',
    ]
    inventory.write_text('\n'.join(lines) + '\n')
    return data_dir, dict((name, host['pid']) for name, host in hosts.items()), str(inventory)


@pytest.mark.parametrize('pipelining', ['False', 'True'])
def test_nsenter_connection_runs_tasks_inside_the_target(tmp_path, pipelining):
    data_dir, pids, inventory = _fleet(tmp_path, 'h1', 'h2')
    try:
        _playbook(tmp_path, 'connection_nsenter.yml', inventory=inventory, env_extra={'ANSIBLE_PIPELINING': pipelining})
        assert (tmp_path / 'fetched' / 'h2' / 'run' / 'only-here' / 'greeting').read_text() == 'hello h2\n'
        assert not os.path.exists('/run/only-here'), 'the files went to the targets, not the controller'
    finally:
        remove(tmp_path, ['h1', 'h2'], data_dir)


def test_nsenter_connection_reports_an_exited_target_unreachable(tmp_path):
    data_dir, pids, inventory = _fleet(tmp_path, 'h1')
    remove(tmp_path, ['h1'], data_dir)
    result = _ping(tmp_path, inventory)
    assert result.returncode != 0
    assert 'UNREACHABLE' in result.stdout and f'process {pids["h1"]}' in result.stdout


def _ping(tmp_path, inventory, pattern='fleet'):
    return run_tool(tmp_path, 'ansible', '-i', inventory, pattern, '-m', 'ping', timeout=120)


def test_nsenter_connection_reaches_hosts_by_pinned_name(tmp_path):
    # both spellings: a bare name and name:NAME
    data_dir, pids, inventory = _fleet(tmp_path, 'h1', 'h2', by_name={'h1': 'h1', 'h2': '"name:h2"'})
    try:
        _playbook(tmp_path, 'connection_nsenter.yml', inventory=inventory)
        assert (tmp_path / 'fetched' / 'h1' / 'run' / 'only-here' / 'greeting').read_text() == 'hello h1\n'
        assert not os.path.exists('/run/only-here'), 'the files went to the targets, not the controller'
    finally:
        remove(tmp_path, ['h1', 'h2'], data_dir)


def test_nsenter_connection_names_a_dead_host_and_finds_it_again_when_started(tmp_path):
    data_dir, pids, inventory = _fleet(tmp_path, 'h1', by_name={'h1': 'h1'})
    try:
        assert _ping(tmp_path, inventory).returncode == 0
        os.kill(pids['h1'], signal.SIGKILL)
        # the pins still hold the namespaces, but the init is gone: unreachable, and the message says why
        result = _ping(tmp_path, inventory)
        assert result.returncode != 0 and 'UNREACHABLE' in result.stdout
        assert 'host h1' in result.stdout and '/run/pidns/h1' in result.stdout and 'init is gone' in result.stdout
        # started again (new init, pins that follow it): the same name reaches it
        new = start(tmp_path, ['h1'], data_dir)['h1']['pid']
        assert new != pids['h1']
        command = ('-m', 'ansible.builtin.command', '-a', 'cat /proc/1/cmdline')
        result = run_tool(tmp_path, 'ansible', '-i', inventory, 'fleet', *command, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert inside('h1', 'hostname').stdout.strip() == 'h1'
    finally:
        remove(tmp_path, ['h1'], data_dir)


def test_nsenter_connection_refuses_a_missing_or_bad_name(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(
        'fleet:\n  hosts:\n    nowhere: {}\n    bad: {ansible_host: "name:a/b"}\n'
        '  vars:\n    ansible_connection: nsfd.namespaces.nsenter\n'
    )
    result = _ping(tmp_path, str(inventory))
    assert result.returncode != 0
    assert 'host nowhere' in result.stdout and '/run/mntns/nowhere' in result.stdout
    assert "'a/b'" in result.stdout + result.stderr
