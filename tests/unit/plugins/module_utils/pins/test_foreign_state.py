"""Foreign state around pins (issue 11): symlinked pin directories, files
that are not pins outside the pin directories. Judged by findmnt and ip netns."""

import os
import subprocess

import pytest

from nsoracle import ip_netns_list, mounts_at, nsfs_mounts, pin_kind_and_inode, sh
from waiting import wait_for

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, listing, spec


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
    wait_for(lambda: os.readlink(f'/proc/{proc.pid}/exe').endswith('sleep'))
    os.makedirs('/run/netns')
    open('/run/netns/other', 'w').close()
    sh('mount', '--bind', f'/proc/{proc.pid}/ns/net', '/run/netns/other')
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
    for build in (
        lambda: spec.build('other', pin_dir='/var/run/netns'),
        lambda: spec.build(path='/var/run/netns/other'),
    ):
        result = engine.ensure_present(build())
        assert not result.changed
        assert result.pins[0]['path'] == '/run/netns/other'
        assert result.pins[0]['inode'] == os.stat(f'/proc/{foreign_pin.pid}/ns/net').st_ino
    assert len(mounts_at('/run/netns/other')) == 1, nsfs_mounts()
    result = engine.ensure_absent(spec.build('other', pin_dir='/var/run/netns'))
    assert result.changed and nsfs_mounts() == [] and ip_netns_list() == []


def test_listing_through_a_symlinked_dir_names_canonical_paths(foreign_pin):
    entries = listing.list_namespaces(['net'], pin_dirs={'net': '/var/run/netns'})[0]
    assert [(e['name'], e['path']) for e in entries] == [('other', '/run/netns/other')]


def _empty_file(path, mode):
    # The sandbox's /etc and /var are copy-on-write: make the file as a stock host has it.
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    if not os.path.exists(path):
        open(path, 'w').close()
    os.chmod(path, mode)
    with open(path, 'w'):
        pass
    return os.lstat(path)


def _same_file(path, before):
    after = os.lstat(path)
    return (before.st_ino, before.st_mode, before.st_size) == (after.st_ino, after.st_mode, after.st_size)


FOREIGN_FILES = [
    # (what the user wrote, the file it names, its mode on a stock Debian host)
    (dict(path='/var/lib/dpkg/lock'), '/var/lib/dpkg/lock', 0o640),
    (dict(name='.pwd.lock', pin_dir='/etc'), '/etc/.pwd.lock', 0o600),
    (dict(name='lock', types='uts', pin_dir='/var/lib/dpkg'), '/var/lib/dpkg/lock', 0o640),
]


@pytest.mark.parametrize('args, path, mode', FOREIGN_FILES)
def test_an_empty_file_outside_the_pin_directories_is_never_deleted(args, path, mode):
    before = _empty_file(path, mode)
    for check_mode in (True, False):
        result = engine.ensure_absent(spec.build(**args), check_mode=check_mode)
        assert not result.changed and result.actions == []
        assert any(path in w and 'not a' in w and 'left' in w for w in result.warnings), result.warnings
        assert _same_file(path, before)


@pytest.mark.parametrize('args, path, mode', FOREIGN_FILES)
def test_an_empty_file_outside_the_pin_directories_is_never_mounted_over(args, path, mode):
    before = _empty_file(path, mode)
    for check_mode in (True, False):
        with pytest.raises(NamespaceError) as info:
            engine.ensure_present(spec.build(**args), check_mode=check_mode)
        assert path in str(info.value) and 'not a' in str(info.value) and 'pin' in str(info.value)
        assert repr(args.get('path') or args['pin_dir']) in str(info.value)  # names the option's value
        assert _same_file(path, before)
    assert nsfs_mounts() == []
    assert sh('findmnt', path, check=False).returncode != 0


def test_namespace_info_never_lists_foreign_files_as_stale():
    _empty_file('/etc/.pwd.lock', 0o600)
    entries, warnings = listing.list_namespaces(['net'], pin_dirs={'net': '/etc'})
    assert entries == []
    assert any('/etc' in w and 'not' in w for w in warnings), warnings


def test_a_crash_leftover_in_the_default_pin_directory_is_still_stale():
    os.makedirs('/run/ipcns')
    _empty_file('/run/ipcns/left', 0o644)  # whatever its mode: the directory is ours
    assert listing.list_namespaces(['ipc'])[0][0]['stale']
    result = engine.ensure_present(spec.build('left', 'ipc'))
    assert result.changed and any('stale' in w for w in result.warnings)
    assert pin_kind_and_inode('/run/ipcns/left')[0] == 'ipc'


def test_a_pin_file_left_in_a_custom_pin_dir_under_run_is_stale():
    # What bind_fd and `ip netns add` leave after a crash: an empty mode-000 file.
    os.makedirs('/run/tenant/uts')
    _empty_file('/run/tenant/uts/a', 0)
    result = engine.ensure_absent(spec.build('a', 'uts', pin_dir='/run/tenant/uts'))
    assert result.changed and not os.path.exists('/run/tenant/uts/a')


def test_an_empty_lock_file_in_a_tmpfs_under_run_is_foreign():
    # /run/lock (and /run/user/UID) are mounts of their own full of other
    # programs' empty files: being a mount point makes nothing a pin directory
    os.makedirs('/run/lock', exist_ok=True)
    subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', '/run/lock'], check=True)
    before = _empty_file('/run/lock/myapp.lock', 0o644)
    result = engine.ensure_absent(spec.build('myapp.lock', pin_dir='/run/lock'))
    assert not result.changed and _same_file('/run/lock/myapp.lock', before)
    with pytest.raises(NamespaceError):
        engine.ensure_present(spec.build('myapp.lock', pin_dir='/run/lock'))
    assert _same_file('/run/lock/myapp.lock', before)
    assert [m for m in nsfs_mounts() if 'myapp' in str(m)] == []


def test_an_ordinary_empty_file_in_a_custom_dir_under_run_is_foreign():
    os.makedirs('/run/app')
    before = _empty_file('/run/app/ready', 0o644)
    result = engine.ensure_absent(spec.build('ready', 'uts', pin_dir='/run/app'))
    assert not result.changed and _same_file('/run/app/ready', before)
    with pytest.raises(NamespaceError):
        engine.ensure_present(spec.build('ready', 'uts', pin_dir='/run/app'))
    assert _same_file('/run/app/ready', before) and nsfs_mounts() == []
