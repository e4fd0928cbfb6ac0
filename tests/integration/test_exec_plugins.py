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


HOST_TYPES = ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup']


def _bind(source, pin):
    subprocess.run(['umount', pin], capture_output=True, check=False)  # an earlier pin of that name
    open(pin, 'a').close()
    return subprocess.run(['mount', '--bind', source, pin], capture_output=True, check=False).returncode == 0


def _pin_by_name(state, name, pid):
    """Pin a fleet host's namespaces as NAME in the per-type default directories, as namespace_host pins its hosts.

    Plain bind mounts stand in for the host module here. /run/mntns is a
    private bind of itself first: a mount namespace can only be pinned onto a
    mount that does not propagate. The kernel also refuses a mount namespace
    whose id is below the caller's, which since Linux 6.18 happens to one in
    a few created on the other CPU (docs/pin-engine.md): the host is then
    started again on each CPU in turn. Returns the host's pid.
    """
    for nstype in HOST_TYPES:
        os.makedirs('/run/%sns' % nstype, exist_ok=True)
    if subprocess.run(['findmnt', '--mountpoint', '/run/mntns'], capture_output=True, check=False).returncode != 0:
        subprocess.run(['mount', '--bind', '/run/mntns', '/run/mntns'], check=True)
        subprocess.run(['mount', '--make-private', '/run/mntns'], check=True)
    cpus = sorted(os.sched_getaffinity(0))
    for attempt in range(4 * len(cpus)):
        if _bind('/proc/%d/ns/mnt' % pid, '/run/mntns/%s' % name):
            break
        reboot = subprocess.run(['taskset', '-c', str(cpus[attempt % len(cpus)]), sys.executable, FLEET, 'reboot',
                                 state, name], capture_output=True, text=True, check=True)
        pid = json.loads(reboot.stdout)[name]
    else:
        raise AssertionError('cannot pin the mount namespace of host %s' % name)
    for nstype in HOST_TYPES[1:]:
        assert _bind('/proc/%d/ns/%s' % (pid, nstype), '/run/%sns/%s' % (nstype, name)), nstype
    return pid


def _ping(tmp_path, inventory, pattern='fleet'):
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '-i', inventory, pattern,
                           '-m', 'ping'], capture_output=True, text=True, env=playbook_env(tmp_path), timeout=120,
                          check=False)


def test_nsenter_connection_reaches_hosts_by_pinned_name(tmp_path):
    state, pids, inventory = _fleet(tmp_path, 'h1', 'h2')
    try:
        text = open(inventory).read()
        for name in ('h1', 'h2'):
            _pin_by_name(state, name, pids[name])
        # both spellings: a bare name and name:NAME
        text = text.replace('"pid:%d"' % pids['h1'], 'h1').replace('"pid:%d"' % pids['h2'], '"name:h2"')
        with open(inventory, 'w') as handle:
            handle.write(text)
        _playbook(tmp_path, 'connection_nsenter.yml', inventory=inventory)
        assert (tmp_path / 'fetched' / 'h1' / 'run' / 'only-here' / 'greeting').read_text() == 'hello h1\n'
        assert not os.path.exists('/run/only-here'), 'the files went to the targets, not the controller'
    finally:
        subprocess.run([sys.executable, FLEET, 'down', state], check=False)


def test_nsenter_connection_finds_a_restarted_host_by_name_and_names_a_dead_one(tmp_path):
    state, pids, inventory = _fleet(tmp_path, 'h1')
    try:
        with open(inventory) as handle:
            text = handle.read().replace('"pid:%d"' % pids['h1'], 'h1')
        _pin_by_name(state, 'h1', pids['h1'])
        with open(inventory, 'w') as handle:
            handle.write(text)
        assert _ping(tmp_path, inventory).returncode == 0
        new = json.loads(subprocess.run([sys.executable, FLEET, 'reboot', state, 'h1'], capture_output=True,
                                        text=True, check=True).stdout)['h1']
        # the pins still hold the old namespaces, whose init is gone: unreachable, and the message says why
        result = _ping(tmp_path, inventory)
        assert result.returncode != 0 and 'UNREACHABLE' in result.stdout
        assert 'host h1' in result.stdout and '/run/pidns/h1' in result.stdout and 'init is gone' in result.stdout
        # pins that follow the new init (what namespace_host does on a reboot): the same name reaches it
        _pin_by_name(state, 'h1', new)
        result = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '-i', inventory, 'fleet',
                                 '-m', 'ansible.builtin.command', '-a', 'cat /proc/1/cmdline'], capture_output=True,
                                text=True, env=playbook_env(tmp_path), timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        subprocess.run([sys.executable, FLEET, 'down', state], check=False)


def test_nsenter_connection_refuses_a_missing_or_bad_name(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text('fleet:\n  hosts:\n    nowhere: {}\n    bad: {ansible_host: "name:a/b"}\n'
                         '  vars:\n    ansible_connection: nsfd.namespaces.nsenter\n')
    result = _ping(tmp_path, str(inventory))
    assert result.returncode != 0
    assert 'host nowhere' in result.stdout and '/run/mntns/nowhere' in result.stdout
    assert "'a/b'" in result.stdout + result.stderr
