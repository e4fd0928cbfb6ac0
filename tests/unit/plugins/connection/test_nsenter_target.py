"""The nsenter connection's targets: a pid or a pinned name, and what makes a pinned host unreachable."""

import os
import subprocess

import pytest

from ansible.errors import AnsibleError

from ansible_collections.nsfd.namespaces.plugins.connection.nsenter import parse_target, pinned_host


@pytest.mark.parametrize(
    'value, expected',
    [
        ('1234', ('pid', 1234)),
        ('pid:1234', ('pid', 1234)),
        (4343, ('pid', 4343)),
        ('web1', ('name', 'web1')),
        ('name:web1', ('name', 'web1')),
        ('db.lab-2', ('name', 'db.lab-2')),
    ],
)
def test_a_number_is_a_pid_anything_else_a_pinned_name(value, expected):
    assert parse_target(value) == expected


@pytest.mark.parametrize(
    'value, shown', [('pid:0', "'pid:0'"), ('pid:x', "'pid:x'"), ('name:a/b', "'a/b'"), ('name:..', "'..'")]
)
def test_bad_targets_are_refused_naming_the_value(value, shown):
    with pytest.raises(AnsibleError) as exc:
        parse_target(value)
    assert shown in str(exc.value) and 'ansible_host' in str(exc.value)


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(['unshare', '--uts', '--net', 'sleep', '60'])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _pin(source, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, 'a').close()
    subprocess.run(['mount', '--bind', source, path], check=True)


def test_a_pinned_host_is_entered_through_its_pins(sleeper):
    for nstype in ('uts', 'net'):
        _pin(f'/proc/{sleeper}/ns/{nstype}', f'/run/{nstype}ns/h1')
    assert pinned_host('h1', ['uts', 'net']) == ({'uts': '/run/utsns/h1', 'net': '/run/netns/h1'}, None)


def test_a_missing_pin_or_one_of_another_type_is_named(sleeper):
    _pin(f'/proc/{sleeper}/ns/uts', '/run/netns/h2')
    paths, problem = pinned_host('h2', ['net'])
    assert paths is None and problem == 'its net pin /run/netns/h2 is a uts namespace'
    paths, problem = pinned_host('h3', ['net'])
    assert paths is None and problem == 'its net pin /run/netns/h3 cannot be opened: No such file or directory'
    os.makedirs('/run/utsns', exist_ok=True)
    open('/run/utsns/h4', 'w').close()
    assert pinned_host('h4', ['uts'])[1] == 'its uts pin /run/utsns/h4 is not a namespace'
