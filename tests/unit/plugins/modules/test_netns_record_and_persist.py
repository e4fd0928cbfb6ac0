"""netns_config's record/prune and the netns_persist module, run as Ansible
runs them; `ip netns` and the files on disk are the oracles."""

import json
import os
import subprocess

from moduleharness import run_module
from nsoracle import ip_netns_list

from ansible_collections.nsfd.namespaces.plugins.modules import netns_config, netns_persist


def test_prune_removes_only_what_the_record_holds(tmp_path, capsys):
    record = str(tmp_path / 'state' / 'managed.json')
    subprocess.run(['ip', 'netns', 'add', 'foreign'], check=True)
    first = run_module(
        netns_config, {'namespaces': [{'name': 'a'}, {'name': 'b'}], 'record': record, 'prune': True}, capsys
    )
    assert first['changed'] and first['record'] == {'path': record, 'managed': ['a', 'b'], 'pruned': []}
    with open(record) as handle:
        assert json.load(handle) == {'namespaces': ['a', 'b']}
    again = run_module(
        netns_config, {'namespaces': [{'name': 'a'}, {'name': 'b'}], 'record': record, 'prune': True}, capsys
    )
    assert not again['changed']
    # b is dropped from the list: kept (and still recorded) without prune ...
    kept = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'record': record}, capsys)
    assert not kept['changed'] and kept['record']['managed'] == ['a', 'b'] and ip_netns_list() == ['a', 'b', 'foreign']
    # ... check mode says what prune would do and does nothing ...
    would = run_module(
        netns_config, {'namespaces': [{'name': 'a'}], 'record': record, 'prune': True}, capsys, check_mode=True
    )
    assert would['changed'] and would['record']['pruned'] == ['b'] and ip_netns_list() == ['a', 'b', 'foreign']
    # ... and prune removes it, never the namespace it did not make
    pruned = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'record': record, 'prune': True}, capsys)
    assert pruned['changed'] and pruned['record'] == {'path': record, 'managed': ['a'], 'pruned': ['b']}
    assert ip_netns_list() == ['a', 'foreign']
    assert pruned['namespaces'][-1]['name'] == 'b' and pruned['namespaces'][-1]['changed']


def test_prune_needs_a_record_and_a_broken_record_changes_nothing(tmp_path, capsys):
    result = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'prune': True}, capsys)
    assert result['failed'] and 'record' in result['msg']
    broken = tmp_path / 'managed.json'
    broken.write_text('{"namespaces": "a"}')
    result = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'record': str(broken), 'prune': True}, capsys)
    assert result['failed'] and str(broken) in result['msg'] and ip_netns_list() == []


def _persist_args(tmp_path, **extra):
    link = {'name': 'eth0', 'kind': 'veth', 'addresses': ['10.3.0.2/24'], 'peer': {'name': 'blue-host'}}
    args = {
        'namespaces': [{'name': 'blue', 'links': [link]}],
        'boot_dir': str(tmp_path / 'boot'),
        'unit_dir': str(tmp_path / 'units'),
    }
    args.update(extra)
    return args


def test_persist_writes_enables_and_reports_honestly(tmp_path, capsys):
    check = run_module(netns_persist, _persist_args(tmp_path), capsys, check_mode=True, diff=True)
    assert check['changed'] and not os.path.exists(str(tmp_path / 'boot'))
    assert any('netns blue || fail' in d['after'] for d in check['diff'])
    real = run_module(netns_persist, _persist_args(tmp_path), capsys)
    assert real['changes'] == check['changes']
    assert real['unit'] == str(tmp_path / 'units' / 'nsfd-netns.service')
    assert os.readlink(str(tmp_path / 'units' / 'multi-user.target.wants' / 'nsfd-netns.service')) == real['unit']
    assert not run_module(netns_persist, _persist_args(tmp_path), capsys)['changed']
    gone = run_module(
        netns_persist,
        {'state': 'absent', 'boot_dir': str(tmp_path / 'boot'), 'unit_dir': str(tmp_path / 'units')},
        capsys,
    )
    assert gone['changed'] and not os.path.exists(str(tmp_path / 'boot')) and not os.path.exists(real['unit'])


def test_persist_rejects_bad_input_with_its_path_and_writes_nothing(tmp_path, capsys):
    args = _persist_args(tmp_path)
    args['namespaces'][0]['links'][0]['peer']['name'] = 'bad#name'
    result = run_module(netns_persist, args, capsys)
    assert result['failed'] and 'namespaces[0].links[0].peer.name' in result['msg']
    assert not os.path.exists(str(tmp_path / 'boot'))
    result = run_module(netns_persist, {'boot_dir': str(tmp_path / 'boot')}, capsys)
    assert result['failed'] and 'namespaces' in result['msg']


def _boot(tmp_path, **extra):
    boot = {'boot_dir': str(tmp_path / 'boot'), 'unit_dir': str(tmp_path / 'units')}
    boot.update(extra)
    return boot


def test_netns_config_writes_the_same_boot_files_as_netns_persist_in_one_call(tmp_path, capsys):
    declaration = _persist_args(tmp_path)['namespaces']
    first = run_module(netns_config, {'namespaces': declaration, 'boot': _boot(tmp_path)}, capsys)
    assert first['changed'] and first['boot']['changed'] and ip_netns_list() == ['blue']
    assert first['boot']['unit'] == str(tmp_path / 'units' / 'nsfd-netns.service')
    written = (tmp_path / 'boot' / 'namespaces.sh').read_text()
    # netns_persist, given the same declaration and places, finds nothing to do
    same = run_module(netns_persist, _persist_args(tmp_path), capsys)
    assert not same['changed'], same['changes']
    again = run_module(netns_config, {'namespaces': declaration, 'boot': _boot(tmp_path)}, capsys)
    assert not again['changed'] and not again['boot']['changed']
    assert 'netns blue || fail' in written and not (tmp_path / 'boot' / 'host.batch').exists()
    # boot: {state: absent} removes them and leaves the namespaces alone
    gone = run_module(netns_config, {'namespaces': declaration, 'boot': _boot(tmp_path, state='absent')}, capsys)
    assert gone['changed'] and gone['boot']['changed'] and not (tmp_path / 'boot').exists()
    assert not any(n['changed'] for n in gone['namespaces']) and ip_netns_list() == ['blue']


def test_netns_config_boot_name_problem_fails_before_any_namespace_is_touched(tmp_path, capsys):
    declaration = [{'name': 'ok'}, {'name': 'b#d'}]
    result = run_module(netns_config, {'namespaces': declaration, 'boot': _boot(tmp_path)}, capsys)
    assert result['failed'] and 'namespaces[1].name' in result['msg']
    assert ip_netns_list() == [] and not (tmp_path / 'boot').exists()
    checked = run_module(
        netns_config, {'namespaces': [{'name': 'ok'}], 'boot': _boot(tmp_path)}, capsys, check_mode=True
    )
    assert checked['changed'] and checked['boot']['changes'] and ip_netns_list() == []
    assert not (tmp_path / 'boot').exists() and not (tmp_path / 'units').exists()
