"""unitprops: what systemd makes of a unit, read from unit files as
systemd does (search path, templates, drop-in order, masking); this
machine's sandbox runs no systemd, so the files are the source."""

import os

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import unitprops


def _write(path, text=''):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), 'w') as handle:
        handle.write(text)
    return str(path)


@pytest.fixture
def dirs(tmp_path):
    return [str(tmp_path / 'etc'), str(tmp_path / 'run'), str(tmp_path / 'lib')]


def test_a_missing_unit_does_not_exist(dirs):
    props = unitprops.from_files('web.service', dirs)
    assert (props.exists, props.masked, props.private_network, props.source) == (False, False, False, 'unit files')


def test_the_first_fragment_in_the_search_path_wins(dirs):
    _write(os.path.join(dirs[2], 'web.service'), '[Service]\nPrivateNetwork=yes\n')
    etc = _write(os.path.join(dirs[0], 'web.service'), '[Service]\nExecStart=/bin/true\n')
    props = unitprops.from_files('web.service', dirs)
    assert props.exists and props.fragment == etc and not props.private_network


def test_an_instance_uses_its_template(dirs):
    template = _write(os.path.join(dirs[1], 'web@.service'), '[Service]\nPrivateNetwork=true\n')
    props = unitprops.from_files('web@blue.service', dirs)
    assert props.fragment == template and props.private_network


def test_masked_by_a_dev_null_link_or_an_empty_file(dirs):
    os.makedirs(dirs[0])
    os.symlink('/dev/null', os.path.join(dirs[0], 'web.service'))
    _write(os.path.join(dirs[2], 'web.service'), '[Service]\n')
    assert unitprops.from_files('web.service', dirs).masked
    _write(os.path.join(dirs[1], 'db.service'))
    assert unitprops.from_files('db.service', dirs).masked


def test_dropins_apply_by_name_and_the_last_private_network_counts(dirs):
    _write(os.path.join(dirs[2], 'web-front-a.service'), '[Service]\nPrivateNetwork=yes\n')
    _write(os.path.join(dirs[2], 'web-front-a.service.d', '10-off.conf'), '[Service]\nPrivateNetwork=no\n')
    # same name in a higher-priority directory wins
    high = _write(os.path.join(dirs[0], 'web-front-a.service.d', '10-off.conf'), '[Service]\nPrivateNetwork=no\n')
    prefix = _write(os.path.join(dirs[1], 'web-.service.d', '20-on.conf'), '[Unit]\nPrivateNetwork=yes\n')
    typed = _write(os.path.join(dirs[2], 'service.d', '30-on.conf'), '[Service]\n PrivateNetwork = on \n')
    assert unitprops.dropins('web-front-a.service', dirs) == [
        ('10-off.conf', high),
        ('20-on.conf', prefix),
        ('30-on.conf', typed),
    ]
    assert unitprops.from_files('web-front-a.service', dirs).private_network
    assert unitprops.assigned_after('web-front-a.service', dirs, '10-off.conf', 'PrivateNetwork') == [(typed, 'on')]
    os.unlink(typed)
    # 20-on sets it in [Unit], where systemd ignores it
    assert not unitprops.from_files('web-front-a.service', dirs).private_network


def test_dash_prefixes_and_dropin_dirs():
    assert unitprops._prefixes('foo-bar-baz.service') == ['foo-bar-.service', 'foo-.service']
    assert unitprops._prefixes('-foo.service') == []
    assert unitprops._dropin_dirs('a-b@x.service') == ['a-b@x.service.d', 'a-b@.service.d', 'a-.service.d', 'service.d']


def test_inspect_reads_the_files_without_systemd(dirs, monkeypatch):
    # the sandbox runs no systemd: the files are the answer, unit_dir first
    monkeypatch.setattr(unitprops, 'systemd_running', lambda: False)
    _write(os.path.join(dirs[0], 'web.service'), '[Service]\n')
    props = unitprops.inspect('web.service', dirs[0])
    assert props.exists and props.fragment == os.path.join(dirs[0], 'web.service')
    assert unitprops.search_path('/etc/systemd/system') == list(unitprops.UNIT_PATH)
    assert unitprops.search_path('/x')[0] == '/x'


def test_systemctl_without_systemd_gives_no_props():
    # systemctl answers but cannot ask systemd: the caller reads the files
    ran = unitprops.systemctl('--version')
    assert ran.returncode in (0, 127)
    assert unitprops.from_systemctl('web.service') is None


def test_netns_inode_of_a_process():
    assert unitprops.netns_inode(os.getpid()) == os.stat('/proc/self/ns/net').st_ino
    assert unitprops.netns_inode(999999999) is None
