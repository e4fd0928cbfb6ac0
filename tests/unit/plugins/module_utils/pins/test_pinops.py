"""pinops: binding an nsfs fd onto a pin path and unpinning it, checked
with findmnt."""

import errno
import os
import stat

import pytest

from nsoracle import mounts_at, pin_kind_and_inode, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import pinops
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PinLocation


def _net_fd():
    sh('ip', 'netns', 'add', 'src')
    return os.open('/run/netns/src', os.O_RDONLY | os.O_CLOEXEC)


def _loc(path, nstype='net'):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return PinLocation(os.path.basename(path), nstype, path)


def test_bind_fd_pins_exactly_that_namespace_in_a_mode_0_file():
    fd = _net_fd()
    loc = _loc('/run/pins/blue')
    pinops.bind_fd(loc, fd)
    os.close(fd)
    assert pin_kind_and_inode(loc.path) == ('net', os.stat('/run/netns/src').st_ino)
    # the pin keeps the namespace when its first name goes
    sh('ip', 'netns', 'delete', 'src')
    assert pin_kind_and_inode(loc.path)[0] == 'net'
    # under the mount, a file of mode 0 like iproute2's: a leftover shows as ----------
    pinops.detach_all(loc.path)
    assert stat.S_IMODE(os.lstat(loc.path).st_mode) == 0


def test_bind_fd_refuses_an_existing_file_and_leaves_it():
    fd = _net_fd()
    loc = _loc('/run/pins/taken')
    with open(loc.path, 'w') as handle:
        handle.write('someone else')
    with pytest.raises(NamespaceError) as exc:
        pinops.bind_fd(loc, fd)
    os.close(fd)
    assert exc.value.errno == errno.EEXIST and exc.value.path == loc.path
    assert open(loc.path).read() == 'someone else' and mounts_at(loc.path) == []


def test_a_failed_bind_removes_the_file_it_created():
    loc = _loc('/run/pins/nothing')
    fd = os.open('/run', os.O_RDONLY)  # not a namespace: binding a directory onto a file fails
    with pytest.raises(NamespaceError) as exc:
        pinops.bind_fd(loc, fd)
    os.close(fd)
    assert 'cannot bind-mount the net namespace' in str(exc.value)
    assert not os.path.lexists(loc.path)


def test_replace_stacks_no_second_mount():
    loc = _loc('/run/pins/blue')
    first = _net_fd()
    pinops.bind_fd(loc, first)
    os.close(first)
    sh('ip', 'netns', 'add', 'other')
    second = os.open('/run/netns/other', os.O_RDONLY)
    pinops.bind_fd(loc, second, replace=True)
    os.close(second)
    assert pin_kind_and_inode(loc.path) == ('net', os.stat('/run/netns/other').st_ino)


def test_detach_all_removes_stacked_mounts_and_counts_them():
    fd = _net_fd()
    loc = _loc('/run/pins/stacked')
    pinops.bind_fd(loc, fd)
    sh('mount', '--bind', '/run/netns/src', loc.path)
    os.close(fd)
    assert pinops.detach_all(loc.path) == 2
    assert mounts_at(loc.path) == []
    assert pinops.detach_all(loc.path) == 0
    assert pinops.detach_all('/run/pins/missing') == 0


def test_unpin_unmounts_and_unlinks_and_is_quiet_when_gone():
    fd = _net_fd()
    loc = _loc('/run/pins/blue')
    pinops.bind_fd(loc, fd)
    os.close(fd)
    pinops.unpin(loc)
    assert not os.path.lexists(loc.path) and mounts_at(loc.path) == []
    pinops.unpin(loc)  # nothing there: nothing to do


def test_unpin_reports_a_file_it_cannot_remove():
    loc = _loc('/run/pins/dir/inside')
    os.makedirs(loc.path)
    with open(os.path.join(loc.path, 'x'), 'w'):
        pass
    with pytest.raises(NamespaceError) as exc:
        pinops.unpin(loc)
    assert 'cannot remove the pin file' in str(exc.value) and exc.value.errno == errno.EISDIR
