"""childproc: a forked helper speaks JSON lines with its parent; whatever
goes wrong in it comes back to the parent as ChildFailed."""

import ctypes
import errno
import os
import signal
import time

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import Child, ChildFailed

PR_GET_PDEATHSIG = 2  # linux/prctl.h


def _echo(channel):
    channel.send({'pid': os.getpid(), 'ppid': os.getppid()})
    channel.send(['got', channel.receive()])


def test_messages_go_both_ways_in_order():
    child = Child(_echo)
    try:
        first = child.receive()
        assert first == {'pid': child.pid, 'ppid': os.getpid()}
        child.send({'word': 'ünïcode'})
        assert child.receive() == ['got', {'word': 'ünïcode'}]
    finally:
        assert child.finish() == 'exit status 0'


def _os_error(channel):
    os.rmdir('/nonexistent/nsfd-test')


def test_an_os_error_in_the_child_comes_back_with_its_errno():
    child = Child(_os_error)
    with pytest.raises(ChildFailed) as exc:
        child.receive()
    assert exc.value.errno == errno.ENOENT and exc.value.step == 'child'
    assert exc.value.message == os.strerror(errno.ENOENT)
    assert child.finish() == 'exit status 1'


def _step_failure(channel):
    raise ChildFailed('setns net', errno.EINVAL, 'Invalid argument')


def test_a_child_failed_keeps_its_step():
    child = Child(_step_failure)
    with pytest.raises(ChildFailed) as exc:
        child.receive()
    assert (exc.value.step, exc.value.errno) == ('setns net', errno.EINVAL)
    assert str(exc.value) == 'setns net: Invalid argument'
    child.finish()


def _bug(channel):
    raise KeyError('nope')


def test_any_other_exception_comes_back_with_its_traceback():
    child = Child(_bug)
    with pytest.raises(ChildFailed) as exc:
        child.receive()
    assert exc.value.errno is None and 'KeyError' in exc.value.message and 'Traceback' in exc.value.message
    child.finish()


def _silent_death(channel):
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_dying_without_a_report_is_said_so():
    child = Child(_silent_death)
    with pytest.raises(ChildFailed) as exc:
        child.receive()
    assert 'exited without a report (killed by signal 9)' in exc.value.message


def _hang(channel):
    time.sleep(30)


def test_a_child_that_does_not_answer_times_out_and_is_killed():
    child = Child(_hang, timeout=0.2)
    start = time.time()
    with pytest.raises(ChildFailed) as exc:
        child.receive()
    assert 'did not answer within 0.2s' in exc.value.message and time.time() - start < 5
    child.kill()
    with pytest.raises(OSError):
        os.kill(child.pid, 0)


def _parent_death_signal(channel):
    value = ctypes.c_int()
    ctypes.CDLL(None, use_errno=True).prctl(PR_GET_PDEATHSIG, ctypes.byref(value), 0, 0, 0)
    channel.send(value.value)


def test_the_child_dies_with_its_parent_by_default():
    for die_with_parent, expected in ((True, signal.SIGKILL), (False, 0)):
        child = Child(_parent_death_signal, die_with_parent=die_with_parent)
        assert child.receive() == expected
        child.finish()


def test_a_large_message_arrives_whole():
    big = 'x' * 300000
    child = Child(lambda channel: channel.send(big))
    assert child.receive() == big
    child.finish()
