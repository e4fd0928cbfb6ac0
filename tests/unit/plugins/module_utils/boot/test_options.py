"""Hostile boot options (issue 11): every value that reaches a path, the
systemd unit or the boot script is checked against what that consumer
accepts, before anything is written or removed, in both states."""

import os
import shutil
import subprocess

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import files as boot_files
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import options as boot_options
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import persist
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

DECLARATION = [{'name': 'blue', 'links': [{'name': 'd0', 'kind': 'dummy'}]}]


def _params(tmp_path, **extra):
    params = dict((key, spec.get('default')) for key, spec in persist.OPTION_SPEC.items())
    params.update(boot_dir=str(tmp_path / 'boot'), unit_dir=str(tmp_path / 'units'))
    params.update(extra)
    return params


def _snapshot(root):
    """Every path under root with its content (links: their target)."""
    seen = {}
    for top, dirs, names in os.walk(str(root)):
        for name in dirs + names:
            path = os.path.join(top, name)
            if os.path.islink(path):
                seen[path] = 'link:' + os.readlink(path)
            elif os.path.isfile(path):
                with open(path) as handle:
                    seen[path] = handle.read()
            else:
                seen[path] = 'dir'
    return seen


BAD = [
    ('unit_name', lambda t: str(t / 'precious.conf')),
    ('unit_name', lambda t: '../../keepme'),
    ('unit_name', lambda t: '../keepme.service'),
    ('unit_name', lambda t: 'nsfd-netns'),
    ('unit_name', lambda t: 'nsfd-netns.timer'),
    ('unit_name', lambda t: 'nsfd netns.service'),
    ('unit_name', lambda t: 'nsfd%i.service'),
    ('unit_name', lambda t: '@x.service'),
    ('unit_name', lambda t: 'tmpl@.service'),
    ('unit_name', lambda t: '.service'),
    ('unit_name', lambda t: 'a' * 248 + '.service'),
    ('unit_name', lambda t: ''),
    ('wanted_by', lambda t: ['multi-user.target\nExecStartPre=/bin/touch /tmp/pwned']),
    ('wanted_by', lambda t: ['../../../keep.target']),
    ('wanted_by', lambda t: ['multi-user.target', 'a/b.target']),
    ('wanted_by', lambda t: ['multi-user']),
    ('wanted_by', lambda t: ['multi-user.target\t']),
    ('boot_dir', lambda t: 'relative/boot'),
    ('boot_dir', lambda t: str(t / 'boot') + '/../../elsewhere'),
    ('boot_dir', lambda t: str(t / 'bo%ot')),
    ('boot_dir', lambda t: str(t / 'bo ot')),
    ('boot_dir', lambda t: str(t / 'bo"ot')),
    ('boot_dir', lambda t: str(t / 'bo\\ot')),
    ('boot_dir', lambda t: str(t / 'bo$ot')),
    ('boot_dir', lambda t: str(t / 'bo\not')),
    ('boot_dir', lambda t: '/'),
    ('unit_dir', lambda t: 'units'),
    ('unit_dir', lambda t: str(t / 'u') + '/./x'),
    ('unit_dir', lambda t: str(t / 'u\x07')),
    ('ip_command', lambda t: 'ip'),
    ('ip_command', lambda t: '/usr/sbin/ip\nrm -rf /'),
    ('sysctl_command', lambda t: 'sysctl'),
    ('sysctl_command', lambda t: '//usr/sbin/sysctl'),
]


@pytest.mark.parametrize('state', ['present', 'absent'])
@pytest.mark.parametrize('option, value', BAD)
def test_hostile_boot_options_fail_naming_option_and_value_and_touch_nothing(tmp_path, state, option, value):
    # a complete, enabled set of boot files and a precious file next to them
    persist.apply(DECLARATION, _params(tmp_path))
    (tmp_path / 'keepme').write_text('precious\n')
    (tmp_path / 'precious.conf').write_text('precious\n')
    before = _snapshot(tmp_path)
    bad = value(tmp_path)
    with pytest.raises(NamespaceError) as caught:
        persist.apply(DECLARATION, _params(tmp_path, state=state, **{option: bad}))
    message = str(caught.value)
    entries = bad if isinstance(bad, list) else [bad]
    assert option in message and any(repr(entry) in message for entry in entries), message
    assert 'Nothing was changed' in message
    assert _snapshot(tmp_path) == before


def test_unit_names_systemd_accepts_are_accepted(tmp_path):
    for name in (
        'a.service',
        'nsfd-netns_2:x.service',
        'svc@inst.service',
        'dev\\x2dnet.service',
        'a' * 247 + '.service',
    ):
        options = boot_files.BootOptions(
            unit_dir=str(tmp_path), unit_name=name, wanted_by=['multi-user.target', 'x@y.service', 'foo\\x2dbar.target']
        )
        assert options.unit_path == os.path.join(str(tmp_path), name)


def test_foreign_files_are_neither_overwritten_nor_removed(tmp_path):
    """A unit of the same name that this collection did not write (say, a
    package's) is refused in both states, with nothing changed."""
    units = tmp_path / 'units'
    units.mkdir()
    (units / 'ssh.service').write_text('[Service]\nExecStart=/usr/sbin/sshd -D\n')
    before = _snapshot(tmp_path)
    for state in ('present', 'absent'):
        with pytest.raises(NamespaceError) as caught:
            persist.apply(DECLARATION, _params(tmp_path, state=state, unit_name='ssh.service'))
        assert str(units / 'ssh.service') in str(caught.value)
        assert _snapshot(tmp_path) == before


def test_netns_config_boot_option_refuses_the_same_values_before_any_namespace_exists(tmp_path, capsys):
    """One implementation: netns_config's `boot` fails like netns_persist,
    before a namespace is created or a file written."""
    from moduleharness import run_module
    from nsoracle import ip_netns_list
    from ansible_collections.nsfd.namespaces.plugins.modules import netns_config, netns_persist

    (tmp_path / 'keepme').write_text('precious\n')
    before = _snapshot(tmp_path)
    boot = {
        'boot_dir': str(tmp_path / 'boot'),
        'unit_dir': str(tmp_path / 'units'),
        'unit_name': '../keepme',
        'state': 'absent',
    }
    result = run_module(netns_config, {'namespaces': DECLARATION, 'boot': boot}, capsys)
    assert result['failed'] and "unit_name: '../keepme'" in result['msg'], result
    assert ip_netns_list() == [] and _snapshot(tmp_path) == before
    boot.update(state='present', unit_name='nsfd-netns.service', wanted_by=['multi-user.target\nExecStartPre=/x'])
    result = run_module(netns_config, {'namespaces': DECLARATION, 'boot': boot}, capsys)
    assert result['failed'] and 'wanted_by[0]' in result['msg'], result
    assert ip_netns_list() == [] and _snapshot(tmp_path) == before
    result = run_module(netns_persist, dict(boot, namespaces=DECLARATION), capsys)
    assert result['failed'] and 'wanted_by[0]' in result['msg'], result
    assert _snapshot(tmp_path) == before


@pytest.mark.skipif(not (shutil.which('systemctl') and shutil.which('systemd-analyze')), reason='needs systemd tools')
def test_every_accepted_odd_value_means_the_same_to_systemd(tmp_path):
    """The oracle is systemd itself: `systemctl --root enable` reads the
    unit's [Install] WantedBy= and makes exactly the links we make, and
    `systemd-analyze verify` accepts the unit whose ExecStart names a
    boot_dir with every extra character allowed there."""
    ours, theirs = tmp_path / 'ours', tmp_path / 'theirs'
    unit_name = 'nsfd\\x2dnetns@blue:1.service'
    options = boot_files.BootOptions(
        boot_dir=str(tmp_path / 'b+o@o:t,-_.x'),
        unit_dir=str(ours / 'etc/systemd/system'),
        unit_name=unit_name,
        wanted_by=['multi-user.target', 'foo\\x2dbar.target', 'x@y.service'],
    )
    persist.apply(
        DECLARATION,
        dict(
            _params(tmp_path),
            boot_dir=options.boot_dir,
            unit_dir=options.unit_dir,
            unit_name=options.unit_name,
            wanted_by=options.wanted_by,
        ),
    )
    (theirs / 'etc/systemd/system').mkdir(parents=True)
    with open(options.unit_path) as handle:
        (theirs / 'etc/systemd/system' / unit_name).write_text(handle.read())
    subprocess.run(['systemctl', '--root', str(theirs), 'enable', unit_name], check=True, capture_output=True)

    def links(root):
        return sorted(
            (os.path.relpath(path, str(root)), target.replace(str(root), ''))
            for path, target in _snapshot(root).items()
            if target.startswith('link:')
        )

    assert links(ours) == links(theirs) and len(links(ours)) == 3
    # verify cannot load an instance's own unit file ("Couldn't process aliases"): a plain copy
    plain = tmp_path / 'verify' / 'nsfd-netns.service'
    plain.parent.mkdir()
    plain.write_text((theirs / 'etc/systemd/system' / unit_name).read_text())
    verify = subprocess.run(['systemd-analyze', 'verify', str(plain)], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stderr


@pytest.mark.parametrize(
    'option, make',
    [
        ('ip_command', lambda t: str(t / 'nowhere' / 'ip')),
        ('sysctl_command', lambda t: str(t / 'nowhere' / 'sysctl')),
        ('ip_command', lambda t: str(t / 'not-executable')),
        ('sysctl_command', lambda t: str(t.resolve())),  # a directory
    ],
)
def test_configured_programs_that_are_not_on_the_host_fail_before_anything_is_written(tmp_path, option, make):
    """Issue 22: a boot unit whose ip or sysctl is missing would fail at
    boot; writing the files fails instead, naming the option and path."""
    (tmp_path / 'not-executable').write_text('#!/bin/sh\n')
    before = _snapshot(tmp_path)
    path = make(tmp_path)
    for check_mode in (True, False):
        with pytest.raises(NamespaceError) as caught:
            persist.apply(DECLARATION, _params(tmp_path, **{option: path}), check_mode=check_mode)
        message = str(caught.value)
        assert f'{option}: {path!r}' in message and 'Nothing was changed' in message, message
        assert _snapshot(tmp_path) == before
    # removing the files needs no program
    persist.apply(DECLARATION, _params(tmp_path, state='absent', **{option: path}))


def test_unset_programs_are_found_in_the_boot_path_and_bridge_beside_a_configured_ip(tmp_path):
    """Unset, the script looks ip and sysctl up as sh does; bridge comes from
    ip_command's directory only when it is there (Debian: /bin/ip, /sbin/bridge)."""
    from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import script
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate

    vxlan = {
        'name': 'vx0',
        'kind': 'vxlan',
        'vni': 5,
        'local': '10.0.0.1',
        'fdb': [{'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2'}],
    }
    fdb = validate([{'name': 'v', 'links': [vxlan]}])
    text = script.render(fdb, boot_files.BootOptions())
    assert 'PATH=/usr/sbin:/usr/bin:/sbin:/bin\n' in text and 'ip=$(tool ip)\n' in text
    assert 'sysctl=$(tool sysctl)\n' in text and 'bridge=$(tool bridge)\n' in text
    text = script.render(fdb, boot_files.BootOptions(ip_command='/bin/ip'))
    assert (
        "ip=/bin/ip\nsysctl=$(tool sysctl)\nbridge=/bin/bridge\n[ -x \"$bridge\" ] || bridge=$(tool bridge)\n" in text
    )


# boot/options.py itself: the checks each consumer relies on, and the programs the script runs


def test_boot_options_derive_the_unit_and_wants_paths():
    options = boot_options.BootOptions(
        boot_dir='/etc/b', unit_dir='/etc/u', unit_name='x@y.service', wanted_by=['multi-user.target']
    )
    assert options.unit_path == '/etc/u/x@y.service'
    assert options.boot_file('blue.sh') == '/etc/b/blue.sh'
    assert options.wants_links() == ['/etc/u/multi-user.target.wants/x@y.service']
    assert options.ip_command is None and boot_options.BootOptions(ip_command='').ip_command is None


@pytest.mark.parametrize(
    'check, value',
    [
        (lambda v: boot_options.check_unit_name('u', v, ('.service',)), 'tmpl@.service'),
        (lambda v: boot_options.check_unit_name('u', v, ('.service',)), 'ä.service'),
        (lambda v: boot_options.check_path('p', v), '/a/./b'),
        (lambda v: boot_options.check_path('p', v), '/a\nb'),
        (lambda v: boot_options.check_path('p', v, exec_safe=True), '/a%ib'),
        (lambda v: boot_options.check_directory('d', v), '/'),
        (lambda v: boot_options.BootOptions(wanted_by=v), 'multi-user.target'),
    ],
)
def test_option_checks_refuse_and_change_nothing(check, value):
    with pytest.raises(NamespaceError) as exc:
        check(value)
    assert 'is not allowed' in str(exc.value) and boot_options.NOTHING_CHANGED in str(exc.value)


def test_programs_are_found_in_the_boot_path_or_where_configured(tmp_path):
    assert boot_options.find_program('ip') == shutil.which('ip', path=boot_options.BOOT_PATH)
    assert boot_options.bridge_next_to('/bin/ip') == '/bin/bridge'
    boot_options.check_programs(boot_options.BootOptions(), bridge=shutil.which('bridge') is not None)
    plain = tmp_path / 'ip'
    plain.write_text('')
    for configured, words in ((str(plain), 'is not an executable file'), (str(tmp_path / 'no'), 'does not exist')):
        with pytest.raises(NamespaceError) as exc:
            boot_options.check_programs(boot_options.BootOptions(ip_command=configured))
        assert f"ip_command: {configured!r} {words}" in str(exc.value) and exc.value.path == configured


def test_a_program_missing_from_the_boot_path_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(boot_options, 'BOOT_PATH', '/nonexistent')
    with pytest.raises(NamespaceError) as exc:
        boot_options.check_programs(boot_options.BootOptions())
    assert 'ip_command is unset and no ip is in /nonexistent' in str(exc.value)
    # an ip of its own, with no bridge next to it
    ip_copy = str(tmp_path / 'ip')
    shutil.copy(shutil.which('ip'), ip_copy)
    boot_options.check_programs(boot_options.BootOptions(ip_command=ip_copy), sysctl=False)
    with pytest.raises(NamespaceError) as exc:
        boot_options.check_programs(boot_options.BootOptions(ip_command=ip_copy), sysctl=False, bridge=True)
    assert 'no bridge (iproute2)' in str(exc.value) and f"next to ip_command {ip_copy!r} nor in /nonexistent" in str(
        exc.value
    )
    shutil.copy(shutil.which('bridge'), str(tmp_path / 'bridge'))
    boot_options.check_programs(boot_options.BootOptions(ip_command=ip_copy), sysctl=False, bridge=True)
