"""What a user of the namespace modules sees of foreign files and orphan holders (issue 11)."""

import json
import os
import uuid

from moduleharness import run_module
from nsoracle import nsfs_mounts, sh

from ansible_collections.nsfd.namespaces.plugins.modules import namespace, namespace_info


def test_dpkg_lock_is_neither_deleted_nor_mounted_over(capsys):
    if not os.path.exists('/var/lib/dpkg/lock'):
        os.makedirs('/var/lib/dpkg', exist_ok=True)
        open('/var/lib/dpkg/lock', 'w').close()
    before = os.lstat('/var/lib/dpkg/lock')
    absent = run_module(namespace, {'path': '/var/lib/dpkg/lock', 'state': 'absent'}, capsys)
    assert absent['_exit_code'] == 0 and not absent['changed']
    # ansible-core 2.19 structures warnings; older cores give strings
    assert any('/var/lib/dpkg/lock' in json.dumps(w) and 'left alone' in json.dumps(w) for w in absent['warnings'])
    present = run_module(namespace, {'path': '/var/lib/dpkg/lock'}, capsys)
    assert present['failed'] and "path='/var/lib/dpkg/lock'" in present['msg']  # the option, the value
    assert '/var/lib/dpkg/lock' in present['msg'] and 'not a net namespace pin' in present['msg']
    after = os.lstat('/var/lib/dpkg/lock')
    assert (before.st_ino, before.st_size, before.st_mode) == (after.st_ino, after.st_size, after.st_mode)
    assert nsfs_mounts() == []


def test_info_reports_an_orphan_holder_and_absent_ends_it(capsys):
    name = f'orph-{uuid.uuid4().hex[:8]}'
    run_module(namespace, {'name': name, 'type': ['pid', 'net']}, capsys)
    for path in ('/run/pidns/' + name, '/run/netns/' + name):
        sh('umount', path)
        os.unlink(path)
    info = run_module(namespace_info, {}, capsys)
    orphans = [o for o in info['orphan_holders'] if o['name'] == name]
    assert len(orphans) == 1 and orphans[0]['pin'] == '/run/pidns/' + name
    assert any(name in json.dumps(w) and 'state=absent' in json.dumps(w) for w in info['warnings'])
    absent = run_module(namespace, {'name': name, 'type': ['pid', 'net'], 'state': 'absent'}, capsys)
    assert absent['changed'] and any('orphan' in a for a in absent['actions'])
    info = run_module(namespace_info, {'types': ['pid']}, capsys)
    assert [o for o in info['orphan_holders'] if o['name'] == name] == []
