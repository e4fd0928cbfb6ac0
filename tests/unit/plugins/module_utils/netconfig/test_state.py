"""The state reader (plain rtnetlink, struct-decoded) against iproute2's
JSON output of the same namespace, and the raw socket's error paths."""

import errno
import ipaddress
import json
import socket

import pytest
from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import nsid, rtnetlink, rtnl
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import state as netconfig_state


TABLES = {'main': 254, 'local': 255}


def _ip_json(*args):
    return json.loads(sh('ip', '-j', *args).stdout)


def _build_lab():
    """Links of several kinds, masters, MTU, MAC, v4/v6 addresses, routes in
    two tables with metrics, sources and an IPv6 gateway."""
    sh('ip', 'link', 'add', 'br0', 'type', 'bridge')
    sh('ip', 'link', 'add', 'v0', 'mtu', '1400', 'address', '02:AB:cd:00:00:01', 'type', 'veth', 'peer', 'name', 'v1')
    sh('ip', 'link', 'set', 'v1', 'master', 'br0', 'alias', 'a port')
    for name in ('lo', 'br0', 'v0', 'v1'):
        sh('ip', 'link', 'set', name, 'up')
    sh('ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'v0')
    sh('ip', 'addr', 'add', '10.9.1.1/30', 'dev', 'v0')
    sh('ip', '-6', 'addr', 'add', 'fd00:9::1/64', 'dev', 'v0', 'nodad')
    sh('ip', 'route', 'add', 'default', 'via', '10.9.0.254', 'metric', '7')
    sh('ip', 'route', 'add', '192.0.2.0/24', 'dev', 'v0', 'src', '10.9.0.1', 'table', '100')
    sh('ip', '-6', 'route', 'add', '2001:db8::/32', 'via', 'fd00:9::fe', 'metric', '42')


def test_links_match_ip_link():
    _build_lab()
    with rtnl.Socket() as sock:
        state = netconfig_state.read(sock)
    oracle = _ip_json('-d', 'link', 'show')
    assert sorted(state.links) == sorted(lk['ifname'] for lk in oracle)
    by_index = dict((lk['ifindex'], lk['ifname']) for lk in oracle)
    for link in oracle:
        mine = state.links[link['ifname']]
        assert mine['index'] == link['ifindex']
        assert mine['mtu'] == link['mtu']
        assert mine['address'] == link['address']
        assert mine['up'] == ('UP' in link['flags'])
        assert mine['kind'] == link.get('linkinfo', {}).get('info_kind')
        assert (by_index.get(mine['master'])) == link.get('master')
        assert mine['alias'] == link.get('ifalias')
    assert state.links['v0']['address'] == '02:ab:cd:00:00:01'


def test_addresses_match_ip_addr():
    _build_lab()
    with rtnl.Socket() as sock:
        state = netconfig_state.read(sock)
    for link in _ip_json('addr', 'show'):
        expected = set(ipaddress.ip_interface(f'{a["local"]}/{a["prefixlen"]}') for a in link['addr_info'])
        assert set(state.addresses.get(link['ifname'], [])) == expected, link['ifname']
    assert ipaddress.ip_interface('fd00:9::1/64') in state.addresses['v0']


def _as_tuple(route):
    return (route['dst'], route['via'], route['src'], route['metric'], route['table'])


def test_routes_match_ip_route_in_every_table():
    _build_lab()
    with rtnl.Socket() as sock:
        state = netconfig_state.read(sock)
    mine = set(_as_tuple(r) for r in state.routes)
    names = dict((lk['ifname'], lk['ifindex']) for lk in _ip_json('link', 'show'))
    for family in ('-4', '-6'):
        for route in _ip_json(family, 'route', 'show', 'table', 'all'):
            if route.get('type', 'unicast') != 'unicast':
                continue
            dst = route['dst']
            if dst == 'default':
                dst = '::/0' if family == '-6' else '0.0.0.0/0'
            expected = (
                ipaddress.ip_network(dst),
                ipaddress.ip_address(route['gateway']) if 'gateway' in route else None,
                ipaddress.ip_address(route['prefsrc']) if 'prefsrc' in route else None,
                route.get('metric', 0),
                TABLES.get(route.get('table', 'main'), route.get('table')),
            )
            expected = expected[:4] + (int(expected[4]),)
            assert expected in mine, (route, sorted(mine, key=str))
    oifs = dict((str(r['dst']), r['oif']) for r in state.routes if r['table'] == 100)
    assert oifs['192.0.2.0/24'] == names['v0']


def test_a_large_dump_spans_many_reads():
    """A host with hundreds of links answers a dump in several datagrams."""
    for i in range(300):
        sh('ip', 'link', 'add', f'big{i}', 'type', 'veth', 'peer', 'name', f'bigp{i}')
    with rtnl.Socket() as sock:
        state = netconfig_state.read(sock)
    assert len(state.links) == 601


def test_kernel_errors_are_raised_with_their_errno():
    with rtnl.Socket() as sock:
        with pytest.raises(OSError) as caught:
            # RTM_NEWNSID without a target namespace: EINVAL
            sock.request(nsid.RTM_NEWNSID, nsid.RTGENMSG + rtnl.attr(nsid.NETNSA_NSID, '=i', 5))
    assert caught.value.errno == errno.EINVAL


def test_attributes_tolerate_truncated_input():
    payload = rtnl.attr(3, '=I', 7) + b'\x02\x00'  # a header shorter than itself
    assert rtnl.attributes(payload, 0, len(payload)) == {3: b'\x07\x00\x00\x00'}
    assert rtnl.text(b'eth0\x00junk') == 'eth0'
    assert rtnl.u32(None) is None
    assert socket.AF_NETLINK  # the sandbox kernel has netlink


def test_link_index_finds_one_link_by_exact_name():
    sh('ip', 'link', 'add', 'eth.100-x', 'type', 'veth', 'peer', 'name', 'eth.100')
    expected = dict((link['ifname'], link['ifindex']) for link in _ip_json('link'))
    with rtnl.Socket() as sock:
        assert netconfig_state.link_index(sock, 'eth.100') == expected['eth.100']
        assert netconfig_state.link_index(sock, 'eth.100-x') == expected['eth.100-x']
        assert netconfig_state.link_index(sock, 'lo') == 1
        assert netconfig_state.link_index(sock, 'eth.10') is None


def test_route_types_scopes_protocols_and_tos_are_read():
    """Every route type is read, with what identifies it to the kernel, and
    delete_route removes exactly the one it is given."""
    _build_lab()
    sh('ip', 'route', 'add', '10.66.0.0/16', 'dev', 'v0')
    sh('ip', 'route', 'add', '10.67.0.0/16', 'via', '10.9.0.254', 'proto', 'dhcp', 'tos', '0x10', 'metric', '3')
    sh('ip', 'route', 'add', 'blackhole', '10.70.0.0/16', 'table', '1000')
    sh('ip', '-6', 'route', 'add', 'unreachable', 'fd00:70::/48')
    with rtnl.Socket() as sock:
        routes = dict((str(r['dst']), r) for r in netconfig_state.read(sock).routes if r['proto'] != 2)
        assert (routes['10.66.0.0/16']['scope'], routes['10.66.0.0/16']['proto']) == (rtnetlink.RT_SCOPE_LINK, 3)
        assert (routes['10.67.0.0/16']['proto'], routes['10.67.0.0/16']['tos'], routes['10.67.0.0/16']['metric']) == (
            16,
            0x10,
            3,
        )
        assert (routes['10.70.0.0/16']['type'], routes['10.70.0.0/16']['table']) == (6, 1000)
        assert routes['fd00:70::/48']['type'] == 7 and routes['fd00:70::/48']['family'] == socket.AF_INET6
        for dst in ('10.66.0.0/16', '10.67.0.0/16', '10.70.0.0/16', 'fd00:70::/48'):
            netconfig_state.delete_route(sock, routes[dst])
        left = set(str(r['dst']) for r in netconfig_state.read(sock).routes)
    assert not left & {'10.66.0.0/16', '10.67.0.0/16', '10.70.0.0/16', 'fd00:70::/48'}
    assert {'0.0.0.0/0', '192.0.2.0/24', '2001:db8::/32'} <= left


def test_a_veth_and_a_macvlan_name_the_link_they_sit_on():
    sh('ip', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1')
    sh('ip', 'link', 'add', 'mv0', 'link', 'p0', 'type', 'macvlan')
    with rtnl.Socket() as sock:
        links = netconfig_state.read(sock).links
    assert (links['p0']['link'], links['p1']['link'], links['mv0']['link']) == (
        links['p1']['index'],
        links['p0']['index'],
        links['p0']['index'],
    )
    assert links['p0']['link_netnsid'] is None and links['lo']['link'] is None
