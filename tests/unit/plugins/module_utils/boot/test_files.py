"""Boot files: what they rebuild after a simulated reboot is exactly what
netns_config converges (a converge right after finds nothing to change),
and writing them is idempotent, honest in check mode, and reversible."""

import json
import os
import subprocess
import time

import pytest
from nsoracle import ip_netns_list, nsfs_mounts, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import files as boot_files
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate

DECLARATION = [
    {
        'name': 'edge',
        'nsid': 40,
        'links': [
            {'name': 'br0', 'kind': 'bridge', 'addresses': ['192.168.7.1/24'], 'mtu': 1400},
            {
                'name': 'eth0',
                'kind': 'veth',
                'address': '02:00:00:00:aa:01',
                'addresses': ['10.44.0.2/30', 'fd44::2/64'],
                'peer': {'name': 'edge-host', 'addresses': ['10.44.0.1/30'], 'mtu': 1450},
            },
            {
                'name': 'tocore',
                'kind': 'veth',
                'addresses': ['10.45.0.1/30'],
                'peer': {'name': 'toedge', 'netns': 'core', 'addresses': ['10.45.0.2/30'], 'master': 'cbr'},
            },
        ],
        'routes': [
            {'dst': 'default', 'via': '10.44.0.1', 'metric': 5},
            {'dst': '198.51.100.0/24', 'dev': 'tocore', 'table': 100},
            {'dst': '2001:db8:44::/48', 'via': 'fd44::1'},
        ],
        'sysctls': {'net.ipv4.ip_forward': 1, 'net/ipv4/conf/eth0/rp_filter': 2},
    },
    {'name': 'core', 'loopback': False, 'links': [{'name': 'cbr', 'kind': 'bridge', 'state': 'down'}]},
    {'name': 'gone', 'state': 'absent'},
]


def _options(tmp):
    return boot_files.BootOptions(boot_dir=os.path.join(tmp, 'boot'), unit_dir=os.path.join(tmp, 'units'))


def _exec_start_lines(options):
    with open(options.unit_path) as handle:
        return [line[len('ExecStart=') :].strip() for line in handle if line.startswith('ExecStart=')]


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
    raise AssertionError(f'namespaces not freed after 20 s: {_host_links()}')


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


def _run_unit(options):
    """What systemd does on start or restart: the ExecStart lines, in order;
    the first that fails fails the unit."""
    for line in _exec_start_lines(options):
        proc = subprocess.run(line, shell=True, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return proc
    return proc


def _state():
    """What iproute2 shows of the host and every namespace: links (kind,
    mtu, MAC, master, state), addresses, routes of all tables, nsids,
    and whether each pin is an nsfs mount (findmnt)."""

    def links(prefix):
        out = []
        for link in json.loads(sh(*(prefix + ['-j', '-d', 'link', 'show'])).stdout):
            out.append(
                (
                    link['ifname'],
                    link.get('linkinfo', {}).get('info_kind'),
                    link['mtu'],
                    link.get('address'),
                    link.get('master'),
                    link['operstate'] if link['ifname'] != 'lo' else None,
                    'UP' in link['flags'],
                )
            )
        return sorted(out)

    def addresses(prefix):
        return sorted(
            (a['ifname'], i['local'], i['prefixlen'])
            for a in json.loads(sh(*(prefix + ['-j', 'addr'])).stdout)
            for i in a['addr_info']
        )

    def routes(prefix):
        return sorted(
            json.dumps(r, sort_keys=True)
            for family in ('-4', '-6')
            for r in json.loads(sh(*(prefix + [family, '-j', 'route', 'show', 'table', 'all'])).stdout)
        )

    state = {
        'netns': sh('ip', 'netns', 'list').stdout,
        'pins': sorted(m['target'] for m in nsfs_mounts() if m['target'].startswith('/run/netns/')),
    }
    for name in [None] + ip_netns_list():
        prefix = ['ip'] if name is None else ['ip', '-n', name]
        state[name or ''] = (links(prefix), addresses(prefix), routes(prefix))
    return state


def _settled_state():
    """_state() once the kernel is done reacting (carrier up, IPv6 link-local
    addresses, duplicate address detection and its local routes): no
    address tentative, and the same twice in a row."""
    deadline = time.time() + 20
    last = None
    while time.time() < deadline:
        now = _state()
        if now == last and not _tentative():
            return now
        last = now
        time.sleep(0.3)
    raise AssertionError('the namespaces did not settle within 20 s')


def _tentative():
    return [
        (name, i['local'])
        for name in [None] + ip_netns_list()
        for a in json.loads(sh(*((['ip'] if name is None else ['ip', '-n', name]) + ['-j', 'addr'])).stdout)
        for i in a['addr_info']
        if i.get('tentative')
    ]


def _converged():
    outcomes = converge.converge(DECLARATION, check_mode=True)
    return [(o.name, o.changes) for o in outcomes] == [('edge', []), ('core', []), ('gone', [])]


def test_restarting_the_unit_succeeds_and_changes_nothing(tmp_path):
    """Issue 11: a restart failed at the first existing namespace (File exists)."""
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(DECLARATION), options)
    first = _run_unit(options)
    assert first.returncode == 0, first.stderr
    assert _converged()
    before = _settled_state()
    again = _run_unit(options)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ''
    assert _settled_state() == before


def _precreate_namespace():
    sh('ip', 'netns', 'add', 'core')


def _precreate_veth():
    sh('ip', 'netns', 'add', 'edge')
    sh('ip', 'netns', 'set', 'edge', '40')  # else the veth makes the kernel pick one
    sh('ip', 'link', 'add', 'name', 'edge-host', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', 'edge')


def _precreate_stale_pin():
    os.makedirs('/run/netns', exist_ok=True)
    open('/run/netns/edge', 'w').close()


def _precreate_nsid_and_bridge():
    sh('ip', 'netns', 'add', 'edge')
    sh('ip', 'netns', 'set', 'edge', '40')
    sh('ip', '-n', 'edge', 'link', 'add', 'br0', 'type', 'bridge')


@pytest.mark.parametrize(
    'precreate', [_precreate_namespace, _precreate_veth, _precreate_stale_pin, _precreate_nsid_and_bridge]
)
def test_boot_builds_the_rest_whatever_already_exists(tmp_path, precreate):
    """Issue 11: at a boot where one declared namespace existed already,
    every later namespace and veth was never built."""
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(DECLARATION), options)
    precreate()
    proc = _run_unit(options)
    assert proc.returncode == 0, proc.stderr
    assert ip_netns_list() == ['core', 'edge']
    # live pins, not files: findmnt sees an nsfs mount at each
    assert sorted(m['target'] for m in nsfs_mounts()) == ['/run/netns/core', '/run/netns/edge']
    assert 'nsid 40 (iproute2 netns name: edge)' in sh('ip', 'netns', 'list-id').stdout
    assert _converged()


def test_a_failing_item_skips_nothing_else_and_the_exit_status_says_so(tmp_path):
    options = _options(str(tmp_path))
    boot_files.ensure_present(
        validate(
            [
                {
                    'name': 'a',
                    'links': [
                        {'name': 'v0', 'kind': 'vlan', 'parent': 'nosuch0', 'vlan_id': 5, 'addresses': ['10.8.0.1/24']},
                        {'name': 'e0', 'kind': 'veth', 'addresses': ['10.9.0.1/24'], 'peer': {'name': 'h0'}},
                    ],
                },
                {'name': 'b', 'links': [{'name': 'br0', 'kind': 'bridge'}]},
            ]
        ),
        options,
    )
    proc = _run_unit(options)
    assert proc.returncode == 1
    # the vlan (a cross link) and its settings (lines in a's batch before e0's) fail ...
    assert 'namespace a: cannot add vlan link v0' in proc.stderr
    assert 'namespace a: some settings failed' in proc.stderr
    # ... and nothing else is skipped
    assert ip_netns_list() == ['a', 'b']
    assert '10.9.0.1/24' in sh('ip', '-n', 'a', 'addr', 'show', 'dev', 'e0').stdout
    assert 'br0' in sh('ip', '-n', 'b', 'link').stdout


def test_moved_renamed_and_macvlan_links_converge_on_a_second_run(tmp_path):
    """A physical link is moved in and renamed once; a second run finds it
    under its new name (a veth end on the host stands in for a NIC)."""
    sh('ip', 'link', 'add', 'nic0', 'type', 'veth', 'peer', 'name', 'nic1')
    declaration = [
        {
            'name': 'lan',
            'links': [
                {'name': 'uplink', 'kind': 'physical', 'parent': 'nic0', 'addresses': ['10.7.0.2/24']},
                {'name': 'mv0', 'kind': 'macvlan', 'parent': 'nic1', 'mode': 'bridge', 'addresses': ['10.7.1.2/24']},
            ],
        }
    ]
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(declaration), options)
    for run in (1, 2):
        proc = _run_unit(options)
        assert proc.returncode == 0, (run, proc.stderr)
    assert proc.stderr == ''
    assert 'nic0' not in sh('ip', 'link').stdout
    assert '10.7.0.2/24' in sh('ip', '-n', 'lan', 'addr', 'show', 'dev', 'uplink').stdout
    assert '10.7.1.2/24' in sh('ip', '-n', 'lan', 'addr', 'show', 'dev', 'mv0').stdout
    assert [(o.name, o.changes) for o in converge.converge(declaration, check_mode=True)] == [('lan', [])]


def test_a_namespace_with_another_nsid_is_reported_and_the_rest_built(tmp_path):
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(DECLARATION), options)
    sh('ip', 'netns', 'add', 'edge')
    sh('ip', 'netns', 'set', 'edge', '7')
    proc = _run_unit(options)
    assert proc.returncode == 1
    assert 'namespace edge has nsid 7, not 40: the kernel cannot change it' in proc.stderr
    assert proc.stderr.count('nsfd-netns:') == 2  # that, and the summary line naming the item
    outcomes = converge.converge(DECLARATION, check_mode=True)
    assert [(o.name, o.changes) for o in outcomes if o.name != 'edge'] == [('core', []), ('gone', [])]
    assert 'toedge' in sh('ip', '-n', 'core', 'link').stdout
    assert '10.44.0.2/30' in sh('ip', '-n', 'edge', 'addr').stdout


def test_commands_with_quotes_percent_and_blanks_are_quoted_exactly(tmp_path):
    """ip_command and sysctl_command only reach the script, quoted for sh."""
    weird = tmp_path / "it's 100% $HOME \\ \"bin\""
    weird.mkdir()
    os.symlink('/usr/sbin/ip', str(weird / 'ip'))
    os.symlink('/usr/sbin/sysctl', str(weird / 'sysctl'))
    options = boot_files.BootOptions(
        boot_dir=str(tmp_path / 'boot'),
        unit_dir=str(tmp_path / 'units'),
        ip_command=str(weird / 'ip'),
        sysctl_command=str(weird / 'sysctl'),
    )
    boot_files.ensure_present(validate([{'name': 'q', 'sysctls': {'net.ipv4.ip_forward': 1}}]), options)
    proc = _run_unit(options)
    assert proc.returncode == 0, proc.stderr
    assert ip_netns_list() == ['q']
    assert sh('ip', 'netns', 'exec', 'q', 'cat', '/proc/sys/net/ipv4/ip_forward').stdout.strip() == '1'


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
    with open(os.path.join(options.boot_dir, 'namespaces.sh')) as handle:
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


@pytest.mark.parametrize(
    'bad, where',
    [
        ({'name': 'a#b'}, 'namespaces[0].name'),
        ({'name': 'a', 'links': [{'name': 'e;0', 'kind': 'bridge'}]}, 'namespaces[0].links[0].name'),
        (
            {'name': 'a', 'links': [{'name': 'e0', 'kind': 'veth', 'peer': {'name': "p'0"}}]},
            'namespaces[0].links[0].peer.name',
        ),
        ({'name': 'a', 'links': [{'name': '-x', 'kind': 'bridge'}]}, 'namespaces[0].links[0].name'),
        ({'name': 'a', 'routes': [{'dst': 'default', 'dev': '-n'}]}, 'namespaces[0].routes[0].dev'),
        (
            {'name': 'a', 'links': [{'name': 'vx0', 'kind': 'vxlan', 'vni': 7, 'underlay_dev': 'e$(id)'}]},
            'namespaces[0].links[0].underlay_dev',
        ),
        # a final newline would end the script line and start another
        (
            {'name': 'a', 'links': [{'name': 'vx0', 'kind': 'vxlan', 'vni': 7, 'underlay_dev': 'e0\n'}]},
            'namespaces[0].links[0].underlay_dev',
        ),
    ],
)
def test_names_that_cannot_go_into_boot_files_fail_before_any_write(tmp_path, bad, where):
    options = _options(str(tmp_path))
    with pytest.raises(NamespaceError) as caught:
        boot_files.ensure_present(validate([bad]), options)
    assert where in str(caught.value)
    assert not os.path.exists(options.boot_dir)


VXLAN = [
    {
        'name': 'red',
        'links': [
            {'name': 'br100', 'kind': 'bridge', 'addresses': ['10.200.0.11/24']},
            {
                'name': 'vx100',
                'kind': 'vxlan',
                'vni': 100,
                'local': '10.77.0.1',
                'underlay_dev': 'u1',
                'learning': False,
                'mtu': 1400,
                'master': 'br100',
                'fdb': [
                    {'mac': '00:00:00:00:00:00', 'dst': '10.77.0.2'},
                    {'mac': '00:00:00:00:00:00', 'dst': '10.77.0.3'},
                    {'mac': '02:00:00:00:00:01', 'dst': '10.77.0.3'},
                ],
            },
        ],
    }
]


def test_vxlan_links_and_fdb_entries_are_rebuilt_and_a_restart_changes_nothing(tmp_path):
    """Issue 13: the vxlan is created from the host (its socket stays
    there), its entries appended; a rerun adds nothing twice and fails
    nothing; netns_config then finds nothing to do, also after a reboot."""
    sh('ip', 'link', 'add', 'u1', 'type', 'bridge')  # the underlay device, which a reboot keeps
    sh('ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'u1')
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(VXLAN), options)
    for run in ('boot', 'restart'):
        proc = _run_unit(options)
        assert proc.returncode == 0 and proc.stderr == '', (run, proc.stderr)
        assert [(o.name, o.changes) for o in converge.converge(VXLAN, check_mode=True)] == [('red', [])], run
    link = json.loads(sh('ip', '-n', 'red', '-d', '-j', 'link', 'show', 'dev', 'vx100').stdout)[0]
    assert 'link_netnsid' in link, 'the socket is on the host'
    entries = [
        e for e in json.loads(sh('bridge', '-n', 'red', '-j', 'fdb', 'show', 'dev', 'vx100').stdout) if 'dst' in e
    ]
    assert len(entries) == 3
    for name in ip_netns_list():
        sh('ip', 'netns', 'del', name)
    # the kernel frees the namespace, its vxlan and the VNI on the host's socket asynchronously
    deadline = time.time() + 20
    while sh('ss', '-Huan', 'sport', '= :4789').stdout.strip():
        assert time.time() < deadline, 'the vxlan socket outlived its namespace for 20 s'
        time.sleep(0.05)
    proc = _run_unit(options)
    assert proc.returncode == 0, proc.stderr
    assert [(o.name, o.changes) for o in converge.converge(VXLAN, check_mode=True)] == [('red', [])]


def test_the_script_run_right_after_a_teardown_waits_for_the_vni_and_host_end_to_be_freed(tmp_path):
    """Issue 22: a namespace deleted a moment before the unit runs still
    holds its vxlan's VNI (on the host's socket) and its veth's host end
    until the kernel has freed it, which it does only once nothing holds it:
    a process still inside stands for that moment here (deterministically,
    for about a second). The script failed on the VNI; now it waits."""
    sh('ip', 'link', 'add', 'u1', 'type', 'bridge')
    sh('ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'u1')
    declared = [
        dict(
            VXLAN[0],
            links=VXLAN[0]['links']
            + [{'name': 'eth0', 'kind': 'veth', 'addresses': ['10.44.0.2/30'], 'peer': {'name': 'red-host'}}],
        )
    ]
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(declared), options)
    proc = _run_unit(options)
    assert proc.returncode == 0, proc.stderr
    holder = subprocess.Popen(['ip', 'netns', 'exec', 'red', 'sleep', '1'])
    try:
        time.sleep(0.2)  # the holder is inside
        sh('ip', 'netns', 'del', 'red')
        assert 'red-host' in _host_links(), 'the dying namespace still holds the host end'
        proc = _run_unit(options)
    finally:
        holder.wait()
    assert proc.returncode == 0, proc.stderr
    assert [(o.name, o.changes) for o in converge.converge(declared, check_mode=True)] == [('red', [])]


def test_a_link_add_failing_for_another_cause_is_not_retried(tmp_path):
    """Only a name or VNI still taken is waited for: a vxlan on a missing
    underlay device fails at once, and the rest is still built."""
    declared = [
        {
            'name': 'red',
            'links': [
                {'name': 'vx100', 'kind': 'vxlan', 'vni': 100, 'local': '10.77.0.1', 'underlay_dev': 'nodev'},
                {'name': 'br0', 'kind': 'bridge'},
            ],
        }
    ]
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate(declared), options)
    started = time.time()
    proc = _run_unit(options)
    assert proc.returncode != 0 and 'cannot add vxlan link vx100' in proc.stderr, proc.stderr
    assert time.time() - started < 3, 'retried'
    assert 'br0' in sh('ip', '-n', 'red', '-o', 'link').stdout


def test_host_batch_of_earlier_versions_is_replaced_by_the_script(tmp_path):
    """Files written before the boot script converged: host.batch (which a
    second run failed on) goes, the unit runs namespaces.sh alone."""
    options = _options(str(tmp_path))
    legacy = os.path.join(options.boot_dir, 'host.batch')
    os.makedirs(options.boot_dir)
    with open(legacy, 'w') as handle:
        handle.write(boot_files.HEADER + 'netns add edge\n')
    planned = boot_files.ensure_present(validate(DECLARATION), options, check_mode=True)
    assert os.path.exists(legacy)
    done = boot_files.ensure_present(validate(DECLARATION), options)
    assert [c.text for c in planned] == [c.text for c in done]
    assert f'remove {legacy} (replaced by namespaces.sh)' in [c.text for c in done]
    assert not os.path.exists(legacy)
    assert _exec_start_lines(options) == [f'/bin/sh {os.path.join(options.boot_dir, "namespaces.sh")}']
    assert boot_files.ensure_present(validate(DECLARATION), options) == []


def _fdb_destinations(netns, dev):
    return [e for e in json.loads(sh('bridge', '-n', netns, '-j', 'fdb', 'show', 'dev', dev).stdout) if 'dst' in e]


def test_ip_command_without_bridge_beside_it_finds_bridge_in_path(tmp_path):
    """Issue 22: Debian's ip is /bin/ip, its bridge /sbin/bridge. An
    ip_command whose directory has no bridge takes the one in PATH."""
    sh('ip', 'link', 'add', 'u1', 'type', 'bridge')
    sh('ip', 'addr', 'add', '10.77.0.1/24', 'dev', 'u1')
    bindir = tmp_path / 'bin'
    bindir.mkdir()
    os.symlink(sh('sh', '-c', 'command -v ip').stdout.strip(), str(bindir / 'ip'))
    options = boot_files.BootOptions(
        boot_dir=str(tmp_path / 'boot'), unit_dir=str(tmp_path / 'units'), ip_command=str(bindir / 'ip')
    )
    boot_files.ensure_present(validate(VXLAN), options)
    proc = _run_unit(options)
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr
    assert len(_fdb_destinations('red', 'vx100')) == 3


def _unmerged_usr(tmp_path):
    """This sandbox as Debian 11 lays programs out: no ip or sysctl in
    /usr/sbin (ip is /bin/ip, sysctl /sbin/sysctl, both in PATH). /usr/bin
    gets a copy-on-write layer holding sysctl and bridge, then /usr/sbin
    (and /sbin with it, on this merged /usr) is hidden by an empty tmpfs."""
    layer = tmp_path / 'layer'
    layer.mkdir()
    sh('mount', '-t', 'tmpfs', 'tmpfs', str(layer))
    (layer / 'upper').mkdir()
    (layer / 'work').mkdir()
    sysctl, bridge = (sh('sh', '-c', f'command -v {name}').stdout.strip() for name in ('sysctl', 'bridge'))
    sh(
        'mount',
        '-t',
        'overlay',
        'overlay',
        '-o',
        f'lowerdir=/usr/bin,upperdir={layer}/upper,workdir={layer}/work',
        '/usr/bin',
    )
    for program in (sysctl, bridge):
        sh('cp', program, '/usr/bin/')
    sh('mount', '-t', 'tmpfs', 'tmpfs', '/usr/sbin')
    assert not os.path.exists('/usr/sbin/ip') and not os.path.exists('/usr/sbin/sysctl')


def test_the_default_programs_are_found_on_an_unmerged_usr(tmp_path):
    _unmerged_usr(tmp_path)
    options = _options(str(tmp_path))
    boot_files.ensure_present(validate([{'name': 'q', 'sysctls': {'net.ipv4.ip_forward': 1}}]), options)
    proc = _run_unit(options)
    assert proc.returncode == 0 and proc.stderr == '', proc.stderr
    assert ip_netns_list() == ['q']
    assert sh('ip', 'netns', 'exec', 'q', 'cat', '/proc/sys/net/ipv4/ip_forward').stdout.strip() == '1'


def _racing_ip(tmp_path, set_up_works=True):
    """An ip that stands in for what else runs at boot (udev applying a .link file to a new veth end): right
    after the namespace's batch has set its links up, it takes eth0 and the host end h-edge down once; with
    set_up_works false, `link set dev eth0 up` given as arguments (not in a batch) does nothing."""
    real = sh('sh', '-c', 'command -v ip').stdout.strip()
    racing = tmp_path / 'bin' / 'ip'
    racing.parent.mkdir()
    ignore = '' if set_up_works else '  *"link set dev eth0 up"*) exit 0 ;;\n'
    racing.write_text(
        f'#!/bin/sh\ncase "$*" in\n{ignore}  *"-n edge -force -batch"*)\n'
        f'    "{real}" "$@"; rc=$?\n'
        f'    [ -e {tmp_path / "raced"} ] || {{ : > {tmp_path / "raced"}; '
        f'"{real}" link set dev h-edge down; "{real}" -n edge link set dev eth0 down; }}\n'
        f'    exit $rc ;;\nesac\nexec "{real}" "$@"\n'
    )
    racing.chmod(0o755)
    return str(racing)


RACED = [
    {
        'name': 'edge',
        'links': [
            {
                'name': 'eth0',
                'kind': 'veth',
                'addresses': ['10.46.0.2/30'],
                'peer': {'name': 'h-edge', 'addresses': ['10.46.0.1/30']},
            }
        ],
    }
]


def test_a_link_taken_down_after_the_batches_is_set_up_again_and_logged(tmp_path):
    """Issue 22: after a real reboot one boot in five left a namespace's eth0 down while its addresses and
    routes were back and the unit reported success. The script checks, once all is built, that what is
    declared up is up, sets up again what is not, and says so."""
    options = boot_files.BootOptions(
        boot_dir=str(tmp_path / 'boot'), unit_dir=str(tmp_path / 'units'), ip_command=_racing_ip(tmp_path)
    )
    boot_files.ensure_present(validate(RACED), options)
    proc = _run_unit(options)
    assert (tmp_path / 'raced').exists()
    assert proc.returncode == 0, proc.stderr
    assert 'link eth0 (namespace edge) is down after it was set up: setting it up again' in proc.stderr, proc.stderr
    assert 'link h-edge (this host) is down after it was set up: setting it up again' in proc.stderr, proc.stderr
    for prefix, name in ((['ip'], 'h-edge'), (['ip', '-n', 'edge'], 'eth0')):
        flags = sh(*(prefix + ['-o', 'link', 'show', 'dev', name])).stdout
        assert ',UP' in flags or '<UP' in flags, flags
    assert [(o.name, o.changes) for o in converge.converge(RACED, check_mode=True)] == [('edge', [])]


def test_a_link_that_stays_down_fails_the_unit_naming_it(tmp_path):
    """A link declared up that cannot be set up again fails the unit (systemd shows it failed, the journal
    says which link) instead of a success with the tenant offline."""
    options = boot_files.BootOptions(
        boot_dir=str(tmp_path / 'boot'),
        unit_dir=str(tmp_path / 'units'),
        ip_command=_racing_ip(tmp_path, set_up_works=False),
    )
    boot_files.ensure_present(validate(RACED), options)
    proc = _run_unit(options)
    assert proc.returncode == 1, proc.stderr
    assert 'link eth0 (namespace edge) is declared up and stays down' in proc.stderr, proc.stderr
    assert 'link h-edge (this host) is declared up and stays down' not in proc.stderr, proc.stderr
