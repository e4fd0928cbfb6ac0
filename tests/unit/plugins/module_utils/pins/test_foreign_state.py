"""Foreign state around pins (issue 11): symlinked pin directories, files
that are not pins outside the pin directories. Judged by findmnt and ip netns."""

import os
import subprocess
import time

import pytest

from nsoracle import ip_netns_list, mounts_at, nsfs_mounts, pin_kind_and_inode, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, listing, spec


def _wait_for(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, 'condition not met in time'
        time.sleep(0.02)


def _var_run_is_a_symlink_to_run():
    # Debian's /var/run -> /run; make it so where the sandbox's /var lacks it.
    if os.path.islink('/var/run') and os.path.realpath('/var/run') == '/run':
        return
    if os.path.lexists('/var/run'):
        sh('rm', '-rf', '/var/run')
    os.symlink('/run', '/var/run')


@pytest.fixture
def foreign_pin():
    """A net pin made by another tool: a bind mount in /run/netns, which is
    not a mount point of its own (no `ip netns add` ran before)."""
    _var_run_is_a_symlink_to_run()
    proc = subprocess.Popen(['unshare', '--net', 'sleep', '60'])
    _wait_for(lambda: os.readlink('/proc/%d/exe' % proc.pid).endswith('sleep'))
    os.makedirs('/run/netns')
    open('/run/netns/other', 'w').close()
    sh('mount', '--bind', '/proc/%d/ns/net' % proc.pid, '/run/netns/other')
    yield proc
    proc.kill()


def test_pin_dir_through_a_symlink_never_mounts_a_foreign_pin_twice(foreign_pin):
    result = engine.ensure_present(spec.build('new', pin_dir='/var/run/netns'))
    assert result.changed
    assert len(mounts_at('/run/netns/other')) == 1, nsfs_mounts()
    assert len(mounts_at('/run/netns/new')) == 1, nsfs_mounts()
    assert result.pins[0]['path'] == '/run/netns/new'
    # the foreign pin can still be deleted by its own tool
    sh('ip', 'netns', 'del', 'other')
    assert ip_netns_list() == ['new']
    assert not engine.ensure_present(spec.build('new', pin_dir='/var/run/netns')).changed


def test_same_pin_through_a_symlinked_dir_is_recognised(foreign_pin):
    for build in (lambda: spec.build('other', pin_dir='/var/run/netns'),
                  lambda: spec.build(path='/var/run/netns/other')):
        result = engine.ensure_present(build())
        assert not result.changed
        assert result.pins[0]['path'] == '/run/netns/other'
        assert result.pins[0]['inode'] == os.stat('/proc/%d/ns/net' % foreign_pin.pid).st_ino
    assert len(mounts_at('/run/netns/other')) == 1, nsfs_mounts()
    result = engine.ensure_absent(spec.build('other', pin_dir='/var/run/netns'))
    assert result.changed and nsfs_mounts() == [] and ip_netns_list() == []


def test_listing_through_a_symlinked_dir_names_canonical_paths(foreign_pin):
    entries = listing.list_namespaces(['net'], pin_dirs={'net': '/var/run/netns'})[0]
    assert [(e['name'], e['path']) for e in entries] == [('other', '/run/netns/other')]
