"""create: one unshare() per namespace set, in a thread for the task
namespaces and in a child otherwise; each returned fd is a new namespace of
its type, as /proc and findmnt show it, and the module never moves."""

import errno
import fcntl
import os

import pytest

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nsexec import call_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import create

NS_GET_USERNS = 0xB701  # linux/nsfs.h


def _ino(fd):
    return os.fstat(fd).st_ino


def _own(kind):
    return os.stat(f'/proc/self/ns/{TYPES[kind].proc_name}').st_ino


def _close(fds):
    for fd in fds.values():
        os.close(fd)


def _uname():
    return list(os.uname())


def test_task_namespaces_come_from_a_thread_with_their_hostname():
    threads = os.listdir('/proc/self/task')
    fds, holder = create.create('box', ['net', 'uts', 'ipc'], create.CreateOptions(hostname='box', domainname='d'))
    try:
        assert holder is None
        assert sorted(fds) == ['ipc', 'net', 'uts']
        for kind, fd in fds.items():
            assert _ino(fd) != _own(kind)
        assert call_in({'uts': fds['uts']}, _uname)[1] == 'box'
        # the thread is gone and every thread of this process stayed home
        assert os.listdir('/proc/self/task') == threads
        assert os.uname()[1] != 'box'
    finally:
        _close(fds)


def test_a_user_namespace_gets_its_maps_and_owns_the_others():
    options = create.CreateOptions(uid_map=[(0, 100000, 10)], gid_map=[(0, 200000, 10)], hostname='u')
    fds, holder = create.create('box', ['user', 'uts'], options)
    try:
        assert holder is None
        path = f'/proc/{os.getpid()}/fd/{fds["user"]}'
        uid_map = sh('nsenter', f'--user={path}', 'cat', '/proc/self/uid_map').stdout.split()
        gid_map = sh('nsenter', f'--user={path}', 'cat', '/proc/self/gid_map').stdout.split()
        assert uid_map == ['0', '100000', '10'] and gid_map == ['0', '200000', '10']
        # the kernel's own answer (NS_GET_USERNS): the new user namespace owns the new uts namespace
        owner = fcntl.ioctl(fds['uts'], NS_GET_USERNS)
        assert _ino(owner) == _ino(fds['user'])
        os.close(owner)
        uts = f'/proc/{os.getpid()}/fd/{fds["uts"]}'
        assert sh('nsenter', f'--user={path}', f'--uts={uts}', 'hostname').stdout.strip() == 'u'
    finally:
        _close(fds)


def test_a_pid_namespace_comes_with_its_holder():
    fds, holder = create.create('box', ['pid', 'mnt'], create.CreateOptions(), pin='/run/pidns/box')
    try:
        assert holder is not None and holder.pid
        assert os.stat(f'/proc/{holder.pid}/ns/pid').st_ino == _ino(fds['pid'])
        assert os.stat(f'/proc/{holder.pid}/ns/mnt').st_ino == _ino(fds['mnt'])
    finally:
        create.kill_holder(holder)
        _close(fds)


def test_bad_maps_fail_naming_the_maps_and_leave_nothing():
    before = sorted(os.listdir('/proc/self/fd'))
    with pytest.raises(NamespaceError) as exc:
        create.create('box', ['user'], create.CreateOptions(uid_map=[(0, 100000, 10), (5, 300000, 10)]))
    assert 'cannot write the user namespace id maps' in str(exc.value) and exc.value.errno == errno.EINVAL
    assert exc.value.name == 'box'
    assert sorted(os.listdir('/proc/self/fd')) == before


def test_a_failure_in_the_child_names_its_step():
    # a hostname longer than the kernel's 64 bytes
    with pytest.raises(NamespaceError) as exc:
        create.create('box', ['uts', 'mnt'], create.CreateOptions(hostname='h' * 65))
    assert 'cannot create the uts+mnt namespace(s): sethostname failed' in str(exc.value)
    assert exc.value.errno == errno.EINVAL
    with pytest.raises(NamespaceError) as exc:
        create.create('box', ['uts'], create.CreateOptions(hostname='h' * 65))
    assert 'sethostname failed' in str(exc.value)


def test_a_new_mount_namespace_keeps_no_copy_of_existing_pins():
    sh('ip', 'netns', 'add', 'elsewhere')
    fds, holder = create.create('box', ['mnt'], create.CreateOptions())
    try:
        mounts = sh(
            'nsenter', f'--mount=/proc/{os.getpid()}/fd/{fds["mnt"]}', 'findmnt', '-n', '-t', 'nsfs', check=False
        )
        assert 'elsewhere' not in mounts.stdout
    finally:
        _close(fds)


def test_text_helpers():
    assert create.map_text([(0, 1000, 1), (1, 100000, 65536)]) == '0 1000 1\n1 100000 65536\n'
    assert create.offsets_lines({'monotonic': (1, 2), 'boottime': (3, 0)}) == ['boottime 3 0\n', 'monotonic 1 2\n']
