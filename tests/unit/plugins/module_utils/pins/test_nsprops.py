"""nsprops: properties of pinned namespaces read and set from inside them,
checked with nsenter."""

import os
import subprocess
import time

import pytest

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import kernel_supports
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import nsprops


def _pinned(kind, *extra):
    path = f'/run/{kind}-pin'
    open(path, 'w').close()
    sh('unshare', f'--{kind}={path}', *(list(extra) + ['true']))
    return path


def _fd(path):
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def test_hostname_and_domainname_are_set_inside_and_read_back():
    path = _pinned('uts')
    fd = _fd(path)
    before = os.uname()[1]
    nsprops.set_uts(fd, hostname='inside', domainname='example.test')
    assert sh('nsenter', f'--uts={path}', 'hostname').stdout.strip() == 'inside'
    assert sh('nsenter', f'--uts={path}', 'cat', '/proc/sys/kernel/domainname').stdout.strip() == 'example.test'
    assert nsprops.read({'uts': fd}, ['hostname', 'domainname']) == {'hostname': 'inside', 'domainname': 'example.test'}
    nsprops.set_uts(fd, domainname='other.test')  # hostname untouched
    assert nsprops.read({'uts': fd}, ['hostname']) == {'hostname': 'inside'}
    assert os.uname()[1] == before
    os.close(fd)


def test_uid_and_gid_maps_of_a_user_namespace_are_read():
    proc = subprocess.Popen(['unshare', '--user', '--map-user=1000', '--map-group=2000', 'sleep', '60'])
    try:
        path = f'/proc/{proc.pid}/ns/user'
        for _attempt in range(250):  # until unshare has written the maps and run sleep
            if os.readlink(f'/proc/{proc.pid}/exe').endswith('sleep'):
                break
            time.sleep(0.02)
        with open(f'/proc/{proc.pid}/uid_map') as handle:
            oracle = handle.read().split()
        fd = _fd(path)
        values = nsprops.read({'user': fd}, ['uid_map', 'gid_map'])
        os.close(fd)
    finally:
        proc.kill()
        proc.wait()
    assert values == {'uid_map': [[1000, 0, 1]], 'gid_map': [[2000, 0, 1]]}
    assert [int(v) for v in oracle] == values['uid_map'][0]


@pytest.mark.skipif(not kernel_supports('time'), reason='no time namespaces')
def test_time_offsets_of_a_time_namespace_are_read():
    path = '/run/time-pin'
    open(path, 'w').close()
    sh('unshare', f'--time={path}', '--monotonic=86400', 'true')
    fd = _fd(path)
    values = nsprops.read({'time': fd}, ['time_offsets'])
    os.close(fd)
    assert values['time_offsets']['monotonic'] == [86400, 0]
    assert values['time_offsets']['boottime'] == [0, 0]


def test_differences_name_only_what_differs():
    current = {'hostname': 'a', 'domainname': 'd', 'time_offsets': {'monotonic': [5, 0], 'boottime': [0, 0]}}
    assert nsprops.differences(current, {'hostname': 'a'}) == []
    assert nsprops.differences(current, {'hostname': 'b', 'domainname': 'd'}) == [('hostname', 'a', 'b')]
    # only the clocks asked for are compared; an unlisted clock counts as 0 0
    assert nsprops.differences(current, {'time_offsets': {'monotonic': [5, 0]}}) == []
    assert nsprops.differences({'time_offsets': {}}, {'time_offsets': {'boottime': [0, 0]}}) == []
    assert nsprops.differences(current, {'time_offsets': {'monotonic': [6, 0]}}) == [
        ('time_offsets', current['time_offsets'], {'monotonic': [6, 0]})
    ]
