"""netns_config against the kernel's own rules (issue 11): addresses and
routes planned with the kernel's semantics, link kinds compared, and every
input the kernel would refuse (or that would crash) refused up front.
`ip -j` is the oracle."""

import os
import subprocess

import pytest

from moduleharness import netns_config_refused, netns_config_run as converge, netns_config_twice as converged_twice
from nsoracle import addrs, ip


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def veth(name, host, addresses=(), **extra):
    return dict({'name': name, 'kind': 'veth', 'addresses': list(addresses), 'peer': {'name': host}}, **extra)


# --- validation: refused before anything is touched ----------------------

BRIDGE = {'name': 'b0', 'kind': 'bridge'}


@pytest.mark.parametrize(
    'bad, where, value',
    [
        # peer.netns naming a namespace the call removes (was: "Module failed: 'b'")
        (
            [
                {'name': 'a', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'p', 'netns': 'b'}}]},
                {'name': 'b', 'state': 'absent'},
            ],
            'namespaces[1].links[0].peer.netns',
            "'b'",
        ),
        ([{'name': 'a', 'sysctls': {'net.ipv4': 1}}], "namespaces[1].sysctls['net.ipv4']", "'net.ipv4'"),
        (
            [{'name': 'a', 'sysctls': {'net.ipv4.conf.all': 1}}],
            "namespaces[1].sysctls['net.ipv4.conf.all']",
            'directory',
        ),
        ([{'name': 'a', 'sysctls': ['net.ipv4.ip_forward=1']}], 'namespaces[1].sysctls', 'list'),
        (
            [{'name': 'a', 'sysctls': {'net.ipv4.ip_forward': None}}],
            "namespaces[1].sysctls['net.ipv4.ip_forward']",
            'None',
        ),
        (
            [{'name': 'a', 'sysctls': {'net.ipv4.ip_forward': '1\x002'}}],
            "namespaces[1].sysctls['net.ipv4.ip_forward']",
            r"'1\x002'",
        ),
        ([{'name': 'a', 'files': {'resolv\x00.conf': 'x'}}], 'namespaces[1].files', r"'resolv\x00.conf'"),
        ([{'name': 'a', 'files': {'hosts\n': 'x'}}], 'namespaces[1].files', r"'hosts\n'"),
        ([{'name': 'a', 'links': [{'name': 'all', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', "'all'"),
        ([{'name': 'a', 'links': [{'name': 'default', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', "'default'"),
        ([{'name': 'a', 'links': [veth('e', 'all')]}], 'namespaces[1].links[0].peer.name', "'all'"),
        (
            [{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': '10.0.0.0/8', 'dev': 'b0', 'table': 255}]}],
            'namespaces[1].routes[0].table',
            '255',
        ),
        (
            [{'name': 'a', 'links': [dict(BRIDGE, address='01:00:5e:00:00:01')]}],
            'namespaces[1].links[0].address',
            "'01:00:5e:00:00:01'",
        ),
        (
            [{'name': 'a', 'links': [dict(BRIDGE, address='00:00:00:00:00:00')]}],
            'namespaces[1].links[0].address',
            "'00:00:00:00:00:00'",
        ),
        ([{'name': 'a', 'links': [dict(BRIDGE, master='b0')]}], 'namespaces[1].links[0].master', "'b0'"),
        (
            [{'name': 'a', 'links': [veth('e', 'shared')]}, {'name': 'c', 'links': [veth('e', 'shared')]}],
            'namespaces[2].links[0].peer.name',
            "'shared'",
        ),
        ([{'name': 'a', 'links': [veth('e', 'p'), veth('f', 'p')]}], 'namespaces[1].links[1].peer.name', "'p'"),
        (
            [
                {'name': 'a', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'x', 'netns': 'c'}}]},
                {'name': 'c', 'links': [{'name': 'x', 'kind': 'bridge'}]},
            ],
            'namespaces[1].links[0].peer.name',
            "'x'",
        ),
        ([{'name': 'a', 'links': [dict(BRIDGE, mtu=1500.7)]}], 'namespaces[1].links[0].mtu', '1500.7'),
        (
            [{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': '10.0.0.0/8', 'dev': 'b0', 'metric': 1.5}]}],
            'namespaces[1].routes[0].metric',
            '1.5',
        ),
        ([{'name': 'a', 'links': [{'name': 'e\x85', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', r"'e\x85'"),
        (
            [{'name': 'a', 'links': [{'name': 'e\u2028', 'kind': 'bridge'}]}],
            'namespaces[1].links[0].name',
            r"'e\u2028'",
        ),
        ([{'name': 'a\x85'}], 'namespaces[1].name', r"'a\x85'"),
        (
            [
                {
                    'name': 'a',
                    'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'p', 'netns': 'c', 'master': 'nobr'}}],
                },
                {'name': 'c', 'links': [{'name': 'v', 'kind': 'veth', 'peer': {'name': 'vh'}}]},
            ],
            'namespaces[1].links[0].peer.master',
            "'nobr'",
        ),
        (
            [{'name': 'a', 'links': [dict(BRIDGE, addresses=['fd00::1/64', 'fd00::1/56'])]}],
            'namespaces[1].links[0].addresses[1]',
            "'fd00::1/56'",
        ),
        (
            [
                {
                    'name': 'a',
                    'links': [BRIDGE],
                    'routes': [{'dst': 'fd00:9::/64', 'dev': 'b0'}, {'dst': 'fd00:9::/64', 'dev': 'b0', 'metric': 0}],
                }
            ],
            'namespaces[1].routes[1]',
            'metric 1024',
        ),
        (
            [{'name': 'a', 'files': {'resolv.conf': 'x', 'resolv.conf/inner': 'y'}}],
            "namespaces[1].files['resolv.conf']",
            'inner',
        ),
        ([{'name': 'a', 'files': {'hosts': 'x', './hosts': 'y'}}], 'namespaces[1].files', "'./hosts'"),
        # an IPv6 scope id may hold any text, newlines included: it must never reach the boot script
        (
            [{'name': 'a', 'links': [dict(BRIDGE, addresses=['fe80::1%x\necho INJECTED\n/64'])]}],
            'namespaces[1].links[0].addresses[0]',
            'INJECTED',
        ),
        (
            [{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': 'fd00:9::/64', 'via': 'fe80::1%y #z'}]}],
            'namespaces[1].routes[0].via',
            '#z',
        ),
        (
            [{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': 'fd00:9::%q/64', 'dev': 'b0'}]}],
            'namespaces[1].routes[0].dst',
            '%q',
        ),
        ([{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': 10, 'dev': 'b0'}]}], 'namespaces[1].routes[0].dst', '10'),
        # a final newline is text the boot script must never see either
        (
            [{'name': 'a', 'links': [dict(BRIDGE, addresses=['10.1.0.2/24\n'])]}],
            'namespaces[1].links[0].addresses[0]',
            "'10.1.0.2/24\\n'",
        ),
        (
            [{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': 'default', 'via': '10.1.0.1\n'}]}],
            'namespaces[1].routes[0].via',
            "'10.1.0.1\\n'",
        ),
        (
            [{'name': 'a', 'sysctls': {'net.ipv4.ip_forward\n': 1}}],
            "namespaces[1].sysctls['net.ipv4.ip_forward\\n']",
            'ip_forward',
        ),
        (
            [{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': 'default', 'via': 167772161}]}],
            'namespaces[1].routes[0].via',
            '167772161',
        ),
    ],
)
def test_hostile_input_is_refused_before_anything_is_touched(capsys, bad, where, value):
    netns_config_refused(capsys, bad, where, value)
    assert [lk['ifname'] for lk in ip('link')] == ['lo']


def test_integral_floats_and_numeric_strings_are_still_numbers(capsys):
    decl = [
        {
            'name': 'n',
            'links': [dict(BRIDGE, mtu=1400.0)],
            'routes': [{'dst': '10.5.0.0/16', 'dev': 'b0', 'metric': '7'}],
        }
    ]
    converged_twice(capsys, decl)
    assert ip('link', 'show', 'b0', netns='n')[0]['mtu'] == 1400


# --- addresses: secondaries, prefix lengths ------------------------------


def routes(netns, family='-4', table='main'):
    return ip(family, 'route', 'show', 'table', table, netns=netns)


def lab(addresses, routes_=(), **extra):
    """A namespace with a portless bridge as a dummy stand-in (this kernel
    has no dummy links)."""
    return [
        dict(
            {
                'name': 'n',
                'links': [{'name': 'd0', 'kind': 'bridge', 'addresses': list(addresses)}],
                'routes': list(routes_),
            },
            **extra,
        )
    ]


GW_ROUTES = [{'dst': 'default', 'via': '10.7.0.254'}, {'dst': '10.8.0.0/16', 'via': '10.7.0.254'}]


def test_renumbering_in_the_same_subnet_keeps_the_address_and_the_routes(capsys):
    converged_twice(capsys, lab(['10.7.0.1/24'], GW_ROUTES), purge=True)
    renumbered = lab(['10.7.0.2/24'], GW_ROUTES)
    predicted = converge(capsys, renumbered, purge=True, check_mode=True)
    assert addrs('d0', 'n') == ['10.7.0.1/24'], 'check mode changed nothing'
    out = converged_twice(capsys, renumbered, purge=True)
    assert out['namespaces'][0]['changes'] == predicted['namespaces'][0]['changes']
    assert addrs('d0', 'n') == ['10.7.0.2/24']
    table = dict((r['dst'], r) for r in routes('n'))
    assert table['default']['gateway'] == '10.7.0.254' and table['10.8.0.0/16']['gateway'] == '10.7.0.254'
    assert table['10.7.0.0/24']['prefsrc'] == '10.7.0.2'
    promote = subprocess.run(
        ['ip', 'netns', 'exec', 'n', 'cat', '/proc/sys/net/ipv4/conf/d0/promote_secondaries'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert promote == '0', 'the sysctl is left as it was'


def test_deleting_a_primary_keeps_the_declared_secondaries(capsys):
    converged_twice(capsys, lab(['10.7.0.1/24', '10.7.0.3/24', '10.7.0.4/24'], GW_ROUTES))
    converged_twice(capsys, lab(['10.7.0.3/24', '10.7.0.4/24'], GW_ROUTES), purge=True)
    assert addrs('d0', 'n') == ['10.7.0.3/24', '10.7.0.4/24']
    assert any(r['dst'] == 'default' for r in routes('n'))


@pytest.mark.parametrize('before, after', [(['fd00:1::2/64'], ['fd00:1::2/56']), (['10.7.0.1/24'], ['10.7.0.1/16'])])
@pytest.mark.parametrize('purge', [False, True])
def test_a_prefix_length_change_converges(capsys, before, after, purge):
    converged_twice(capsys, lab(before))
    converged_twice(capsys, lab(after), purge=purge)
    if purge or ':' in after[0]:  # the kernel keeps one IPv6 address per link, IPv4 ones per prefix
        assert addrs('d0', 'n') == after
    else:
        assert addrs('d0', 'n') == sorted(before + after)


# --- routes: kernel defaults and what purge owns -------------------------


def test_ipv6_metric_0_is_the_kernels_1024(capsys):
    decl = lab(['fd00:1::2/64'], [{'dst': 'fd00:9::/64', 'via': 'fd00:1::1', 'metric': 0}])
    converged_twice(capsys, decl)
    converged_twice(capsys, decl, purge=True)
    assert [r['metric'] for r in routes('n', '-6') if r['dst'] == 'fd00:9::/64'] == [1024]


def test_a_src_no_longer_declared_is_removed_from_the_route(capsys):
    with_src = lab(['10.7.0.2/24', '10.7.0.3/24'], [{'dst': '10.8.0.0/16', 'via': '10.7.0.254', 'src': '10.7.0.3'}])
    converged_twice(capsys, with_src)
    assert [r.get('prefsrc') for r in routes('n') if r['dst'] == '10.8.0.0/16'] == ['10.7.0.3']
    without = lab(['10.7.0.2/24', '10.7.0.3/24'], [{'dst': '10.8.0.0/16', 'via': '10.7.0.254'}])
    out = converged_twice(capsys, without)
    assert out['changed']
    assert [r.get('prefsrc') for r in routes('n') if r['dst'] == '10.8.0.0/16'] == [None]


STRAYS = [
    ['10.66.0.0/16', 'dev', 'd0'],  # link scope, proto boot
    ['10.67.0.0/16', 'via', '10.7.0.254', 'proto', 'dhcp'],
    ['10.68.0.0/16', 'via', '10.7.0.254', 'proto', '42', 'metric', '5'],
    ['10.69.0.0/16', 'via', '10.7.0.254', 'tos', '0x10'],
    ['blackhole', '10.70.0.0/16'],
    ['unreachable', '10.71.0.0/16'],
    ['prohibit', '10.72.0.0/16', 'table', '100'],
    ['-6', 'blackhole', 'fd00:70::/48'],
    ['-6', 'fd00:71::/48', 'dev', 'd0', 'proto', 'dhcp'],
]


def test_purge_deletes_every_route_it_owns_by_its_full_identity(capsys):
    declared = GW_ROUTES + [{'dst': '10.9.0.0/16', 'via': '10.7.0.254', 'table': 100}]
    decl = lab(['10.7.0.1/24', 'fd00:1::2/64'], declared)
    converged_twice(capsys, decl)
    for stray in STRAYS:
        family = [stray.pop(0)] if stray[0] == '-6' else []
        sh('ip', '-n', 'n', *(family + ['route', 'add'] + stray))
    out = converged_twice(capsys, decl, purge=True)
    assert len(out['namespaces'][0]['changes']) == len(STRAYS), out['namespaces'][0]['changes']
    assert sorted(r['dst'] for r in routes('n')) == ['10.7.0.0/24', '10.8.0.0/16', 'default']
    assert [r['dst'] for r in routes('n', table='100')] == ['10.9.0.0/16']
    assert not [r for r in routes('n', '-6') if r['dst'].startswith('fd00:7')]
    assert all(r.get('protocol') == 'kernel' for r in routes('n', table='local'))


def test_purge_removes_the_routes_of_a_deleted_link_without_failing(capsys):
    decl = lab(['10.7.0.1/24'], GW_ROUTES)
    converged_twice(capsys, decl)
    sh('ip', '-n', 'n', 'link', 'add', 'stray', 'type', 'bridge')
    sh('ip', '-n', 'n', 'link', 'set', 'stray', 'up')
    sh('ip', '-n', 'n', 'addr', 'add', '10.99.0.1/24', 'dev', 'stray')
    sh('ip', '-n', 'n', 'route', 'add', '10.98.0.0/16', 'via', '10.99.0.254')
    converged_twice(capsys, decl, purge=True)
    assert [lk['ifname'] for lk in ip('link', netns='n')] == ['lo', 'd0']


# --- link kinds and the links declared links depend on ------------------


def test_a_link_of_another_kind_fails_without_purge_and_is_replaced_with_it(capsys):
    sh('ip', 'netns', 'add', 'n')
    sh('ip', '-n', 'n', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0-peer')
    decl = lab(['10.7.0.1/24'], GW_ROUTES)
    out = converge(capsys, decl)
    assert out['failed'] and "d0" in out['msg'] + out['namespaces'][0]['msg']
    msg = out['namespaces'][0]['msg']
    assert "'bridge'" in msg and "'veth'" in msg and 'purge' in msg, msg
    assert ip('-d', 'link', 'show', 'd0', netns='n')[0]['linkinfo']['info_kind'] == 'veth', 'nothing was changed'
    converged_twice(capsys, decl, purge=True)
    assert ip('-d', 'link', 'show', 'd0', netns='n')[0]['linkinfo']['info_kind'] == 'bridge'
    assert addrs('d0', 'n') == ['10.7.0.1/24'] and any(r['dst'] == 'default' for r in routes('n'))


def test_purge_keeps_the_undeclared_veth_peer_of_a_declared_link(capsys):
    sh('ip', 'netns', 'add', 'n')
    sh('ip', '-n', 'n', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1')
    decl = [
        {'name': 'n', 'links': [{'name': 'p0', 'kind': 'physical', 'parent': 'unused', 'addresses': ['10.7.0.1/24']}]}
    ]
    converged_twice(capsys, decl, purge=True)
    assert sorted(lk['ifname'] for lk in ip('link', netns='n')) == ['lo', 'p0', 'p1']
    assert addrs('p0', 'n') == ['10.7.0.1/24']


def test_purge_keeps_the_undeclared_parent_of_a_declared_macvlan(capsys):
    sh('ip', 'netns', 'add', 'n')
    sh('ip', '-n', 'n', 'link', 'add', 'par', 'type', 'bridge')
    sh('ip', '-n', 'n', 'link', 'add', 'mv0', 'link', 'par', 'type', 'macvlan', 'mode', 'bridge')
    decl = [{'name': 'n', 'links': [{'name': 'mv0', 'kind': 'macvlan', 'parent': 'par', 'mode': 'bridge'}]}]
    converged_twice(capsys, decl, purge=True)
    assert sorted(lk['ifname'] for lk in ip('link', netns='n')) == ['lo', 'mv0', 'par']


def snapshot(netns):
    return (
        ip('-d', 'link', netns=netns),
        ip('addr', netns=netns),
        ip('route', 'show', 'table', 'all', netns=netns),
        ip('-6', 'route', 'show', 'table', 'all', netns=netns),
    )


def test_check_mode_predicts_replacements_and_purges_and_touches_nothing(capsys):
    sh('ip', 'netns', 'add', 'n')
    sh('ip', '-n', 'n', 'link', 'add', 'd0', 'type', 'veth', 'peer', 'name', 'd0-peer')
    sh('ip', '-n', 'n', 'link', 'add', 'strayA', 'type', 'veth', 'peer', 'name', 'strayB')
    sh('ip', '-n', 'n', 'link', 'set', 'strayA', 'up')
    sh('ip', '-n', 'n', 'addr', 'add', '10.99.0.1/24', 'dev', 'strayA')
    sh('ip', '-n', 'n', 'route', 'add', '10.98.0.0/16', 'via', '10.99.0.254')
    sh('ip', '-n', 'n', 'route', 'add', 'blackhole', '10.70.0.0/16', 'proto', 'dhcp')
    decl = lab(['10.7.0.1/24', 'fd00:1::2/64'], GW_ROUTES + [{'dst': 'fd00:9::/64', 'via': 'fd00:1::1', 'metric': 0}])
    before = snapshot('n')
    predicted = converge(capsys, decl, purge=True, check_mode=True, diff=True)
    assert snapshot('n') == before, 'check mode changed nothing'
    changes = predicted['namespaces'][0]['changes']
    assert "delete link strayA from namespace 'n' with strayB (not declared; purge)" in changes
    assert "delete veth d0 from namespace 'n' with d0-peer to create it as declared, a bridge (purge)" in changes
    assert any(c.startswith('delete route blackhole 10.70.0.0/16 proto dhcp') for c in changes), changes
    assert not any('10.98.0.0' in c for c in changes), 'the kernel drops it with strayA'
    real = converged_twice(capsys, decl, purge=True)
    assert real['namespaces'][0]['changes'] == changes
    assert sorted(lk['ifname'] for lk in ip('link', netns='n')) == ['d0', 'lo']


def test_a_route_without_gateway_has_link_scope_so_gateways_resolve_through_it(capsys):
    decl = lab(
        [],
        [
            {'dst': '10.5.0.0/16', 'dev': 'd0'},
            {'dst': 'default', 'via': '10.5.0.1'},
            {'dst': 'fd00:5::/64', 'dev': 'd0'},
        ],
    )
    converged_twice(capsys, decl, purge=True)
    table = dict((r['dst'], r) for r in routes('n'))
    assert table['10.5.0.0/16']['scope'] == 'link' and table['default']['gateway'] == '10.5.0.1'
    # one made by hand the same way is the same route
    sh('ip', '-n', 'n', 'route', 'del', '10.5.0.0/16')
    sh('ip', '-n', 'n', 'route', 'add', '10.5.0.0/16', 'dev', 'd0', 'proto', 'boot')
    assert not converge(capsys, decl)['changed']


def test_removing_the_last_ipv4_address_of_a_link_keeps_its_declared_routes(capsys):
    """The kernel flushes the IPv4 routes through a link that loses its last
    IPv4 address: the declared ones are added again in the same run."""
    keep = [{'dst': '10.66.0.0/16', 'dev': 'd0'}, {'dst': 'fd00:66::/64', 'dev': 'd0'}]
    converged_twice(capsys, lab(['10.7.0.1/24', 'fd00:1::1/64'], keep + [{'dst': '10.8.0.0/16', 'via': '10.7.0.254'}]))
    converged_twice(capsys, lab(['fd00:1::1/64'], keep), purge=True)
    assert [r['dst'] for r in routes('n')] == ['10.66.0.0/16']
    assert addrs('d0', 'n') == ['fd00:1::1/64']


def test_purge_keeps_an_undeclared_veth_end_whose_peer_another_namespace_keeps(capsys):
    cabled = [
        {'name': 'left', 'links': [{'name': 'l0', 'kind': 'veth', 'peer': {'name': 'r0', 'netns': 'right'}}]},
        {'name': 'right'},
    ]
    converged_twice(capsys, cabled)
    # right now claims r0 itself; left no longer declares l0, whose deletion would take r0 along
    moved = [
        {'name': 'left'},
        {
            'name': 'right',
            'links': [{'name': 'r0', 'kind': 'physical', 'parent': 'unused', 'addresses': ['10.9.0.2/30']}],
        },
    ]
    converged_twice(capsys, moved, purge=True)
    assert [lk['ifname'] for lk in ip('link', netns='left')] == ['lo', 'l0']
    assert addrs('r0', 'right') == ['10.9.0.2/30']
    # a veth to a namespace outside the call, or an undeclared end there, is purged
    sh('ip', 'netns', 'add', 'outside')
    sh('ip', '-n', 'left', 'link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1', 'netns', 'outside')
    out = converged_twice(capsys, moved, purge=True)
    assert out['namespaces'][0]['changes'] == ["delete link x0 from namespace 'left' (not declared; purge)"]


def test_a_veth_into_a_namespace_that_could_not_be_made_fails_that_namespace_only(capsys):
    os.makedirs('/run/netns/b/in-the-way')  # the pin path is taken: b fails
    decl = [
        {'name': 'a', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'p', 'netns': 'b'}}]},
        {'name': 'b'},
        {'name': 'c', 'links': [BRIDGE]},
    ]
    out = converge(capsys, decl)
    a, b, c = out['namespaces']
    assert b['failed'] and a['failed'] and "'b'" in a['msg'] and 'Module failed' not in out['msg'], out
    assert not c.get('failed') and [lk['ifname'] for lk in ip('link', netns='c')] == ['lo', 'b0']
    assert [lk['ifname'] for lk in ip('link', netns='a')] == ['lo'], 'nothing was done in a'


def test_a_veth_whose_peer_is_not_the_declared_one_fails_without_purge_and_is_replaced_with_it(capsys):
    sh('ip', 'netns', 'add', 'n')
    sh('ip', '-n', 'n', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'x')
    decl = [{'name': 'n', 'links': [veth('eth0', 'h0', ['10.7.0.2/24'])]}]
    out = converge(capsys, decl)
    msg = out['namespaces'][0].get('msg', '')
    assert out['failed'] and 'eth0' in msg and 'h0' in msg and 'purge' in msg, out
    assert sorted(lk['ifname'] for lk in ip('link', netns='n')) == ['eth0', 'lo', 'x'], 'nothing was changed'
    converged_twice(capsys, decl, purge=True)
    assert [lk['ifname'] for lk in ip('link', netns='n')] == ['lo', 'eth0']
    assert [lk['ifname'] for lk in ip('link')] == ['lo', 'h0']
    assert addrs('eth0', 'n') == ['10.7.0.2/24']


def test_a_veth_peer_name_taken_on_the_host_fails_before_anything_is_done_in_the_namespace(capsys):
    sh('ip', 'link', 'add', 'taken', 'type', 'bridge')
    out = converge(capsys, [{'name': 'n', 'links': [veth('e0', 'taken', ['10.7.0.2/24'])]}, {'name': 'ok'}])
    bad, good = out['namespaces']
    assert bad['failed'] and "'taken'" in bad['msg'] and 'the host' in bad['msg'], bad
    assert [lk['ifname'] for lk in ip('link', netns='n')] == ['lo'] and not good.get('failed')
    assert ip('-d', 'link', 'show', 'taken')[0]['linkinfo']['info_kind'] == 'bridge'
    out = converge(capsys, [{'name': 'n', 'links': [veth('e0', 'lo')]}])
    assert out['failed'] and 'namespaces[0].links[0].peer.name' in out['msg'] and "'lo'" in out['msg'], out


def test_renumbering_with_a_route_from_the_address_converges_in_one_run(capsys):
    def decl(host):
        return lab(
            [f'10.7.0.{host}/24'],
            GW_ROUTES[:1] + [{'dst': '10.8.0.0/16', 'via': '10.7.0.254', 'src': f'10.7.0.{host}'}],
        )

    converged_twice(capsys, decl(1), purge=True)
    predicted = converge(capsys, decl(2), purge=True, check_mode=True)
    out = converged_twice(capsys, decl(2), purge=True)
    assert out['namespaces'][0]['changes'] == predicted['namespaces'][0]['changes']
    assert dict((r['dst'], r.get('prefsrc')) for r in routes('n'))['10.8.0.0/16'] == '10.7.0.2'


def test_a_host_peer_master_that_is_no_host_bridge_fails_before_anything_is_done(capsys):
    sh('ip', 'link', 'add', 'notbr', 'type', 'veth', 'peer', 'name', 'notbr-p')
    for master in ('nosuch', 'notbr'):
        out = converge(
            capsys, [{'name': 'n', 'links': [dict(veth('e0', 'h0'), peer={'name': 'h0', 'master': master})]}]
        )
        assert out['failed'] and repr(master) in out['namespaces'][0]['msg'], out
        assert [lk['ifname'] for lk in ip('link', netns='n')] == ['lo']
        assert 'h0' not in [lk['ifname'] for lk in ip('link')]
