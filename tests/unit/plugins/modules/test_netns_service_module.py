"""netns_service run as Ansible runs it (issue 14): the drop-in on disk,
honest changed, check and diff mode, state absent, and the refusals of what
cannot work, each before anything is written. systemd is not running in
the sandbox, so the unit files are read (the booted-host test covers a
running systemd)."""

import json
import os
import subprocess
import sys

from moduleharness import run_module

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import dropin
from ansible_collections.nsfd.namespaces.plugins.modules import netns_service

UNIT = 'nsfd-test-web.service'

# A stand-in for systemctl while "systemd runs" (/run/systemd/system in the
# sandbox's private /run): the unit's state in a JSON file, each call logged.
FAKE_SYSTEMCTL = rf'''#!{sys.executable}
import json, os, sys
path = os.environ['NSFD_FAKE_SYSTEMD']
with open(path) as handle:
    unit = json.load(handle)
argv = sys.argv[1:]
unit['calls'].append(' '.join(argv))
rc = 0
if argv[0] == 'show':
    wanted = [argv[i + 1] for i, arg in enumerate(argv) if arg == '-p']
    print('\n'.join('%s=%s' % (key, unit.get(key, '')) for key in wanted))
elif argv[0] in ('restart', 'try-restart'):
    rc = 1 if unit['fail_restart'] else 0
    unit['ActiveState'] = 'failed' if rc else 'active'
    if rc:
        sys.stderr.write('Job for %s failed.\n' % argv[1])
with open(path, 'w') as handle:
    json.dump(unit, handle)
sys.exit(rc)
'''


def _setup(tmp_path, unit_text='[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n', pin=True):
    units = tmp_path / 'units'
    units.mkdir()
    if unit_text is not None:
        (units / UNIT).write_text(unit_text)
    if pin:
        subprocess.run(['ip', 'netns', 'add', 'blue'], check=True)
    os.makedirs('/etc/netns/blue', exist_ok=True)
    with open('/etc/netns/blue/resolv.conf', 'w') as handle:
        handle.write('nameserver 10.200.1.1\n')
    return {'unit': UNIT, 'namespace': 'blue', 'unit_dir': str(units)}, units / (UNIT + '.d') / dropin.DROPIN


def test_present_writes_the_dropin_once_check_and_diff_mode_honest(tmp_path, capsys):
    args, path = _setup(tmp_path)
    would = run_module(netns_service, args, capsys, check_mode=True, diff=True)
    assert would['changed'] and not path.exists() and not path.parent.exists()
    assert would['diff']['before'] == '' and 'NetworkNamespacePath=/run/netns/blue' in would['diff']['after']
    done = run_module(netns_service, args, capsys, diff=True)
    assert done['changed'] and done['diff'] == would['diff'] and path.read_text() == done['diff']['after']
    assert done['unit_source'] == 'unit files' and not done['systemd_running'] and not done['daemon_reloaded']
    assert done['etc_files'] == ['resolv.conf'] and done['dropin'] == str(path)
    lines = path.read_text().splitlines()
    assert lines[0] == dropin.HEADER
    assert 'Requires=nsfd-netns.service' in lines and 'After=nsfd-netns.service' in lines
    assert 'BindReadOnlyPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in lines
    again = run_module(netns_service, args, capsys, diff=True)
    assert not again['changed'] and 'diff' not in again and again['changes'] == []


def test_a_file_added_to_etc_netns_later_is_bound_on_the_next_run(tmp_path, capsys):
    args, path = _setup(tmp_path)
    run_module(netns_service, args, capsys)
    with open('/etc/netns/blue/hosts', 'w') as handle:
        handle.write('10.200.1.1 gw\n')
    update = run_module(netns_service, dict(args, writable_etc=True), capsys, diff=True)
    assert update['changed'] and update['changes'] == [f'update {path}']
    assert 'BindReadOnlyPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in update['diff']['before']
    assert [line for line in path.read_text().splitlines() if line.startswith('Bind')] == [
        'BindPaths=-/etc/netns/blue/hosts:/etc/hosts',
        'BindPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf',
    ]
    no_boot = run_module(netns_service, dict(args, writable_etc=True, boot_unit=''), capsys)
    assert no_boot['changed'] and 'Requires=' not in path.read_text()


def test_absent_removes_only_its_own_dropin(tmp_path, capsys):
    args, path = _setup(tmp_path)
    run_module(netns_service, args, capsys)
    (path.parent / '10-admin.conf').write_text('[Service]\nNice=5\n')
    would = run_module(netns_service, dict(args, state='absent'), capsys, check_mode=True, diff=True)
    assert would['changed'] and path.exists() and would['diff']['after'] == ''
    gone = run_module(netns_service, dict(args, state='absent'), capsys)
    assert gone['changed'] and not path.exists() and (path.parent / '10-admin.conf').exists()
    assert not run_module(netns_service, dict(args, state='absent'), capsys)['changed']
    # a drop-in directory left empty goes too
    os.unlink(str(path.parent / '10-admin.conf'))
    run_module(netns_service, args, capsys)
    assert run_module(netns_service, dict(args, state='absent'), capsys)['changed'] and not path.parent.exists()


def test_a_foreign_dropin_of_the_same_name_is_never_overwritten_or_removed(tmp_path, capsys):
    args, path = _setup(tmp_path)
    path.parent.mkdir()
    path.write_text('[Service]\nNetworkNamespacePath=/run/netns/other\n')
    for state in ('present', 'absent'):
        failed = run_module(netns_service, dict(args, state=state), capsys)
        assert failed['failed'] and str(path) in failed['msg'] and 'not written by nsfd.namespaces' in failed['msg']
        assert "namespace 'blue'" in failed['msg'], failed['msg']
        assert path.read_text() == '[Service]\nNetworkNamespacePath=/run/netns/other\n'


def test_a_missing_or_stale_pin_is_refused_unless_not_required(tmp_path, capsys):
    args, path = _setup(tmp_path, pin=False)
    missing = run_module(netns_service, args, capsys)
    assert missing['failed'] and '/run/netns/blue does not exist' in missing['msg'] and 'require_pin' in missing['msg']
    assert not path.parent.exists()
    os.makedirs('/run/netns', exist_ok=True)
    open('/run/netns/blue', 'w').close()
    stale = run_module(netns_service, args, capsys)
    assert stale['failed'] and 'stale pin' in stale['msg'] and not path.parent.exists()
    later = run_module(netns_service, dict(args, require_pin=False), capsys)
    assert later['changed'] and path.exists()


def test_a_unit_that_does_not_exist_or_is_masked_is_refused(tmp_path, capsys):
    args, path = _setup(tmp_path, unit_text=None)
    missing = run_module(netns_service, args, capsys)
    assert missing['failed'] and "unit 'nsfd-test-web.service' does not exist" in missing['msg']
    assert 'systemd is not running' in missing['msg'] and not path.parent.exists()
    os.symlink('/dev/null', str(path.parent.parent / UNIT))
    masked = run_module(netns_service, args, capsys)
    assert masked['failed'] and 'is masked' in masked['msg'] and not path.parent.exists()


def test_private_network_is_refused_from_the_unit_or_a_dropin_and_a_later_reset_counts(tmp_path, capsys):
    args, path = _setup(tmp_path, unit_text='[Service]\nPrivateNetwork=yes\nExecStart=/bin/sleep infinity\n')
    refused = run_module(netns_service, args, capsys)
    assert refused['failed'] and 'PrivateNetwork=yes' in refused['msg'] and 'its unit files' in refused['msg']
    assert not path.parent.exists()
    # an admin's drop-in sorted later turns it off: then the service can join
    path.parent.mkdir()
    (path.parent / '90-admin.conf').write_text('[Service]\nPrivateNetwork=no\n')
    assert run_module(netns_service, args, capsys)['changed']
    (path.parent / '90-admin.conf').write_text('[Service]\nPrivateNetwork=on\n')
    again = run_module(netns_service, args, capsys)
    assert again['failed'] and 'PrivateNetwork=yes' in again['msg']


def test_an_instance_is_found_through_its_template(tmp_path, capsys):
    args, _path = _setup(tmp_path, unit_text=None)
    (tmp_path / 'units' / 'nsfd-vpn@.service').write_text('[Service]\nExecStart=/bin/sleep %i\n')
    result = run_module(netns_service, dict(args, unit='nsfd-vpn@work.service'), capsys)
    assert result['changed'] and os.path.exists(str(tmp_path / 'units' / 'nsfd-vpn@work.service.d' / dropin.DROPIN))


def test_private_network_in_every_spelling_systemd_takes_is_refused(tmp_path, capsys):
    """systemd's parse_boolean takes 1/yes/y/true/t/on in any case."""
    args, path = _setup(tmp_path, unit_text='[Service]\nExecStart=/bin/sleep infinity\n')
    for value in ('y', 'T', 'Yes', '1', 'ON'):
        (tmp_path / 'units' / UNIT).write_text(f'[Service]\nPrivateNetwork={value}\nExecStart=/bin/sleep infinity\n')
        refused = run_module(netns_service, args, capsys)
        assert refused.get('failed') and 'PrivateNetwork=yes' in refused['msg'], (value, refused)
        assert not path.parent.exists()


def test_an_empty_unit_file_is_masked_as_systemd_sees_it(tmp_path, capsys):
    """systemd.unit(5): a unit file of size 0 is masked like a /dev/null link."""
    args, path = _setup(tmp_path, unit_text='')
    masked = run_module(netns_service, args, capsys)
    assert masked.get('failed') and 'is masked' in masked['msg'], masked
    assert not path.parent.exists()


def test_a_later_dropin_that_sets_another_namespace_is_refused(tmp_path, capsys):
    """systemd applies drop-ins in name order: an admin's 90-*.conf with its
    own NetworkNamespacePath= wins over 50-nsfd-netns.conf, and the service
    would run outside blue while the module reported success."""
    args, path = _setup(tmp_path)
    path.parent.mkdir()
    admin = path.parent / '90-admin.conf'
    admin.write_text('[Service]\nNetworkNamespacePath=/run/netns/red\n')
    refused = run_module(netns_service, args, capsys)
    assert refused.get('failed') and str(admin) in refused['msg'] and '/run/netns/red' in refused['msg'], refused
    assert "'blue'" in refused['msg'] and not path.exists()
    # one sorted before ours is overridden by ours, and the same pin is no conflict
    admin.rename(path.parent / '10-admin.conf')
    assert run_module(netns_service, args, capsys)['changed']
    (path.parent / '90-same.conf').write_text('[Service]\nNetworkNamespacePath=/run/netns/blue\n')
    assert not run_module(netns_service, args, capsys)['changed']


def test_dash_prefix_dropins_are_read_in_every_directory_of_the_search_path(tmp_path, capsys):
    """Issue 22, systemd.unit(5): nsfd-test-web.service also reads
    nsfd-test-.service.d/ and nsfd-.service.d/, in each directory of the
    search path (here /etc/systemd/system, after unit_dir)."""
    args, path = _setup(tmp_path)
    prefix = tmp_path / 'units' / 'nsfd-test-.service.d'
    prefix.mkdir()
    (prefix / '90-admin.conf').write_text('[Service]\nNetworkNamespacePath=/run/netns/red\n')
    refused = run_module(netns_service, args, capsys)
    assert refused.get('failed') and str(prefix / '90-admin.conf') in refused['msg'], refused
    assert '/run/netns/red' in refused['msg'] and not path.exists()
    (prefix / '90-admin.conf').unlink()
    etc = '/etc/systemd/system/nsfd-.service.d'
    os.makedirs(etc, exist_ok=True)
    with open(os.path.join(etc, '60-sandbox.conf'), 'w') as handle:
        handle.write('[Service]\nPrivateNetwork=yes\n')
    refused = run_module(netns_service, args, capsys)
    assert refused.get('failed') and 'PrivateNetwork=yes' in refused['msg'], refused
    assert not path.exists()


def test_a_more_specific_dropin_hides_a_generic_one_of_the_same_name(tmp_path, capsys):
    """systemd: of drop-ins of the same name, the one in UNIT.d/ wins over
    a dash-prefix or type directory's (service.d/) in the same directory."""
    args, path = _setup(tmp_path)
    for generic in ('service.d', 'nsfd-.service.d'):
        folder = tmp_path / 'units' / generic
        folder.mkdir()
        (folder / '60-sandbox.conf').write_text('[Service]\nPrivateNetwork=yes\n')
    assert run_module(netns_service, args, capsys).get('failed')
    path.parent.mkdir()
    (path.parent / '60-sandbox.conf').write_text('[Service]\nPrivateNetwork=no\n')
    done = run_module(netns_service, args, capsys)
    assert done['changed'] and not done.get('failed'), done


def _fake_systemd(tmp_path, monkeypatch, **unit):
    """systemd "runs", and systemctl is FAKE_SYSTEMCTL; returns the state's
    reader and writer."""
    os.makedirs('/run/systemd/system', exist_ok=True)
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    (bindir / 'systemctl').write_text(FAKE_SYSTEMCTL)
    (bindir / 'systemctl').chmod(0o755)
    monkeypatch.setenv('PATH', f'{bindir}:{os.environ["PATH"]}')
    state = tmp_path / 'systemd.json'
    monkeypatch.setenv('NSFD_FAKE_SYSTEMD', str(state))

    def write(**changes):
        current = (
            json.loads(state.read_text()) if state.exists() else {'LoadState': 'loaded', 'MainPID': '0', 'calls': []}
        )
        current.update(changes)
        state.write_text(json.dumps(current))
        return current

    write(**unit)
    return lambda: json.loads(state.read_text()), write


def test_restart_starts_again_a_service_a_failed_restart_left_down(tmp_path, capsys, monkeypatch):
    """Issue 22: a restart that failed left the service failed, and the next
    run reported nothing to do. With restart: true, a failed service, or an
    enabled but inactive one, is started (systemd's own rule); a stopped one
    that is not enabled is left alone."""
    args, path = _setup(tmp_path)
    args['restart'] = True
    read, write = _fake_systemd(tmp_path, monkeypatch, ActiveState='active', UnitFileState='enabled', fail_restart=True)
    first = run_module(netns_service, args, capsys)
    assert first.get('failed') and f'systemctl restart {UNIT} failed' in first['msg'], first
    assert path.exists() and read()['ActiveState'] == 'failed'
    write(fail_restart=False, calls=[])
    again = run_module(netns_service, args, capsys)
    assert again['changed'] and again['restarted'], again
    assert again['changes'] == [f'systemctl restart {UNIT} (it has failed)']
    assert read()['ActiveState'] == 'active' and f'restart {UNIT}' in read()['calls']
    assert not run_module(netns_service, args, capsys)['changed']
    write(ActiveState='inactive', UnitFileState='disabled')
    assert not run_module(netns_service, args, capsys)['changed'], 'a service not enabled stays stopped'
    write(UnitFileState='enabled')
    started = run_module(netns_service, args, capsys, check_mode=True)
    assert started['changed'] and started['changes'] == [f'systemctl restart {UNIT} (it is enabled but inactive)']
    assert read()['ActiveState'] == 'inactive', 'check mode starts nothing'
    assert run_module(netns_service, args, capsys)['restarted'] and read()['ActiveState'] == 'active'
    assert not run_module(netns_service, dict(args, restart=False), capsys)['changed']
