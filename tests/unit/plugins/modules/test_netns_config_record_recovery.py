"""netns_config's record, host lock and prune under crashes and concurrent
runs: real module processes (killed with SIGKILL, or run two at once) in the
test's sandbox; `ip netns`, the record file and /etc/netns are the oracles."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from moduleharness import run_module
from nsoracle import ip_netns_list

from ansible_collections.nsfd.namespaces.plugins.modules import netns_config

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
COLLECTIONS = os.path.join(os.path.dirname(TESTS), '.cache', 'collections')

# Runs netns_config's main() in a process of its own, as Ansible would.
RUNNER = (
    'import json, sys\n'
    'from ansible.module_utils.testing import patch_module_args\n'
    'from ansible_collections.nsfd.namespaces.plugins.modules import netns_config\n'
    'with open(sys.argv[1]) as handle:\n'
    '    args = json.load(handle)\n'
    'with patch_module_args(args):\n'
    '    netns_config.main()\n'
)


def host_links():
    out = subprocess.run(['ip', '-j', 'link'], capture_output=True, text=True, check=True).stdout
    return sorted(link['ifname'] for link in json.loads(out) if link['ifname'] != 'lo')


def start(tmp_path, tag, args):
    argfile = tmp_path / (f'{tag}.json')
    argfile.write_text(json.dumps(args))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([COLLECTIONS, TESTS]))
    return subprocess.Popen(
        [sys.executable, '-c', RUNNER, str(argfile)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(proc, timeout=600):
    out, err = proc.communicate(timeout=timeout)
    assert out.strip(), f'no result; stderr: {err}'
    return json.loads(out)


def pins():
    try:
        return os.listdir('/run/netns')
    except FileNotFoundError:
        return []


def tenant(name, veth=False, resolver=None):
    decl = {'name': name}
    if veth:
        decl['links'] = [
            {
                'name': 'eth0',
                'kind': 'veth',
                'addresses': [f'10.{sum(map(ord, name)) % 200 + 10}.0.2/24'],
                'peer': {'name': 'h-' + name},
            }
        ]
    if resolver:
        decl['files'] = {'resolv.conf': f'nameserver {resolver}\n'}
    return decl


def recorded(record):
    with open(record) as handle:
        return json.load(handle)['namespaces']


@pytest.mark.timeout_s(1500)
def test_kill_9_at_random_points_of_a_300_namespace_run_then_prune_leaves_nothing_undeclared(tmp_path, capsys):
    record = str(tmp_path / 'state' / 'managed.json')
    big = [
        tenant(f'n{i:03d}', veth=(i % 25 == 0), resolver=f'10.0.0.{i % 250 + 1}' if i % 10 == 0 else None)
        for i in range(300)
    ]
    small = [tenant('n000', veth=True, resolver='10.0.0.1'), tenant('keep')]
    declared = sorted(d['name'] for d in small)
    seed = int(os.environ.get('NSFD_KILL_SEED', '0')) or random.SystemRandom().randrange(1, 1 << 30)
    # 0: as soon as the record appears, before (or as) the first namespace is made
    points = [0] + sorted(random.Random(seed).sample(range(1, 300), 3))
    for round_, point in enumerate(points):
        proc = start(tmp_path, f'big{round_}', {'namespaces': big, 'record': record, 'prune': True})
        deadline = time.time() + 600
        while (len(pins()) < point or not os.path.exists(record)) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.002)
        assert proc.poll() is None, f'seed {seed}: the run ended before {point} namespaces appeared'
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(pins()) >= point
        # the record already lists every namespace the killed run left (and its files)
        assert set(pins()) <= set(recorded(record)), f'seed {seed}, killed after {point} namespaces'
        left = set(pins()) | set(os.listdir('/etc/netns') if os.path.isdir('/etc/netns') else [])
        out = run_module(netns_config, {'namespaces': small, 'record': record, 'prune': True}, capsys)
        assert not out.get('failed'), (seed, point, out.get('msg'))
        assert ip_netns_list() == declared, f'seed {seed}, killed after {point} namespaces'
        assert host_links() == ['h-n000'], f'seed {seed}, killed after {point} namespaces'
        assert sorted(os.listdir('/etc/netns')) == ['n000'], f'seed {seed}, killed after {point} namespaces'
        assert recorded(record) == declared
        assert set(out['record']['pruned']) == set(n for n in left if n not in declared)
    # a prune run killed part-way is finished by the next one
    first = run_module(netns_config, {'namespaces': big, 'record': record, 'prune': True}, capsys)
    assert not first.get('failed') and len(ip_netns_list()) == 300
    proc = start(tmp_path, 'prune', {'namespaces': small, 'record': record, 'prune': True})
    while len(pins()) > 150 and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    out = run_module(netns_config, {'namespaces': small, 'record': record, 'prune': True}, capsys)
    assert not out.get('failed') and ip_netns_list() == declared and recorded(record) == declared
    assert sorted(os.listdir('/etc/netns')) == ['n000']


@pytest.mark.timeout_s(600)
def test_two_concurrent_runs_of_the_same_declaration_both_succeed(tmp_path):
    record = str(tmp_path / 'state' / 'managed.json')
    declaration = [tenant(f't{i:02d}', veth=True) for i in range(12)]
    args = {'namespaces': declaration, 'record': record, 'prune': True}
    procs = [start(tmp_path, f'run{i}', args) for i in range(2)]
    results = [finish(p) for p in procs]
    assert [r.get('failed', False) for r in results] == [False, False], [r.get('msg') for r in results]
    # they ran one after the other: the second found the first's work done
    assert sorted(r['changed'] for r in results) == [False, True]
    assert ip_netns_list() == sorted(d['name'] for d in declaration)
    assert host_links() == sorted('h-' + d['name'] for d in declaration)
    assert recorded(record) == sorted(d['name'] for d in declaration)


@pytest.mark.timeout_s(600)
def test_two_concurrent_runs_of_different_declarations_record_both(tmp_path):
    record = str(tmp_path / 'state' / 'managed.json')
    left = [tenant(f'a{i:02d}') for i in range(15)]
    right = [tenant(f'b{i:02d}') for i in range(15)]
    procs = [
        start(tmp_path, 'left', {'namespaces': left, 'record': record}),
        start(tmp_path, 'right', {'namespaces': right, 'record': record}),
    ]
    results = [finish(p) for p in procs]
    assert [r.get('failed', False) for r in results] == [False, False], [r.get('msg') for r in results]
    both = sorted(d['name'] for d in left + right)
    assert ip_netns_list() == both and recorded(record) == both
    # so a later prune run knows every one of them
    assert not finish(start(tmp_path, 'prune', {'namespaces': left[:1], 'record': record, 'prune': True})).get('failed')
    assert ip_netns_list() == ['a00'] and recorded(record) == ['a00']


def test_prune_and_absent_remove_the_etc_netns_files_they_wrote(tmp_path, capsys):
    record = str(tmp_path / 'state' / 'managed.json')
    old = [tenant('tenant', resolver='192.0.2.53'), tenant('other', resolver='192.0.2.54')]
    assert run_module(netns_config, {'namespaces': old, 'record': record}, capsys)['changed']
    assert os.path.exists('/etc/netns/tenant/resolv.conf')
    # the tenant is dropped from the declaration and pruned: its /etc/netns dir goes with it
    would = run_module(netns_config, {'namespaces': old[1:], 'record': record, 'prune': True}, capsys, check_mode=True)
    assert any(c == 'remove /etc/netns/tenant/resolv.conf' for c in would['namespaces'][-1]['changes'])
    assert os.path.exists('/etc/netns/tenant/resolv.conf') and ip_netns_list() == ['other', 'tenant']
    pruned = run_module(netns_config, {'namespaces': old[1:], 'record': record, 'prune': True}, capsys)
    assert pruned['record']['pruned'] == ['tenant'] and ip_netns_list() == ['other']
    assert not os.path.exists('/etc/netns/tenant')
    assert any('/etc/netns/tenant/resolv.conf' in c for c in pruned['namespaces'][-1]['changes'])
    # a new namespace of the same name does not inherit the old tenant's resolver
    run_module(netns_config, {'namespaces': [tenant('tenant')] + old[1:], 'record': record}, capsys)
    seen = subprocess.run(
        ['ip', 'netns', 'exec', 'tenant', 'cat', '/etc/resolv.conf'], capture_output=True, text=True, check=False
    ).stdout
    assert '192.0.2.53' not in seen
    # state: absent removes what the record says was written, keeps a file the user put there ...
    with open('/etc/netns/other/hosts', 'w') as handle:
        handle.write('127.0.0.1 mine\n')
    gone = run_module(netns_config, {'namespaces': [{'name': 'other', 'state': 'absent'}], 'record': record}, capsys)
    assert not gone.get('failed') and 'other' not in ip_netns_list()
    assert sorted(os.listdir('/etc/netns/other')) == ['hosts']
    assert 'other' not in recorded(record)
    # ... and purge removes the whole directory
    purged = run_module(
        netns_config, {'namespaces': [{'name': 'other', 'state': 'absent'}], 'purge': True, 'record': record}, capsys
    )
    assert purged['changed'] and not os.path.exists('/etc/netns/other')
    assert not run_module(
        netns_config, {'namespaces': [{'name': 'other', 'state': 'absent'}], 'purge': True, 'record': record}, capsys
    )['changed']


def test_prune_removes_a_file_dropped_from_a_kept_namespace(tmp_path, capsys):
    record = str(tmp_path / 'state' / 'managed.json')
    first = {'name': 'tenant', 'files': {'resolv.conf': 'nameserver 192.0.2.53\n', 'hosts': '192.0.2.1 gw\n'}}
    run_module(netns_config, {'namespaces': [first], 'record': record}, capsys)
    with open(record) as handle:
        assert json.load(handle)['files'] == {'tenant': ['hosts', 'resolv.conf']}
    with open('/etc/netns/tenant/mine', 'w') as handle:
        handle.write('not written by netns_config\n')
    second = {'name': 'tenant', 'files': {'hosts': '192.0.2.1 gw\n'}}
    kept = run_module(netns_config, {'namespaces': [second], 'record': record}, capsys)
    assert not kept['changed'] and os.path.exists('/etc/netns/tenant/resolv.conf')
    pruned = run_module(netns_config, {'namespaces': [second], 'record': record, 'prune': True}, capsys, diff=True)
    assert pruned['namespaces'][0]['changes'] == ['remove /etc/netns/tenant/resolv.conf']
    assert sorted(os.listdir('/etc/netns/tenant')) == ['hosts', 'mine']
    with open(record) as handle:
        assert json.load(handle)['files'] == {'tenant': ['hosts']}
    assert not run_module(netns_config, {'namespaces': [second], 'record': record, 'prune': True}, capsys)['changed']


def test_check_mode_prune_writes_no_record_and_no_lock(tmp_path, capsys):
    record = str(tmp_path / 'state' / 'managed.json')
    before = set(os.listdir('/run'))
    out = run_module(
        netns_config,
        {'namespaces': [tenant('a', resolver='192.0.2.1')], 'record': record, 'prune': True},
        capsys,
        check_mode=True,
    )
    assert out['changed'] and out['record']['managed'] == ['a']
    assert not os.path.exists(str(tmp_path / 'state')) and set(os.listdir('/run')) == before
    assert ip_netns_list() == [] and not os.path.exists('/etc/netns/a')


@pytest.mark.parametrize(
    'content, bad',
    [
        ({'namespaces': ['ok', '../../etc']}, "'../../etc'"),
        ({'namespaces': ['ok'], 'files': {'ok': ['../../shadow']}}, "'../../shadow'"),
    ],
)
def test_a_hostile_record_fails_before_anything_is_touched(tmp_path, capsys, content, bad):
    record = tmp_path / 'managed.json'
    record.write_text(json.dumps(content))
    os.makedirs('/etc/netns/ok')
    with open('/etc/netns/ok/keep', 'w') as handle:
        handle.write('mine\n')
    out = run_module(netns_config, {'namespaces': [{'name': 'new'}], 'record': str(record), 'prune': True}, capsys)
    assert out['failed'] and str(record) in out['msg'] and bad.strip("'").split('/')[-1] in out['msg']
    assert ip_netns_list() == [] and json.loads(record.read_text()) == content
    assert os.listdir('/etc/netns/ok') == ['keep']


def test_the_temporary_file_of_a_killed_record_write_is_cleaned_up(tmp_path, capsys):
    state = tmp_path / 'state'
    state.mkdir()
    (state / '.managed.json.k1ll3d').write_text('{"namespaces": ["half')
    (state / 'notes.txt').write_text('mine\n')
    out = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'record': str(state / 'managed.json')}, capsys)
    assert not out.get('failed') and sorted(os.listdir(str(state))) == ['managed.json', 'notes.txt']


def test_a_hostile_record_fails_before_the_boot_files_are_written(tmp_path, capsys):
    record = tmp_path / 'managed.json'
    record.write_text(json.dumps({'namespaces': ['ok', '../../etc']}))
    boot = {'boot_dir': str(tmp_path / 'boot'), 'unit_dir': str(tmp_path / 'units')}
    out = run_module(
        netns_config, {'namespaces': [{'name': 'new'}], 'record': str(record), 'prune': True, 'boot': boot}, capsys
    )
    assert out['failed'] and '../../etc' in out['msg'], out
    assert not os.path.exists(boot['boot_dir']) and not os.path.exists(boot['unit_dir'])
    assert ip_netns_list() == []


def test_boot_with_a_pin_dir_the_boot_script_does_not_use_is_refused(tmp_path, capsys):
    boot = {'boot_dir': str(tmp_path / 'boot'), 'unit_dir': str(tmp_path / 'units')}
    out = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'pin_dir': '/run/tenant', 'boot': boot}, capsys)
    assert out['failed'] and 'pin_dir' in out['msg'] and '/run/tenant' in out['msg'], out
    assert not os.path.exists(boot['boot_dir']) and not os.path.exists('/run/tenant')
    # the iproute2 directory itself, however it is named, is fine
    out = run_module(netns_config, {'namespaces': [{'name': 'a'}], 'pin_dir': '/run/netns', 'boot': boot}, capsys)
    assert not out.get('failed') and ip_netns_list() == ['a'], out
