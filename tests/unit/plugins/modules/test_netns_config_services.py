"""netns_config's `services` (one call converges the namespaces and places
their services, as the netns role runs it): the drop-in of each service
written once the namespace exists, honest check mode, the services recorded
and taken out again once no longer declared, and bad services refused before
anything is touched. systemd is not running in the sandbox, so the unit files
are read (tests/integration/test_booted_service.py runs a real systemd)."""

import json
import os

from moduleharness import netns_config_run
from nsoracle import ip_netns_list

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import dropin

WEB = 'nsfd-test-web.service'
DNS = 'nsfd-test-dns.service'


def _units(tmp_path, *names):
    units = tmp_path / 'units'
    units.mkdir(exist_ok=True)
    for name in names:
        (units / name).write_text('[Service]\nExecStart=/bin/sleep infinity\n')
    return {'state': 'present', 'unit_dir': str(units), 'boot_dir': str(tmp_path / 'boot')}, units


def _dropin(units, unit):
    return units / (unit + '.d') / dropin.DROPIN


def _recorded(record):
    with open(record) as handle:
        return json.load(handle).get('services', [])


def test_services_are_placed_after_their_namespace_is_made_and_a_rerun_changes_nothing(tmp_path, capsys):
    boot, units = _units(tmp_path, WEB, DNS)
    record = str(tmp_path / 'managed.json')
    declared = [
        {
            'name': 'blue',
            'files': {'resolv.conf': 'nameserver 10.0.0.1\n'},
            'services': [WEB, {'name': DNS, 'writable_etc': True}],
        }
    ]
    would = netns_config_run(capsys, declared, boot=boot, record=record, check_mode=True, diff=True)
    assert would['changed'] and not would.get('failed'), would
    assert ip_netns_list() == [] and not _dropin(units, WEB).exists() and not os.path.exists(record)
    assert [s['unit'] for s in would['services']] == [WEB, DNS]
    assert any(line.startswith(WEB + ': write ') for line in would['diff'][-1]['prepared'].splitlines())

    done = netns_config_run(capsys, declared, boot=boot, record=record)
    assert done['changed'] and not done.get('failed'), done
    assert ip_netns_list() == ['blue']
    web = _dropin(units, WEB).read_text().splitlines()
    assert 'NetworkNamespacePath=/run/netns/blue' in web and 'Requires=nsfd-netns.service' in web
    assert 'BindReadOnlyPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in web
    assert 'BindPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in _dropin(units, DNS).read_text().splitlines()
    assert [(s['name'], s['namespace'], s['writable_etc']) for s in _recorded(record)] == [
        (WEB, 'blue', False),
        (DNS, 'blue', True),
    ]

    again = netns_config_run(capsys, declared, boot=boot, record=record)
    assert not again['changed'] and all(not s['changed'] for s in again['services']), again


def test_a_service_no_longer_declared_is_taken_out_and_others_drop_ins_are_kept(tmp_path, capsys):
    boot, units = _units(tmp_path, WEB, DNS)
    record = str(tmp_path / 'managed.json')
    netns_config_run(capsys, [{'name': 'blue', 'services': [WEB, DNS]}], boot=boot, record=record)
    admins = units / 'other.service.d' / dropin.DROPIN
    admins.parent.mkdir()
    admins.write_text('[Service]\nNice=1\n')
    out = netns_config_run(capsys, [{'name': 'blue', 'services': [DNS]}], boot=boot, record=record)
    assert out['changed'] and not _dropin(units, WEB).exists() and _dropin(units, DNS).exists()
    assert [(s['unit'], s['state'], s['changed']) for s in out['services']] == [
        (DNS, 'present', False),
        (WEB, 'absent', True),
    ]
    assert [s['name'] for s in _recorded(record)] == [DNS]
    gone = netns_config_run(capsys, [{'name': 'blue'}], boot=boot, record=record)
    assert gone['changed'] and not _dropin(units, DNS).exists() and admins.exists() and _recorded(record) == []
    assert not netns_config_run(capsys, [{'name': 'blue'}], boot=boot, record=record)['changed']


def test_a_missing_unit_fails_naming_it_after_the_namespaces_and_stays_recorded(tmp_path, capsys):
    boot, units = _units(tmp_path, WEB)
    record = str(tmp_path / 'managed.json')
    out = netns_config_run(capsys, [{'name': 'blue', 'services': [WEB, DNS]}], boot=boot, record=record)
    assert out['failed'] and DNS in out['msg'] and 'does not exist' in out['msg'] and 'blue' in out['msg'], out
    assert ip_netns_list() == ['blue'] and _dropin(units, WEB).exists()
    assert [s['name'] for s in _recorded(record)] == [WEB, DNS]
    # no longer declared: what the failed run placed is still taken out
    netns_config_run(capsys, [{'name': 'blue'}], boot=boot, record=record)
    assert not _dropin(units, WEB).exists() and _recorded(record) == []


def test_services_of_a_namespace_without_record_or_boot_files(tmp_path, capsys):
    os.makedirs('/etc/systemd/system', exist_ok=True)  # the sandbox's copy-on-write /etc
    with open('/etc/systemd/system/' + WEB, 'w') as handle:
        handle.write('[Service]\nExecStart=/bin/sleep infinity\n')
    out = netns_config_run(capsys, [{'name': 'blue', 'services': [WEB]}])
    assert out['changed'] and not out.get('failed'), out
    lines = open(f'/etc/systemd/system/{WEB}.d/{dropin.DROPIN}').read().splitlines()
    assert 'NetworkNamespacePath=/run/netns/blue' in lines and not any(lk.startswith('Requires=') for lk in lines)


def test_bad_services_are_refused_before_anything_is_touched(tmp_path, capsys):
    boot, units = _units(tmp_path, WEB)
    cases = [
        ([{'name': 'blue', 'services': 'web.service'}], 'must be a list of services, not "web.service"'),
        ([{'name': 'blue', 'services': [42]}], 'service 42 is neither a unit name nor a mapping'),
        ([{'name': 'blue', 'services': [{'name': WEB, 'bogus': 1}]}], '"bogus": 1'),
        ([{'name': 'blue', 'services': [{'name': WEB, 'restart': 'yes'}]}], 'must be a boolean, not "yes"'),
        ([{'name': 'blue', 'services': [WEB]}, {'name': 'red', 'services': [WEB]}], "declared in 'blue' and in 'red'"),
        ([{'name': 'blue', 'services': ['../../etc/passwd']}], 'namespaces[0].services[0]'),
        ([{'name': 'blue', 'services': ['web.service\nExecStart=/bin/evil']}], 'namespaces[0].services[0]'),
        ([{'name': 'blue', 'services': ['nsfd-netns.service']}], 'is the boot unit'),
    ]
    for declared, words in cases:
        out = netns_config_run(capsys, declared, boot=boot, record=str(tmp_path / 'managed.json'))
        assert out['failed'] and words in out['msg'] and "'blue'" in out['msg'], (words, out['msg'])
    assert ip_netns_list() == [] and not os.path.exists(tmp_path / 'managed.json') and not (tmp_path / 'boot').exists()
    assert sorted(os.listdir(units)) == [WEB]
