import json
import os
import subprocess

from moduleharness import run_module

from ansible_collections.nsfd.namespaces.plugins.modules import namespace, namespace_exec


def _sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True, check=True).stdout


def _blue_with_a_link(capsys):
    run_module(namespace, {'name': 'blue'}, capsys)
    _sh('ip', '-n', 'blue', 'link', 'add', 'blue0', 'type', 'bridge')


def test_runs_in_the_namespace_with_its_own_sys(capsys):
    _blue_with_a_link(capsys)
    own = os.readlink('/proc/self/ns/net')
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['ls', '/sys/class/net']}, capsys)
    assert out['rc'] == 0 and out['changed']
    assert sorted(out['stdout_lines']) == ['blue0', 'lo']
    assert out['entered'] == [{'type': 'net', 'path': '/run/netns/blue', 'inode': os.stat('/run/netns/blue').st_ino}]
    assert os.readlink('/proc/self/ns/net') == own
    assert sorted(os.listdir('/sys/class/net')) == ['lo'], 'the caller keeps its own /sys'


def test_exit_codes_pass_through_and_fail_the_task(capsys):
    _blue_with_a_link(capsys)
    for code in (1, 3, 42, 255):
        out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['sh', '-c', f'exit {code}']}, capsys)
        assert out['rc'] == code and out['failed'] and out['msg'] == 'non-zero return code'
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['sh', '-c', 'kill -TERM $$']}, capsys)
    assert out['rc'] == -15


def test_stdin_reaches_the_command(capsys):
    _blue_with_a_link(capsys)
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['cat'], 'stdin': 'hello\nworld'}, capsys)
    assert out['stdout_lines'] == ['hello', 'world']
    out = run_module(
        namespace_exec, {'namespace': 'blue', 'argv': ['wc', '-c'], 'stdin': 'abc', 'stdin_add_newline': False}, capsys
    )
    assert out['stdout'].strip() == '3'


def test_etc_netns_files_show_over_etc_including_a_symlinked_resolv_conf(capsys):
    _blue_with_a_link(capsys)
    os.makedirs('/etc/netns/blue')
    with open('/etc/netns/blue/hosts', 'w') as handle:
        handle.write('10.9.9.9 only-in-blue\n')
    with open('/etc/netns/blue/resolv.conf', 'w') as handle:
        handle.write('nameserver 10.1.1.1\n')
    with open('/etc/netns/blue/no-such-file', 'w') as handle:
        handle.write('x\n')
    os.makedirs('/run/systemd/resolve')
    with open('/run/systemd/resolve/stub-resolv.conf', 'w') as handle:
        handle.write('nameserver 127.0.0.53\n')
    if os.path.lexists('/etc/resolv.conf'):
        os.unlink('/etc/resolv.conf')
    os.symlink('../run/systemd/resolve/stub-resolv.conf', '/etc/resolv.conf')
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['cat', '/etc/hosts', '/etc/resolv.conf']}, capsys)
    assert out['stdout_lines'] == ['10.9.9.9 only-in-blue', 'nameserver 10.1.1.1']
    assert 'no-such-file' in json.dumps(out['warnings'])
    with open('/etc/resolv.conf') as handle:
        assert handle.read() == 'nameserver 127.0.0.53\n', 'the host keeps its own file'
    plain = run_module(
        namespace_exec, {'namespace': 'blue', 'argv': ['cat', '/etc/resolv.conf'], 'etc_files': False}, capsys
    )
    assert plain['stdout'] == 'nameserver 127.0.0.53'


def test_several_types_and_pid_namespace(capsys):
    run_module(namespace, {'name': 'vs', 'type': ['net', 'uts', 'pid'], 'hostname': 'vs1'}, capsys)
    out = run_module(
        namespace_exec,
        {'namespace': 'vs', 'types': ['uts', 'pid', 'net'], 'argv': ['sh', '-c', 'hostname; echo $$']},
        capsys,
    )
    assert out['stdout_lines'] == ['vs1', '2']
    assert sorted(e['type'] for e in out['entered']) == ['net', 'pid', 'uts']


def test_path_and_pid_targets(capsys):
    _blue_with_a_link(capsys)
    out = run_module(namespace_exec, {'path': ['/run/netns/blue'], 'argv': ['ls', '/sys/class/net']}, capsys)
    assert sorted(out['stdout_lines']) == ['blue0', 'lo']
    proc = subprocess.Popen(['ip', 'netns', 'exec', 'blue', 'sleep', '60'])
    try:
        import time

        deadline = time.time() + 5
        while os.stat(f'/proc/{proc.pid}/ns/net').st_ino != os.stat('/run/netns/blue').st_ino:
            assert time.time() < deadline
            time.sleep(0.02)
        out = run_module(namespace_exec, {'pid': proc.pid, 'argv': ['ip', '-o', 'link']}, capsys)
        assert 'blue0' in out['stdout']
    finally:
        proc.kill()


def test_missing_or_stale_pins_fail_and_are_never_created(capsys):
    out = run_module(namespace_exec, {'namespace': 'ghost', 'cmd': 'true'}, capsys)
    assert out['failed'] and 'does not exist' in out['msg'] and '/run/netns/ghost' in out['msg']
    assert not os.path.exists('/run/netns/ghost') and not os.path.exists('/run/netns')
    subprocess.run(['ip', 'netns', 'add', 'stale'], check=True)
    subprocess.run(['umount', '/run/netns/stale'], check=True)
    out = run_module(namespace_exec, {'namespace': 'stale', 'cmd': 'true'}, capsys)
    assert out['failed'] and 'stale' in out['msg']
    assert subprocess.run(['findmnt', '/run/netns/stale'], check=False).returncode != 0


def test_a_pin_of_the_wrong_type_is_refused(capsys):
    run_module(namespace, {'name': 'u', 'type': 'uts', 'pin_dir': '/run/netns'}, capsys)
    out = run_module(namespace_exec, {'namespace': 'u', 'cmd': 'true'}, capsys)
    assert out['failed'] and 'does not exist' not in out['msg']


def test_hostile_arguments_stay_literal(capsys):
    _blue_with_a_link(capsys)
    hostile = "a b; $(touch /tmp/pwned) `id` 'q' \"d\" | & > x"
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['printf', '%s', hostile]}, capsys)
    assert out['stdout'] == hostile
    assert not os.path.exists('/tmp/pwned')
    out = run_module(namespace_exec, {'namespace': 'blue; touch /tmp/pwned', 'cmd': 'true'}, capsys)
    assert out['failed'] and not os.path.exists('/tmp/pwned')
    out = run_module(namespace_exec, {'namespace': 'blue', 'cmd': "echo 'a; b' $(id)"}, capsys)
    assert out['stdout'] == 'a; b $(id)'


def test_check_mode_does_not_run_and_honours_creates(capsys, tmp_path):
    _blue_with_a_link(capsys)
    marker = tmp_path / 'ran'
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['touch', str(marker)]}, capsys, check_mode=True)
    assert out['changed'] and not marker.exists()
    marker.write_text('x')
    out = run_module(
        namespace_exec,
        {'namespace': 'blue', 'argv': ['touch', str(marker)], 'creates': str(marker)},
        capsys,
        check_mode=True,
    )
    assert not out['changed'] and out['skipped']
    out = run_module(
        namespace_exec, {'namespace': 'blue', 'argv': ['rm', str(marker)], 'removes': str(tmp_path / 'none*')}, capsys
    )
    assert not out['changed'] and marker.exists()


def test_all_runs_everywhere_and_fails_after_trying_all(capsys):
    for name in ('a', 'b', 'c'):
        run_module(namespace, {'name': name}, capsys)
    out = run_module(namespace_exec, {'all': True, 'argv': ['ip', '-o', 'link']}, capsys)
    assert [r['namespace'] for r in out['results']] == ['a', 'b', 'c']
    assert all(r['rc'] == 0 for r in out['results'])
    out = run_module(namespace_exec, {'all': True, 'argv': ['sh', '-c', '[ -e /sys/class/net/lo ] && exit 1']}, capsys)
    assert out['failed'] and len(out['results']) == 3 and 'a, b, c' in out['msg']


def test_a_missing_program_is_rc_127(capsys):
    _blue_with_a_link(capsys)
    out = run_module(namespace_exec, {'namespace': 'blue', 'argv': ['/no/such/program']}, capsys)
    assert out['failed'] and out['rc'] == 127


def test_enters_the_mount_namespace_of_a_container_with_its_own_proc(capsys):
    # a container: own pid and mount namespaces, its /proc of its own pid
    # namespace, where /proc/self of a process from outside does not resolve
    proc = subprocess.Popen(
        [
            'unshare',
            '--pid',
            '--fork',
            '--mount',
            '--uts',
            '--mount-proc',
            '--',
            'sh',
            '-c',
            'hostname box; touch /tmp/inside-the-box; exec sleep 60',
        ]
    )
    try:
        import time

        deadline = time.time() + 5
        while True:
            children = open(f'/proc/{proc.pid}/task/{proc.pid}/children').read().split()
            if children and open(f'/proc/{children[0]}/comm').read().strip() == 'sleep':
                break
            assert time.time() < deadline
            time.sleep(0.02)
        out = run_module(
            namespace_exec, {'pid': int(children[0]), 'types': ['mnt', 'uts', 'net'], 'argv': ['hostname']}, capsys
        )
        assert out['rc'] == 0 and out['stdout'].strip() == 'box', out
    finally:
        proc.kill()
