"""nsexec: a function runs in a throwaway child inside existing namespaces,
checked against the namespaces' inodes as the kernel shows them."""

import errno
import os
import socket
import subprocess
import time

import pytest

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import ChildFailed
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nsexec import call_in


def _inode(kind):
    return os.stat(f'/proc/self/ns/{kind}').st_ino


def _own_pid():
    return os.getpid()


def _pin_net(name):
    sh('ip', 'netns', 'add', name)
    return os.open(f'/run/netns/{name}', os.O_RDONLY | os.O_CLOEXEC)


def test_a_function_runs_in_the_pinned_network_namespace():
    fd = _pin_net('blue')
    try:
        inside = call_in({'net': fd}, _inode, 'net')
        assert inside == os.stat('/run/netns/blue').st_ino
        assert inside != _inode('net')
        # the caller never moved
        assert call_in({}, _inode, 'net') == _inode('net')
    finally:
        os.close(fd)


def _links():
    return sorted(name for _index, name in socket.if_nameindex())


def test_the_function_sees_the_namespace_links():
    fd = _pin_net('blue')
    sh('ip', '-n', 'blue', 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0')
    try:
        assert call_in({'net': fd}, _links) == ['a0', 'b0', 'lo']
    finally:
        os.close(fd)


def test_several_types_at_once():
    for kind in ('uts', 'net'):
        open(f'/run/{kind}-pin', 'w').close()
    sh('unshare', '--uts=/run/uts-pin', '--net=/run/net-pin', 'hostname', 'inside')
    fds = dict((kind, os.open(f'/run/{kind}-pin', os.O_RDONLY)) for kind in ('uts', 'net'))
    try:
        assert call_in(fds, os.uname)[1] == 'inside'
        assert call_in(fds, _inode, 'uts') == os.stat('/run/uts-pin').st_ino
        assert call_in(fds, _inode, 'net') == os.stat('/run/net-pin').st_ino
    finally:
        for fd in fds.values():
            os.close(fd)


def test_a_pid_namespace_without_its_init_takes_no_function():
    open('/run/pid-pin', 'w').close()
    sh('unshare', '--pid=/run/pid-pin', '--fork', 'true')
    fd = os.open('/run/pid-pin', os.O_RDONLY)
    try:
        with pytest.raises(ChildFailed) as exc:
            call_in({'pid': fd}, _own_pid)
        assert exc.value.errno == errno.ENOMEM  # fork() into a pid namespace whose init is gone
    finally:
        os.close(fd)


def _pid_namespace_with_init():
    """An unshare whose child, pid 1 of a new pid namespace, sleeps: (process, pid_for_children path)."""
    proc = subprocess.Popen(['unshare', '--pid', '--fork', '--kill-child', 'sleep', '60'])
    children = f'/proc/{proc.pid}/task/{proc.pid}/children'
    for _attempt in range(250):
        with open(children) as handle:
            if handle.read().split():
                break
        time.sleep(0.02)
    return proc, f'/proc/{proc.pid}/ns/pid_for_children'


def test_a_pid_namespace_runs_the_function_in_a_grandchild_inside():
    proc, path = _pid_namespace_with_init()
    fd = os.open(path, os.O_RDONLY)
    try:
        # pid 1 is the sleep: the function's process is another one, inside
        assert call_in({'pid': fd}, _own_pid) > 1
        assert call_in({'pid': fd}, _inode, 'pid') == os.stat(path).st_ino
    finally:
        os.close(fd)
        proc.kill()
        proc.wait()


def test_a_wrong_type_of_fd_is_refused_by_the_kernel():
    fd = _pin_net('blue')
    try:
        with pytest.raises(ChildFailed) as exc:
            call_in({'uts': fd}, _inode, 'uts')
        assert exc.value.step == 'setns uts' and exc.value.errno == errno.EINVAL
    finally:
        os.close(fd)


def test_an_exception_of_the_function_comes_back():
    with pytest.raises(ChildFailed) as exc:
        call_in({}, os.stat, '/nonexistent/nsfd')
    assert exc.value.errno == 2
