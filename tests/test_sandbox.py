"""The per-test sandbox: what a test sees, and that nothing outlives it."""

import os
import subprocess
import sys
import textwrap

PID_FILE_DIR = '/tmp'


def _run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True, check=True).stdout


def test_run_is_a_private_empty_tmpfs():
    assert _run('findmnt', '-n', '-o', 'FSTYPE', '/run').strip() == 'tmpfs'
    assert sorted(os.listdir('/run')) == ['.sandbox']


def test_network_is_only_loopback_and_up():
    assert os.listdir('/sys/class/net') == ['lo']
    assert 'UP' in _run('ip', 'link', 'show', 'lo')


def test_writes_to_etc_land_in_the_overlay():
    os.makedirs('/etc/netns/probe')
    with open('/etc/netns/probe/hosts', 'w') as handle:
        handle.write('x\n')
    assert os.path.exists('/run/.sandbox/etc/upper/netns/probe/hosts')


def test_hostname_is_the_sandbox_one():
    assert _run('hostname').strip() == 'nsfd-test'


def test_a_pin_made_by_one_test_1():
    _run('ip', 'netns', 'add', 'a')
    assert _run('ip', 'netns', 'list').split() == ['a']


def test_a_pin_made_by_one_test_2_is_not_seen_by_the_next():
    assert _run('ip', 'netns', 'list').strip() == ''


def test_a_crash_and_a_timeout_are_reported_and_leftovers_die(tmp_path):
    inner = tmp_path / 'test_inner.py'
    pid_file = tmp_path / 'daemon.pid'
    inner.write_text(
        textwrap.dedent(f'''
        import os, subprocess, time
        import pytest

        def test_leaves_a_daemon():
            proc = subprocess.Popen(['setsid', 'sleep', '600'])
            open({str(pid_file)!r}, 'w').write(str(proc.pid))

        def test_crashes():
            os._exit(3)

        @pytest.mark.timeout_s(1)
        def test_hangs():
            time.sleep(60)
    ''')
    )
    conftest = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'conftest.py')
    (tmp_path / 'conftest.py').write_text(
        open(conftest)
        .read()
        .replace("TESTS = os.path.dirname(os.path.abspath(__file__))", f'TESTS = {os.path.dirname(conftest)!r}')
    )
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', str(inner)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        timeout=120,
        check=False,
    )
    assert '2 failed, 1 passed' in result.stdout, result.stdout
    assert 'died without a report: exited with status 3' in result.stdout
    assert 'timed out after 1s' in result.stdout
    daemon = int(pid_file.read_text())
    assert not os.path.exists(f'/proc/{daemon}') or open(f'/proc/{daemon}/stat').read().split()[2] == 'Z'
