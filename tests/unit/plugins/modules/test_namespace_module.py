import json
import os
import subprocess

from moduleharness import run_module

from ansible_collections.nsfd.namespaces.plugins.modules import namespace, namespace_info


def _ip_netns():
    return subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout.split()


def test_present_then_unchanged(capsys):
    first = run_module(namespace, {'name': 'blue'}, capsys)
    assert first['changed'] and first['_exit_code'] == 0
    assert first['pins'][0]['path'] == '/run/netns/blue'
    assert first['pins'][0]['inode'] == os.stat('/run/netns/blue').st_ino
    assert _ip_netns() == ['blue']
    second = run_module(namespace, {'name': 'blue'}, capsys)
    assert not second['changed'] and second['pins'] == first['pins']


def test_type_accepts_a_string_or_a_list(capsys):
    one = run_module(namespace, {'name': 'a', 'type': 'uts'}, capsys)
    assert [p['type'] for p in one['pins']] == ['uts']
    several = run_module(namespace, {'name': 'b', 'type': ['net', 'uts', 'ipc']}, capsys)
    assert [p['type'] for p in several['pins']] == ['uts', 'ipc', 'net']


def test_check_mode_and_diff(capsys):
    out = run_module(namespace, {'name': 'blue', 'type': ['net', 'uts']}, capsys, check_mode=True, diff=True)
    assert out['changed']
    assert out['diff']['before'] == {'net': {'state': 'absent'}, 'uts': {'state': 'absent'}}
    assert out['diff']['after']['net'] == {'state': 'present', 'path': '/run/netns/blue'}
    assert not os.path.exists('/run/netns') and not os.path.exists('/run/utsns')


def test_no_diff_key_without_diff_mode(capsys):
    out = run_module(namespace, {'name': 'blue'}, capsys)
    assert 'diff' not in out


def test_absent_returns_pids_remaining(capsys):
    run_module(namespace, {'name': 'gone'}, capsys)
    out = run_module(namespace, {'name': 'gone', 'state': 'absent'}, capsys)
    assert out['changed'] and out['pids_remaining'] == []
    again = run_module(namespace, {'name': 'gone', 'state': 'absent'}, capsys)
    assert not again['changed']


def test_bad_name_fails_and_touches_nothing(capsys):
    out = run_module(namespace, {'name': '../etc'}, capsys)
    assert out['failed'] and "must not contain '/'" in out['msg']
    assert not os.path.exists('/run/netns')


def test_failure_names_namespace_path_and_errno(capsys):
    os.makedirs('/run/netns/dir')
    out = run_module(namespace, {'name': 'dir'}, capsys)
    assert out['failed']
    assert "namespace 'dir'" in out['msg'] and '/run/netns/dir' in out['msg'] and 'is a directory' in out['msg']
    assert out['path'] == '/run/netns/dir'


def test_argument_spec_rejects_unknown_types_and_conflicts(capsys):
    out = run_module(namespace, {'name': 'x', 'type': ['net', 'nope']}, capsys)
    assert out['failed'] and 'nope' in out['msg']
    out = run_module(namespace, {'name': 'x', 'source_pid': 1, 'source_path': '/proc/1/ns/net'}, capsys)
    assert out['failed'] and 'mutually exclusive' in out['msg']
    out = run_module(namespace, {}, capsys)
    assert out['failed'] and 'name is required (or path)' in out['msg']
    out = run_module(namespace, {'name': 'x', 'state': 'absent', 'source_pid': 1}, capsys)
    assert out['failed'] and 'only apply to state=present' in out['msg']


def test_stale_pin_repair_is_a_warning(capsys):
    subprocess.run(['ip', 'netns', 'add', 'st'], check=True)
    subprocess.run(['umount', '/run/netns/st'], check=True)
    out = run_module(namespace, {'name': 'st'}, capsys)
    # ansible-core 2.19 structures warnings; older cores give strings
    assert out['changed'] and 'was stale' in json.dumps(out['warnings'])


def test_all_options_of_a_full_set(capsys):
    args = {
        'name': 'full',
        'type': ['net', 'uts', 'ipc', 'mnt', 'pid', 'user', 'cgroup', 'time'],
        'hostname': 'full',
        'domainname': 'lab',
        'uid_map': ['0 100000 65536'],
        'gid_map': [{'inside': 0, 'outside': 100000, 'count': 65536}],
        'time_offsets': {'monotonic': 3600, 'boottime': 60},
    }
    out = run_module(namespace, args, capsys)
    assert out['changed'] and len(out['pins']) == 8
    assert not run_module(namespace, args, capsys)['changed']
    info = run_module(namespace_info, {'names': ['full']}, capsys)
    assert sorted(e['type'] for e in info['namespaces']) == sorted(args['type'])
    absent = run_module(namespace, {'name': 'full', 'type': args['type'], 'state': 'absent'}, capsys)
    assert absent['changed'] and absent['pids_remaining'] == []
    assert run_module(namespace_info, {}, capsys)['namespaces'] == []


def test_info_filters_and_stays_read_only(capsys):
    before = os.listdir('/run')
    out = run_module(namespace_info, {'types': ['net'], 'names': ['nothing']}, capsys)
    assert out == {'changed': False, 'namespaces': [], 'orphan_holders': [], '_exit_code': 0}
    assert os.listdir('/run') == before
    run_module(namespace, {'name': 'n1'}, capsys)
    run_module(namespace, {'name': 'n1', 'type': 'uts'}, capsys)
    out = run_module(namespace_info, {'types': ['uts']}, capsys)
    assert [(e['name'], e['type']) for e in out['namespaces']] == [('n1', 'uts')]


def test_info_pin_dir_needs_one_type(capsys):
    out = run_module(namespace_info, {'pin_dir': '/srv/pins'}, capsys)
    assert out['failed'] and 'exactly one type' in out['msg']
