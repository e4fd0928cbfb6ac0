"""kernel/spawn: fork, set up, exec, capture (what namespace_exec runs
commands with instead of subprocess.Popen's preexec_fn)."""

import errno
import os
import signal

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import spawn


def test_large_stdin_stdout_and_stderr_at_once_do_not_deadlock():
    data = os.urandom(3 * 1024 * 1024)
    # the command writes to stdout and stderr while it still reads stdin
    script = (
        'import sys\nfor chunk in iter(lambda: sys.stdin.buffer.read(4096), b""):\n'
        '    sys.stdout.buffer.write(chunk); sys.stderr.buffer.write(chunk[::-1])\n'
    )
    done = spawn.spawn(['python3', '-c', script], stdin=data)
    assert done.rc == 0 and done.reports == []
    assert done.stdout == data
    assert len(done.stderr) == len(data)


def test_no_stdin_is_dev_null():
    done = spawn.spawn(['sh', '-c', 'readlink /proc/self/fd/0; cat'])
    assert (done.rc, done.stdout, done.stderr) == (0, b'/dev/null\n', b'')


def test_the_command_gets_only_stdio():
    leaked = os.open('/', os.O_RDONLY)
    os.set_inheritable(leaked, True)
    try:
        done = spawn.spawn(['sh', '-c', f'test -e /proc/$$/fd/{leaked} && echo leaked || echo closed'])
    finally:
        os.close(leaked)
    assert done.stdout == b'closed\n'


def test_sigpipe_is_default_again_in_the_command():
    # with Python's ignored SIGPIPE inherited, yes would see EPIPE and complain
    done = spawn.spawn(['sh', '-c', 'yes | head -c 1'])
    assert (done.rc, done.stdout, done.stderr) == (0, b'y', b'')


def test_exit_status_and_signal_pass_through():
    assert spawn.spawn(['sh', '-c', 'exit 3']).rc == 3
    assert spawn.spawn(['sh', '-c', 'kill -TERM $$']).rc == -signal.SIGTERM


def test_a_missing_program_is_an_exec_error_with_rc_127():
    done = spawn.spawn(['/nonexistent/program'])
    assert done.rc == 127
    assert done.exec_error['errno'] == errno.ENOENT and done.setup_error is None


def test_setup_runs_in_the_child_and_reports_warnings_and_failures():
    def setup(report_fd):
        os.environ['SPAWN_TEST'] = 'set in the child'
        spawn.report(report_fd, {'warnings': ['careful']})

    done = spawn.spawn(['sh', '-c', 'echo "$SPAWN_TEST"'], setup=setup)
    assert done.stdout == b'set in the child\n' and done.warnings == ['careful']
    assert 'SPAWN_TEST' not in os.environ

    def broken(report_fd):
        spawn.fail(report_fd, {'step': 'setns net', 'errno': errno.EPERM, 'error': 'Operation not permitted'})

    done = spawn.spawn(['sh', '-c', 'echo never'], setup=broken)
    assert done.rc == spawn.SETUP_FAILED and done.stdout == b''
    assert done.setup_error == {'step': 'setns net', 'errno': errno.EPERM, 'error': 'Operation not permitted'}


def test_no_fd_is_left_open_in_the_caller():
    before = sorted(os.listdir('/proc/self/fd'))
    spawn.spawn(['sh', '-c', 'echo hi; cat >/dev/null'], stdin=b'x' * 100000)
    spawn.spawn(['/nonexistent/program'])
    assert sorted(os.listdir('/proc/self/fd')) == before
