"""The netns_service drop-in (issue 14): every value that reaches it is
checked before anything is written, and systemd itself accepts what is
written (`systemd-analyze verify` reads the unit with its drop-in)."""

import os
import shutil
import subprocess

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import dropin, service
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

UNIT = 'nsfd-test-web.service'
SERVICE = '[Unit]\nDescription=test web\n[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n'


def _snapshot(root):
    seen = {}
    for top, dirs, names in os.walk(str(root)):
        for name in dirs + names:
            path = os.path.join(top, name)
            seen[path] = open(path).read() if os.path.isfile(path) else 'dir'
    return seen


def params(tmp_path, **extra):
    values = dict((key, spec.get('default')) for key, spec in service.OPTION_SPEC.items())
    values.update(unit=UNIT, namespace='blue', unit_dir=str(tmp_path / 'units'))
    values.update(extra)
    return values


@pytest.fixture
def units(tmp_path):
    (tmp_path / 'units').mkdir()
    (tmp_path / 'units' / UNIT).write_text(SERVICE)
    subprocess.run(['ip', 'netns', 'add', 'blue'], check=True)
    return tmp_path / 'units'


BAD = [
    ('unit', '../../etc/passwd.service'),
    ('unit', 'web'),
    ('unit', 'web.socket'),
    ('unit', 'we b.service'),
    ('unit', 'tmpl@.service'),
    ('unit', 'web%n.service'),
    ('unit', 'web.service\nExecStartPre=/bin/touch /tmp/pwned'),
    ('namespace', 'a/b'),
    ('namespace', '-blue'),
    ('namespace', '..'),
    ('namespace', 'bl%ue'),
    ('namespace', 'bl ue'),
    ('namespace', 'bl:ue'),
    ('namespace', 'blue\n[Service]'),
    ('pin_dir', 'run/netns'),
    ('pin_dir', '/run/net ns'),
    ('pin_dir', '/run/%n'),
    ('pin_dir', '/run/netns/../x'),
    ('pin_dir', '/'),
    ('etc_dir', '/etc/net:ns'),
    ('etc_dir', '/etc/netns$x'),
    ('unit_dir', 'units'),
    ('boot_unit', 'nsfd-netns.service\nExecStartPre=/bin/touch /tmp/pwned'),
    ('boot_unit', 'nsfd-netns'),
    ('boot_unit', '../x.service'),
    # a regex `$` matches before a trailing newline
    ('unit', 'web\n.service'),
    ('unit', 'web@x\n.service'),
    ('boot_unit', 'nsfd-netns\n.service'),
]


@pytest.mark.parametrize('state', ['present', 'absent'])
@pytest.mark.parametrize('option, value', BAD)
def test_hostile_values_fail_naming_option_and_value_and_touch_nothing(tmp_path, units, state, option, value):
    before = _snapshot(tmp_path)
    with pytest.raises(NamespaceError) as exc:
        service.apply(params(tmp_path, state=state, **{option: value}))
    message = str(exc.value)
    assert option in message and repr(value) in message and ('allowed' in message or 'must' in message), message
    assert _snapshot(tmp_path) == before


def test_an_etc_netns_entry_systemd_would_misread_is_refused_naming_it(tmp_path, units):
    os.makedirs('/etc/netns/blue')
    with open('/etc/netns/blue/resolv.conf', 'w') as handle:
        handle.write('nameserver 10.0.0.1\n')
    with open('/etc/netns/blue/a b:c', 'w') as handle:
        handle.write('x\n')
    before = _snapshot(tmp_path)
    with pytest.raises(NamespaceError) as exc:
        service.apply(params(tmp_path))
    assert "'a b:c'" in str(exc.value) and '/etc/netns/blue' in str(exc.value) and 'bind_etc' in str(exc.value)
    assert _snapshot(tmp_path) == before
    # without the binds there is nothing to misread
    assert service.apply(params(tmp_path, bind_etc=False))['etc_files'] == []


def test_render_binds_each_entry_like_ip_netns_exec(tmp_path):
    options = dropin.ServiceOptions(UNIT, 'blue', unit_dir=str(tmp_path), boot_unit='')
    text = dropin.render(options, ['hosts', 'resolv.conf'])
    assert '[Unit]' not in text and 'Requires=' not in text
    assert text.splitlines()[0] == dropin.HEADER
    assert 'NetworkNamespacePath=/run/netns/blue' in text.splitlines()
    assert [line for line in text.splitlines() if line.startswith('Bind')] == [
        'BindReadOnlyPaths=-/etc/netns/blue/hosts:/etc/hosts',
        'BindReadOnlyPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf',
    ]
    writable = dropin.render(dropin.ServiceOptions(UNIT, 'blue', writable_etc=True), ['resolv.conf'])
    assert 'BindPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in writable.splitlines()


@pytest.mark.skipif(not shutil.which('systemd-analyze'), reason='needs systemd-analyze')
def test_systemd_analyze_verify_accepts_the_unit_with_its_dropin(tmp_path, units):
    """The oracle is systemd: verify loads the unit from SYSTEMD_UNIT_PATH
    together with its drop-in directory and reports what it cannot parse.
    A broken copy of the drop-in shows that it is really read."""
    os.makedirs('/etc/netns/blue')
    with open('/etc/netns/blue/resolv.conf', 'w') as handle:
        handle.write('nameserver 10.0.0.1\n')
    (units / 'nsfd-netns.service').write_text('[Service]\nType=oneshot\nExecStart=/bin/true\n')
    result = service.apply(params(tmp_path))
    assert result['changed'] and result['etc_files'] == ['resolv.conf']
    env = dict(os.environ, SYSTEMD_UNIT_PATH=f'{units}:')

    def verify():
        return subprocess.run(
            ['systemd-analyze', 'verify', str(units / UNIT)], capture_output=True, text=True, env=env, check=False
        )

    good = verify()
    assert good.returncode == 0 and result['dropin'] not in good.stderr, good.stderr
    with open(result['dropin'], 'a') as handle:
        handle.write('NetworkNamespacePath=relative/blue\nBindReadOnlyPath=/x:/y\n')
    bad = verify()
    assert result['dropin'] in bad.stderr and 'BindReadOnlyPath' in bad.stderr, bad.stderr


def test_the_boot_unit_itself_is_refused_as_unit(tmp_path, units):
    """The boot unit creates the pin: inside the namespace it would need
    the pin before making it, and after a reboot nothing comes up. (state:
    absent may still remove such a drop-in.)"""
    (units / 'nsfd-netns.service').write_text('[Service]\nType=oneshot\nExecStart=/bin/true\n')
    before = _snapshot(tmp_path)
    with pytest.raises(NamespaceError) as exc:
        service.apply(params(tmp_path, unit='nsfd-netns.service'))
    message = str(exc.value)
    assert 'unit' in message and "'nsfd-netns.service'" in message and 'boot_unit' in message, message
    assert _snapshot(tmp_path) == before


def test_restart_without_daemon_reload_is_refused(tmp_path, units):
    """systemd restarts a service from the unit it has loaded: without the
    reload the restarted service stayed outside the namespace, and every
    later run restarted it again (changed each time)."""
    before = _snapshot(tmp_path)
    with pytest.raises(NamespaceError) as exc:
        service.apply(params(tmp_path, restart=True, daemon_reload=False))
    message = str(exc.value)
    assert 'restart' in message and 'daemon_reload' in message and 'False' in message, message
    assert _snapshot(tmp_path) == before


def test_an_etc_netns_entry_ending_in_a_newline_is_refused(tmp_path, units):
    """It was taken as a plain name and split the bind line in two."""
    os.makedirs('/etc/netns/blue')
    open('/etc/netns/blue/hosts\n', 'w').close()
    before = _snapshot(tmp_path)
    with pytest.raises(NamespaceError) as exc:
        service.apply(params(tmp_path))
    assert "'hosts\\n'" in str(exc.value) and 'bind_etc' in str(exc.value), str(exc.value)
    assert _snapshot(tmp_path) == before
