"""Boot files: what they rebuild after a simulated reboot is exactly what
netns_config converges (a converge right after finds nothing to change),
and writing them is idempotent, honest in check mode, and reversible."""

import os
import subprocess
import time

import pytest
from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import files as boot_files
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate

DECLARATION = [
    {'name': 'edge', 'nsid': 40,
     'links': [
         {'name': 'br0', 'kind': 'bridge', 'addresses': ['192.168.7.1/24'], 'mtu': 1400},
         {'name': 'eth0', 'kind': 'veth', 'address': '02:00:00:00:aa:01', 'addresses': ['10.44.0.2/30', 'fd44::2/64'],
          'peer': {'name': 'edge-host', 'addresses': ['10.44.0.1/30'], 'mtu': 1450}},
         {'name': 'tocore', 'kind': 'veth', 'addresses': ['10.45.0.1/30'],
          'peer': {'name': 'toedge', 'netns': 'core', 'addresses': ['10.45.0.2/30'], 'master': 'cbr'}}],
     'routes': [{'dst': 'default', 'via': '10.44.0.1', 'metric': 5},
                {'dst': '198.51.100.0/24', 'dev': 'tocore', 'table': 100},
                {'dst': '2001:db8:44::/48', 'via': 'fd44::1'}],
     'sysctls': {'net.ipv4.ip_forward': 1, 'net/ipv4/conf/eth0/rp_filter': 2}},
    {'name': 'core', 'loopback': False,
     'links': [{'name': 'cbr', 'kind': 'bridge', 'state': 'down'}]},
    {'name': 'gone', 'state': 'absent'},
]


def _options(tmp):
    return boot_files.BootOptions(boot_dir=os.path.join(tmp, 'boot'), unit_dir=os.path.join(tmp, 'units'))


def _exec_start_lines(options):
    with open(options.unit_path) as handle:
        return [line[len('ExecStart='):].strip() for line in handle if line.startswith('ExecStart=')]


def _reboot():
    """What a reboot does to namespaces: every pin and namespace is gone,
    and the host ends of their veths with them."""
    for name in ip_netns_list():
        sh('ip', 'netns', 'del', name)
    sh('umount', '-l', '/run')
    sh('mount', '-t', 'tmpfs', 'tmpfs', '/run')
    # The kernel frees namespaces asynchronously: their nsids go first, the
    # host ends of their veths only later. This test's sandbox started with
    # nothing but lo, so a reboot is complete when that is all that is left.
    deadline = time.time() + 20
    while time.time() < deadline:
        if not sh('ip', 'netns', 'list-id').stdout.strip() and _host_links() == ['lo']:
            return
        time.sleep(0.05)
    raise AssertionError('namespaces not freed after 20 s: %s' % _host_links())


def _host_links():
    return sorted(line.split(': ')[1].split('@')[0] for line in sh('ip', '-o', 'link').stdout.splitlines())


def test_boot_files_rebuild_exactly_what_netns_config_declares(tmp_path):
    options = _options(str(tmp_path))
    for outcome in converge.converge(DECLARATION):
        assert not outcome.failed, outcome.failed
    boot_files.ensure_present(validate(DECLARATION), options)
    _reboot()
    assert ip_netns_list() == []
    for line in _exec_start_lines(options):
        subprocess.run(line, shell=True, check=True)
    assert sorted(ip_netns_list()) == ['core', 'edge']
    # the oracle: netns_config finds nothing left to do
    outcomes = converge.converge(DECLARATION, check_mode=True)
    assert [(o.name, o.changes) for o in outcomes] == [('edge', []), ('core', []), ('gone', [])]
    assert 'nsid 40 (iproute2 netns name: edge)' in sh('ip', 'netns', 'list-id').stdout
    assert sh('ip', 'netns', 'exec', 'edge', 'cat', '/proc/sys/net/ipv4/conf/eth0/rp_filter').stdout.strip() == '2'


def test_script_goes_on_after_a_failing_namespace_and_says_so(tmp_path):
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate([{'name': 'a'}, {'name': 'b', 'links': [{'name': 'd0', 'kind': 'bridge'}]}]),
                              options)
    sh('ip', 'netns', 'add', 'b')  # a missing: its batch fails, b's must still run
    script = os.path.join(options.boot_dir, 'namespaces.sh')
    proc = subprocess.run(['/bin/sh', script], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert 'd0' in sh('ip', '-n', 'b', 'link').stdout


def test_writing_is_idempotent_and_check_mode_touches_nothing(tmp_path):
    options = _options(str(tmp_path))
    decls = validate(DECLARATION)
    planned = boot_files.ensure_present(decls, options, check_mode=True)
    assert not os.path.exists(options.boot_dir) and not os.path.exists(options.unit_dir)
    done = boot_files.ensure_present(decls, options)
    assert [c.text for c in planned] == [c.text for c in done]
    assert boot_files.ensure_present(decls, options) == []
    for link in options.wants_links():
        assert os.readlink(link) == options.unit_path
    assert os.stat(os.path.join(options.boot_dir, 'namespaces.sh')).st_mode & 0o777 == 0o755
    with open(os.path.join(options.boot_dir, 'host.batch')) as handle:
        assert 'gone' not in handle.read()


def test_absent_removes_everything_it_wrote(tmp_path):
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(DECLARATION), options)
    planned = boot_files.ensure_absent(options, check_mode=True)
    assert os.path.exists(options.unit_path)
    done = boot_files.ensure_absent(options)
    assert [c.text for c in planned] == [c.text for c in done]
    assert not os.path.exists(options.boot_dir) and not os.path.lexists(options.unit_path)
    assert not any(os.path.lexists(link) for link in options.wants_links())
    assert boot_files.ensure_absent(options) == []


@pytest.mark.parametrize('bad, where', [
    ({'name': 'a#b'}, 'namespaces[0].name'),
    ({'name': 'a', 'links': [{'name': 'e;0', 'kind': 'bridge'}]}, 'namespaces[0].links[0].name'),
    ({'name': 'a', 'links': [{'name': 'e0', 'kind': 'veth', 'peer': {'name': "p'0"}}]}, 'namespaces[0].links[0].peer.name'),
])
def test_names_that_cannot_go_into_boot_files_fail_before_any_write(tmp_path, bad, where):
    options = _options(str(tmp_path))
    with pytest.raises(NamespaceError) as caught:
        boot_files.ensure_present(validate([bad]), options)
    assert where in str(caught.value)
    assert not os.path.exists(options.boot_dir)
