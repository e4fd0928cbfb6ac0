"""holder: the init of a pid namespace this collection creates lives once
its creator confirms the pin, ends when its creator dies or gives up first,
and is found as an orphan once nothing pins or holds its namespace."""

import errno
import os
import time

import pytest

from nsoracle import proc_inode

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import procscan
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import ChildFailed
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nsexec import call_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import create, holder, pinops
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PinLocation

PIN = '/run/pidns/box'


def _gone(pid, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(f'/proc/{pid}/stat') as handle:
                if handle.read().split(') ')[1].startswith('Z'):
                    return True
        except OSError:
            return True
        time.sleep(0.01)
    return False


def _start(name='box'):
    fds, the_holder = create.create(name, ['pid'], create.CreateOptions(), pin=PIN)
    return fds['pid'], the_holder


def _pin(fd):
    os.makedirs(os.path.dirname(PIN), exist_ok=True)
    loc = PinLocation('box', 'pid', PIN)
    pinops.bind_fd(loc, fd)
    return loc


def test_a_confirmed_holder_is_pid_1_of_its_namespace_and_labelled():
    fd, the_holder = _start()
    loc = _pin(fd)
    the_holder.confirm('box')
    os.close(fd)
    assert not _gone(the_holder.pid, timeout=0.2)
    assert proc_inode(the_holder.pid, 'pid') == os.stat(PIN).st_ino
    with open(f'/proc/{the_holder.pid}/status') as handle:
        nspid = [line.split()[1:] for line in handle if line.startswith('NSpid:')][0]
    assert nspid[-1] == '1'
    assert (the_holder.pid, os.stat(PIN).st_ino, ['box', PIN]) in procscan.holders()
    # pinned: no orphan
    assert holder.orphans('box', PIN) == []
    pinops.unpin(loc)
    found = holder.orphans('box', PIN)
    assert [(o['pid'], o['name'], o['pin']) for o in found] == [(the_holder.pid, 'box', PIN)]
    assert holder.orphans('other', '/run/pidns/other') == []
    holder.end(the_holder.pid)
    assert _gone(the_holder.pid)
    assert holder.orphans() == []


def test_a_holder_whose_creator_gives_up_ends():
    fd, the_holder = _start()
    os.close(fd)
    pid = the_holder.pid
    the_holder.close()  # EOF instead of the word that the set is pinned
    assert _gone(pid)


def test_kill_ends_the_holder_and_its_namespace():
    fd, the_holder = _start()
    pid = the_holder.pid
    the_holder.kill()
    assert _gone(pid)
    # the pid namespace died with its init: no process can be forked into it
    with pytest.raises(ChildFailed) as exc:
        call_in({'pid': fd}, os.getpid)
    os.close(fd)
    assert exc.value.errno == errno.ENOMEM


def test_confirm_fails_naming_the_holder_when_it_is_gone():
    fd, the_holder = _start()
    os.close(fd)
    os.kill(the_holder.pid, 9)
    assert _gone(the_holder.pid)
    with pytest.raises(NamespaceError) as exc:
        the_holder.confirm('box')
    assert f'the init (holder) process {the_holder.pid}' in str(exc.value)
    assert exc.value.name == 'box' and exc.value.errno is not None


def test_a_holder_ignores_sigint_and_sighup_but_ends_on_sigterm():
    fd, the_holder = _start()
    _pin(fd)
    the_holder.confirm('box')
    os.close(fd)
    for signo in (2, 1):
        os.kill(the_holder.pid, signo)
    assert not _gone(the_holder.pid, timeout=0.3)
    os.kill(the_holder.pid, 15)
    assert _gone(the_holder.pid)
