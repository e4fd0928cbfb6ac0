"""namespace_host owns exactly what its record, its marker and its pins prove
it made (issue 22): a directory, a pin or a record it cannot prove is its own
is left alone and reported, never removed."""

import json
import os
import resource
import time

import pytest

from nsoracle import HOST_TYPES as TYPES, PIN_DIRS, ip_netns_list, running, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec as hostspec


@pytest.fixture
def data_dir(tmp_path):
    # on the machine's filesystem: the sandbox's own /var is an overlay
    path = str(tmp_path / 'hosts')
    os.makedirs(path)
    return path


def converge(name, data_dir, **kwargs):
    return engine.converge(hostspec.build(name=name, data_dir=data_dir, **kwargs))


def lab(address):
    return {'name': 'nsfd-lab', 'address': address}


def kill_init(pid):
    os.kill(pid, 9)
    deadline = time.monotonic() + 5
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


def pinned(name):
    return sorted(t for t in TYPES if os.path.lexists(os.path.join(PIN_DIRS[t], name)))


def project(data_dir, name):
    """A user's directory in data_dir that no host ever made."""
    path = os.path.join(data_dir, name)
    os.makedirs(os.path.join(path, 'src'))
    with open(os.path.join(path, 'src', 'main.c'), 'w') as handle:
        handle.write('int main(void) { return 0; }\n')
    return path


# 1. a directory is the host's only when its record or marker is there


def test_absent_leaves_a_directory_that_never_was_a_host(data_dir):
    path = project(data_dir, 'proj')
    gone = converge('proj', data_dir, state='absent')
    assert not gone.changed, gone.as_dict()
    assert any(path in warning for warning in gone.warnings), gone.warnings
    assert os.path.isfile(os.path.join(path, 'src', 'main.c'))


def test_started_refuses_a_directory_that_is_not_a_hosts(data_dir):
    path = project(data_dir, 'h1')
    with pytest.raises(NamespaceError) as exc:
        converge('h1', data_dir)
    assert path in str(exc.value) and 'not' in str(exc.value), str(exc.value)
    assert sorted(os.listdir(path)) == ['src'] and os.path.isfile(os.path.join(path, 'src', 'main.c'))
    assert pinned('h1') == [] and 'h1' not in sh('ps', '-e', '-o', 'args=').stdout.split()


def test_absent_removes_what_the_host_made_and_leaves_what_someone_put_beside_it(data_dir):
    converge('h1', data_dir)
    notes = os.path.join(data_dir, 'h1', 'notes.txt')
    with open(notes, 'w') as handle:
        handle.write('mine\n')
    gone = converge('h1', data_dir, state='absent')
    assert gone.changed and pinned('h1') == []
    assert sorted(os.listdir(os.path.join(data_dir, 'h1'))) == ['notes.txt']
    assert any(notes in warning or 'notes.txt' in warning for warning in gone.warnings), gone.warnings


def test_an_empty_directory_is_taken_and_the_host_leaves_nothing(data_dir):
    os.makedirs(os.path.join(data_dir, 'h1'))
    assert converge('h1', data_dir).changed
    assert converge('h1', data_dir, state='absent').changed
    assert not os.path.exists(os.path.join(data_dir, 'h1')) and pinned('h1') == []


# 5. a pin is the host's only when it holds the namespace the host made


def test_a_namespace_pinned_under_the_name_after_the_init_died_is_left_alone(data_dir):
    pid = converge('h1', data_dir).host['pid']
    kill_init(pid)
    sh('ip', 'netns', 'delete', 'h1')
    sh('ip', 'netns', 'add', 'h1')
    theirs = os.stat('/run/netns/h1').st_ino
    with pytest.raises(NamespaceError) as exc:
        converge('h1', data_dir)
    assert 'not this host' in str(exc.value) and '/run/netns/h1' in str(exc.value), str(exc.value)
    assert os.stat('/run/netns/h1').st_ino == theirs
    gone = converge('h1', data_dir, state='absent')
    assert gone.changed and any('/run/netns/h1' in warning for warning in gone.warnings), gone.warnings
    assert os.stat('/run/netns/h1').st_ino == theirs, 'someone else\'s namespace was unpinned'
    assert pinned('h1') == ['net'] and not os.path.exists(os.path.join(data_dir, 'h1'))


def test_a_namespace_pinned_under_the_name_of_a_running_host_is_not_replaced(data_dir):
    pid = converge('h1', data_dir).host['pid']
    sh('ip', 'netns', 'delete', 'h1')
    sh('ip', 'netns', 'add', 'h1')
    theirs = os.stat('/run/netns/h1').st_ino
    with pytest.raises(NamespaceError, match='not this host'):
        converge('h1', data_dir)
    assert os.stat('/run/netns/h1').st_ino == theirs and running(pid)


def test_a_record_from_before_pin_ids_still_restarts_its_host(data_dir):
    # records written before issue 22 kept no pin ids: their pins are the host's, as they were then
    pid = converge('h1', data_dir).host['pid']
    path = os.path.join(data_dir, 'h1', 'host.json')
    with open(path) as handle:
        old = json.load(handle)
    for key in ('pin_ids', 'pin_boot'):
        del old[key]
    with open(path, 'w') as handle:
        json.dump(old, handle)
    os.remove(os.path.join(data_dir, 'h1', '.nsfd-host'))
    kill_init(pid)
    again = converge('h1', data_dir)
    assert again.changed and again.host['running'] and again.host['pid'] != pid
    assert converge('h1', data_dir, state='absent').changed
    assert pinned('h1') == [] and not os.path.exists(os.path.join(data_dir, 'h1'))


# 6. shared_paths under the usual soft limit of open files


def test_shared_paths_start_under_the_usual_open_files_limit(data_dir, tmp_path):
    shared = tmp_path / 'checkout'
    shared.mkdir()
    (shared / 'README').write_text('seen\n')
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    result = converge('h1', data_dir, shared_paths=[str(shared)])
    assert result.changed and result.host['running']
    assert sh('nsenter', '--mount=/run/mntns/h1', 'cat', str(shared / 'README')).stdout == 'seen\n'


# 7. a damaged record


def damage(data_dir, name):
    path = os.path.join(data_dir, name, 'host.json')
    with open(path) as handle:
        text = handle.read()
    with open(path, 'w') as handle:
        handle.write(text[: len(text) // 3])


def test_a_damaged_record_fails_started_and_absent_ends_the_host(data_dir):
    first = converge('h1', data_dir, lab=lab('10.77.0.1/24')).host['pid']
    second = converge('h2', data_dir, lab=lab('10.77.0.2/24')).host['pid']
    damage(data_dir, 'h1')
    listed = engine.info(data_dir)
    assert [h['name'] for h in listed] == ['h1', 'h2'], listed
    assert listed[0].get('damaged') and not listed[1].get('damaged') and listed[1]['running']
    # another host's damaged record is no business of h2's runs
    assert not converge('h2', data_dir, lab=lab('10.77.0.2/24')).changed
    with pytest.raises(NamespaceError, match='state: absent'):
        converge('h1', data_dir, lab=lab('10.77.0.1/24'))
    gone = converge('h1', data_dir, state='absent')
    assert gone.changed and not running(first) and running(second)
    assert pinned('h1') == [] and not os.path.exists(os.path.join(data_dir, 'h1'))
    assert sorted(ip_netns_list()) == ['h2', 'nsfd-lab']
    assert [
        p['ifname'] for p in json.loads(sh('ip', '-n', 'nsfd-lab', '-j', 'link', 'show', 'master', 'labbr0').stdout)
    ] == [hostspec.lab_end_name('h2')]
    converge('h2', data_dir, state='absent')
    assert ip_netns_list() == []


def test_absent_of_the_last_host_with_a_damaged_record_removes_its_lab(data_dir):
    pid = converge('h1', data_dir, lab=lab('10.77.0.1/24')).host['pid']
    damage(data_dir, 'h1')
    assert converge('h1', data_dir, state='absent').changed
    assert not running(pid) and ip_netns_list() == [] and not os.path.exists(os.path.join(data_dir, 'h1'))


# 8. errors of the machine are module errors naming the host, the path and the errno


def test_an_os_error_is_a_module_error_naming_host_path_and_errno(tmp_path):
    read_only = tmp_path / 'ro'
    read_only.mkdir()
    sh('mount', '-t', 'tmpfs', '-o', 'ro', 'tmpfs', str(read_only))  # in the test's own mount namespace
    with pytest.raises(NamespaceError) as exc:
        converge('h1', str(read_only / 'hosts'))
    message = str(exc.value)
    assert "'h1'" in message and str(read_only / 'hosts') in message and 'EROFS' in message, message
