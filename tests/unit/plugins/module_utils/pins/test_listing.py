"""namespace_info's inventory: exact names, stale pins, pids, nsids, unpinned."""

import os
import subprocess

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPE_NAMES
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, listing, spec


def _tree():
    return sorted(os.listdir('/run'))


def test_empty_host_lists_nothing_and_creates_nothing():
    before = _tree()
    entries, warnings = listing.list_namespaces(TYPE_NAMES)
    assert entries == [] and warnings == []
    assert _tree() == before


def test_names_match_exactly_never_by_substring():
    for name in ('mario', 'mario2', 'supermario'):
        engine.ensure_present(spec.build(name))
    entries = listing.list_namespaces(['net'], names=['mario'])[0]
    assert [e['name'] for e in entries] == ['mario']


def test_entries_carry_type_path_inode_pids_and_nsid():
    result = engine.ensure_present(spec.build('vs', ['net', 'pid']))
    sh('ip', 'netns', 'set', 'vs', '5')
    entries = listing.list_namespaces(['net', 'pid'])[0]
    by_type = dict((e['type'], e) for e in entries)
    inodes = dict((p['type'], p['inode']) for p in result.pins)
    assert by_type['net']['inode'] == inodes['net'] and by_type['net']['nsid'] == 5
    assert by_type['pid']['nsid'] is None
    assert len(by_type['pid']['pids']) == 1  # the holder
    assert by_type['net']['pids'] == by_type['pid']['pids']
    assert not any(e['stale'] for e in entries)


def test_stale_pins_are_reported_stale_never_as_namespaces():
    sh('ip', 'netns', 'add', 'gone')
    sh('umount', '/run/netns/gone')
    entries = listing.list_namespaces(['net'])[0]
    assert entries == [
        {
            'name': 'gone',
            'type': 'net',
            'path': '/run/netns/gone',
            'inode': None,
            'stale': True,
            'pids': [],
            'nsid': None,
        }
    ]


def test_non_pins_in_the_directory_are_warned_about_not_listed():
    os.makedirs('/run/netns/subdir')
    entries, warnings = listing.list_namespaces(['net'])
    assert entries == [] and 'is a directory' in warnings[0]


def test_include_unpinned_lists_namespaces_in_use_like_lsns():
    proc = subprocess.Popen(['unshare', '--uts', 'sleep', '60'])
    try:
        import time

        time.sleep(0.2)
        ino = os.stat(f'/proc/{proc.pid}/ns/uts').st_ino
        entries = listing.list_namespaces(['uts'], include_unpinned=True)[0]
        unpinned = [e for e in entries if e['inode'] == ino]
        assert unpinned and unpinned[0]['name'] is None and proc.pid in unpinned[0]['pids']
        own = os.stat('/proc/self/ns/uts').st_ino
        assert any(e['inode'] == own for e in entries)
    finally:
        proc.kill()
