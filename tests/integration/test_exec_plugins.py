"""The become and connection plugins, end to end through ansible-playbook, in the sandbox."""

import json
import os
import subprocess
import sys

import pytest

from test_targets import REPO, playbook_env

PLAYBOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks')
FLEET = os.path.join(REPO, 'tests', 'fleet', 'fleet.py')


def _playbook(tmp_path, name, inventory='localhost,', extra=None, env_extra=None):
    env = playbook_env(tmp_path)
    env.update(env_extra or {})
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory,
            '-e', 'out_dir=%s' % tmp_path, os.path.join(PLAYBOOKS, name)]
    if inventory == 'localhost,':
        argv[3:3] = ['-c', 'local']
    result = subprocess.run(argv + (extra or []), capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, '%s failed:\n%s\n%s' % (name, result.stdout[-8000:], result.stderr[-3000:])
    return result


def test_become_netns_runs_modules_inside_the_namespace(tmp_path):
    _playbook(tmp_path, 'become_netns.yml')


def _fleet(tmp_path, *names):
    state = str(tmp_path / 'fleet')
    out = subprocess.run([sys.executable, FLEET, 'up', state] + list(names), capture_output=True, text=True,
                         check=True).stdout
    pids = json.loads(out)
    inventory = tmp_path / 'inventory.yml'
    lines = ['fleet:', '  hosts:']
    for index, name in enumerate(names, start=1):
        lines.append('    %s: {ansible_host: "pid:%d", lab_address: 10.77.0.%d}' % (name, pids[name], index))
    lines += ['  vars:', '    ansible_connection: nsfd.namespaces.nsenter',
              '    ansible_python_interpreter: %s' % sys.executable]
    inventory.write_text('\n'.join(lines) + '\n')
    return state, pids, str(inventory)


@pytest.mark.parametrize('pipelining', ['False', 'True'])
def test_nsenter_connection_runs_tasks_inside_the_target(tmp_path, pipelining):
    state, pids, inventory = _fleet(tmp_path, 'h1', 'h2')
    try:
        _playbook(tmp_path, 'connection_nsenter.yml', inventory=inventory,
                  env_extra={'ANSIBLE_PIPELINING': pipelining})
        assert (tmp_path / 'fetched' / 'h2' / 'run' / 'only-here' / 'greeting').read_text() == 'hello h2\n'
        assert not os.path.exists('/run/only-here'), 'the files went to the targets, not the controller'
    finally:
        subprocess.run([sys.executable, FLEET, 'down', state], check=False)


def test_nsenter_connection_reports_an_exited_target_unreachable(tmp_path):
    state, pids, inventory = _fleet(tmp_path, 'h1')
    subprocess.run([sys.executable, FLEET, 'down', state], check=True)
    env = playbook_env(tmp_path)
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '-i', inventory, 'fleet',
                             '-m', 'ping'], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode != 0
    assert 'UNREACHABLE' in result.stdout and 'process %d' % pids['h1'] in result.stdout
