"""Pins made by iproute2 and util-linux are ours, and ours are theirs."""

import os
import subprocess

from nsoracle import ip_netns_list, lsns, pin_kind_and_inode, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, listing, spec


def test_ip_netns_add_pin_is_present_and_unchanged():
    sh('ip', 'netns', 'add', 'theirs')
    ino = pin_kind_and_inode('/run/netns/theirs')[1]
    result = engine.ensure_present(spec.build('theirs'))
    assert not result.changed
    assert result.pins[0]['inode'] == ino


def test_unshare_file_pins_are_present_and_unchanged():
    os.makedirs('/run/utsns')
    open('/run/utsns/ul', 'w').close()
    sh('unshare', '--uts=/run/utsns/ul', 'true')
    result = engine.ensure_present(spec.build('ul', 'uts'))
    assert not result.changed


def test_our_net_pin_works_with_ip_netns_exec_identify_pids_and_nsenter():
    engine.ensure_present(spec.build('ours'))
    assert ip_netns_list() == ['ours']
    sh('ip', 'netns', 'exec', 'ours', 'ip', 'link', 'set', 'lo', 'up')
    assert 'UP' in sh('ip', '-n', 'ours', 'link', 'show', 'lo').stdout
    assert sh('nsenter', '--net=/run/netns/ours', 'ip', 'netns', 'identify').stdout.strip() == 'ours'
    proc = subprocess.Popen(['ip', 'netns', 'exec', 'ours', 'sleep', '60'])
    try:
        import time

        deadline = time.time() + 5
        while str(proc.pid) not in sh('ip', 'netns', 'pids', 'ours').stdout:
            assert time.time() < deadline
            time.sleep(0.02)
        assert sh('ip', 'netns', 'identify', str(proc.pid)).stdout.strip() == 'ours'
    finally:
        proc.kill()
    sh('ip', 'netns', 'delete', 'ours')
    assert not engine.ensure_absent(spec.build('ours')).changed


def test_ip_netns_delete_removes_our_pin_and_ip_netns_set_nsid_shows_in_info():
    engine.ensure_present(spec.build('idd'))
    sh('ip', 'netns', 'set', 'idd', '42')
    entries = listing.list_namespaces(['net'], names=['idd'])[0]
    assert entries[0]['nsid'] == 42
    sh('ip', 'netns', 'delete', 'idd')
    assert ip_netns_list() == []


def test_lsns_sees_a_pinned_namespace_once_a_process_is_inside():
    result = engine.ensure_present(spec.build('seen', ['uts', 'ipc']))
    proc = subprocess.Popen(['nsenter', '--uts=/run/utsns/seen', '--ipc=/run/ipcns/seen', 'sleep', '60'])
    try:
        import time

        deadline = time.time() + 5
        while not all(_inode_of(proc.pid, pin['type']) == pin['inode'] for pin in result.pins):
            assert time.time() < deadline, 'nsenter did not enter in time'
            time.sleep(0.02)
        for pin in result.pins:
            assert lsns(pin['type'])[pin['inode']]['pid'] == proc.pid
    finally:
        proc.kill()


def test_lsns_and_proc_agree_with_a_holder_inode():
    result = engine.ensure_present(spec.build('pp', 'pid'))
    ino = result.pins[0]['inode']
    assert ino in lsns('pid')


def _inode_of(pid, nstype):
    try:
        return os.stat(f'/proc/{pid}/ns/{nstype}').st_ino
    except OSError:
        return None
