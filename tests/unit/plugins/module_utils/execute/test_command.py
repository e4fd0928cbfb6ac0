"""command: namespace_exec's runner resolves pins (never creating one) and
runs a command inside them, returning rc and output like ansible.builtin.command."""

import os

import pytest

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.execute import command


def _run(target, argv, **kwargs):
    try:
        return command.run(target, argv, **kwargs)
    finally:
        target.close()


def test_a_command_runs_in_the_named_network_namespace():
    sh('ip', 'netns', 'add', 'blue')
    target = command.resolve(namespace='blue')
    assert target.label == 'blue'
    result = _run(target, ['sh', '-c', 'readlink /proc/self/ns/net; echo err >&2; exit 3'])
    ino = os.stat('/run/netns/blue').st_ino
    assert result['rc'] == 3
    assert result['stdout'] == f'net:[{ino}]' and result['stdout_lines'] == [f'net:[{ino}]']
    assert result['stderr'] == 'err'
    assert result['entered'] == [{'type': 'net', 'path': '/run/netns/blue', 'inode': ino}]
    assert result['cmd'][0] == 'sh' and result['delta'].startswith('0:00:')


def test_stdin_chdir_and_etc_files_like_ip_netns_exec(tmp_path):
    sh('ip', 'netns', 'add', 'blue')
    os.makedirs('/etc/netns/blue')
    with open('/etc/netns/blue/hosts', 'w') as handle:
        handle.write('10.0.0.1 inside\n')
    result = _run(
        command.resolve(namespace='blue'),
        ['sh', '-c', 'cat; pwd; cat /etc/hosts'],
        stdin='hello\n',
        chdir=str(tmp_path),
    )
    assert result['stdout_lines'] == ['hello', str(tmp_path), '10.0.0.1 inside']
    plain = _run(command.resolve(namespace='blue'), ['cat', '/etc/hosts'], etc_files=False)
    assert plain['stdout'] != '10.0.0.1 inside'


def test_pin_paths_of_several_types():
    for kind in ('uts', 'net'):
        open(f'/run/{kind}-pin', 'w').close()
    sh('unshare', '--uts=/run/uts-pin', '--net=/run/net-pin', 'hostname', 'inside')
    target = command.resolve(paths=['/run/uts-pin', '/run/net-pin'])
    assert sorted(target.fds) == ['net', 'uts']
    result = _run(target, ['sh', '-c', 'hostname; readlink /proc/self/ns/net'])
    assert result['stdout_lines'] == ['inside', f'net:[{os.stat("/run/net-pin").st_ino}]']


def test_a_pid_namespace_of_a_process():
    sh('ip', 'netns', 'add', 'blue')
    target = command.resolve(pid=os.getpid(), types=['net', 'uts'])
    result = _run(target, ['readlink', '/proc/self/ns/uts'])
    assert result['stdout'] == os.readlink('/proc/self/ns/uts')


def test_a_missing_command_is_rc_127_not_an_error():
    sh('ip', 'netns', 'add', 'blue')
    result = _run(command.resolve(namespace='blue'), ['/nonexistent/cmd'])
    assert result['rc'] == 127 and result['stderr'].startswith('/nonexistent/cmd: ')


def test_a_failed_chdir_is_an_error_naming_the_step():
    sh('ip', 'netns', 'add', 'blue')
    with pytest.raises(NamespaceError) as exc:
        _run(command.resolve(namespace='blue'), ['true'], chdir='/nonexistent')
    assert 'cannot enter blue: chdir /nonexistent failed' in str(exc.value) and exc.value.errno == 2


@pytest.mark.parametrize(
    'kwargs, words',
    [
        ({'namespace': 'missing'}, 'does not exist'),
        ({'namespace': 'blue', 'types': ['net', 'uts'], 'pin_dir': '/run/netns'}, 'exactly one type'),
        ({'paths': ['/run/netns']}, 'not a namespace pin'),
        ({'paths': ['/run/nothing']}, 'cannot open the pin'),
        ({'pid': 999999999}, 'cannot open the namespace of process'),
        ({}, 'give one of namespace, path or pid'),
    ],
)
def test_targets_are_checked_and_nothing_is_created(kwargs, words):
    sh('ip', 'netns', 'add', 'blue')
    before = sorted(os.listdir('/proc/self/fd'))
    with pytest.raises(NamespaceError) as exc:
        command.resolve(**kwargs)
    assert words in str(exc.value)
    assert sorted(os.listdir('/proc/self/fd')) == before
    assert sorted(os.listdir('/run/netns')) == ['blue']


def test_a_stale_pin_is_refused():
    sh('ip', 'netns', 'add', 'blue')
    sh('umount', '/run/netns/blue')
    with pytest.raises(NamespaceError) as exc:
        command.resolve(namespace='blue')
    assert 'is a stale pin' in str(exc.value)


def test_pinned_netns_names_lists_present_pins_only():
    for name in ('b', 'a'):
        sh('ip', 'netns', 'add', name)
    open('/run/netns/stale', 'w').close()
    assert command.pinned_netns_names() == ['a', 'b']
    assert command.pinned_netns_names('/nonexistent') == []
