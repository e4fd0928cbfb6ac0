"""vxlan links and fdb entries at the netconfig level: what the state
reader sees of a vxlan made by iproute2 (the oracle), which fdb entries it
counts as static, how the planner tells a changed vxlan and a changed
entry list, and IPv6 underlays end to end."""

import ipaddress
import json
import os

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import rtnl
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import rtnl_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge, state as netconfig_state, vxlan
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate


def _read(netns=None):
    if netns is None:
        with rtnl.Socket() as sock:
            return netconfig_state.read(sock)
    fd = os.open('/run/netns/' + netns, os.O_RDONLY)
    try:
        with rtnl_in(fd) as sock:
            return netconfig_state.read(sock)
    finally:
        os.close(fd)


def test_the_reader_sees_what_ip_d_link_shows_of_a_vxlan_made_from_the_host():
    sh('ip', 'link', 'add', 'u1', 'type', 'bridge')
    sh('ip', 'netns', 'add', 'red')
    sh(
        'ip',
        'link',
        'add',
        'name',
        'vx4',
        'netns',
        'red',
        'type',
        'vxlan',
        'id',
        '7',
        'local',
        '10.77.0.1',
        'dev',
        'u1',
        'dstport',
        '4790',
        'nolearning',
    )
    sh(
        'ip',
        'link',
        'add',
        'name',
        'vx6',
        'netns',
        'red',
        'type',
        'vxlan',
        'id',
        '16777215',
        'local',
        'fd77::1',
        'dstport',
        '4789',
    )
    state = _read('red')
    u1 = _read().links['u1']['index']
    assert state.links['vx4']['vxlan'] == {
        'vni': 7,
        'local': ipaddress.ip_address('10.77.0.1'),
        'underlay': u1,
        'port': 4790,
        'learning': False,
    }
    assert state.links['vx6']['vxlan'] == {
        'vni': 16777215,
        'local': ipaddress.ip_address('fd77::1'),
        'underlay': None,
        'port': 4789,
        'learning': True,
    }
    assert state.links['vx4']['link_netnsid'] is not None, 'its socket is in another namespace'
    assert state.fdb == {'vx4': [], 'vx6': []}
    # a vxlan made inside the namespace has its socket there: the planner says so
    sh('ip', '-n', 'red', 'link', 'add', 'vxin', 'type', 'vxlan', 'id', '8', 'dstport', '4789')
    link = validate([{'name': 'red', 'links': [{'name': 'vxin', 'kind': 'vxlan', 'vni': 8}]}])[0]['links'][0]
    assert vxlan.differences(link, _read('red').links['vxin'], None) == [
        'its UDP socket is in the namespace itself, not on the host'
    ]


def test_only_static_self_entries_of_vxlan_links_are_read():
    sh('ip', 'link', 'add', 'br0', 'type', 'bridge')
    sh('ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '9', 'dstport', '4789')
    sh('ip', 'link', 'set', 'vx0', 'master', 'br0')
    sh('ip', 'link', 'set', 'vx0', 'up')
    sh('bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.0.0.2')
    sh('bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vx0', 'dst', '10.0.0.3')
    sh('bridge', 'fdb', 'add', '02:00:00:00:00:07', 'dev', 'vx0', 'dst', '10.0.0.7', 'dynamic')  # as if learned
    sh('bridge', 'fdb', 'add', '02:00:00:00:00:08', 'dev', 'vx0', 'master', 'static')  # the bridge's, not the vxlan's
    oracle = json.loads(sh('bridge', '-j', 'fdb', 'show', 'dev', 'vx0').stdout)
    assert any(e.get('dst') == '10.0.0.7' for e in oracle) and any(e['mac'] == '02:00:00:00:00:08' for e in oracle)
    assert _read().fdb == {
        'vx0': [
            {'mac': '00:00:00:00:00:00', 'dst': ipaddress.ip_address('10.0.0.2')},
            {'mac': '00:00:00:00:00:00', 'dst': ipaddress.ip_address('10.0.0.3')},
        ]
    }


def test_a_namespace_without_vxlan_links_has_no_fdb_read():
    sh('ip', 'link', 'add', 'br0', 'type', 'bridge')
    assert _read().fdb == {}


class _Label:
    label = "namespace 'n'"


def test_fdb_plan_appends_flood_entries_and_replaces_a_moved_unicast_one():
    link = validate(
        [
            {
                'name': 'n',
                'links': [
                    {
                        'name': 'vx0',
                        'kind': 'vxlan',
                        'vni': 1,
                        'fdb': [
                            {'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2'},
                            {'mac': '00:00:00:00:00:00', 'dst': '10.0.0.4'},
                            {'mac': '02:00:00:00:00:01', 'dst': '10.0.0.5'},
                        ],
                    }
                ],
            }
        ]
    )[0]['links'][0]
    have = [
        {'mac': '00:00:00:00:00:00', 'dst': ipaddress.ip_address('10.0.0.2')},
        {'mac': '00:00:00:00:00:00', 'dst': ipaddress.ip_address('10.0.0.3')},
        {'mac': '02:00:00:00:00:01', 'dst': ipaddress.ip_address('10.0.0.3')},
    ]
    assert [a.text for a in vxlan.fdb_actions(_Label(), link, have)] == [
        "add fdb entry 00:00:00:00:00:00 dst 10.0.0.4 to vx0 in namespace 'n'",
        "change fdb entry 02:00:00:00:00:01 on vx0 in namespace 'n': dst 10.0.0.5, not 10.0.0.3",
        "delete fdb entry 00:00:00:00:00:00 dst 10.0.0.3 from vx0 in namespace 'n' (not declared)",
    ]


def test_an_ipv6_underlay_converges_and_a_rerun_changes_nothing():
    sh('ip', 'link', 'add', 'u1', 'type', 'bridge')
    decl = [
        {
            'name': 'v6',
            'links': [
                {
                    'name': 'vx0',
                    'kind': 'vxlan',
                    'vni': 300,
                    'local': 'fd77::1',
                    'underlay_dev': 'u1',
                    'fdb': [
                        {'mac': '00:00:00:00:00:00', 'dst': 'fd77::2'},
                        {'mac': '00:00:00:00:00:00', 'dst': 'fd77::3'},
                    ],
                }
            ],
        }
    ]
    first = converge.converge(decl)
    assert not first[0].failed, first[0].failed
    assert [o.changes for o in converge.converge(decl)] == [[]]
    info = json.loads(sh('ip', '-n', 'v6', '-d', '-j', 'link', 'show', 'dev', 'vx0').stdout)[0]
    assert info['linkinfo']['info_data'].get('local6', info['linkinfo']['info_data'].get('local')) == 'fd77::1', info
    assert info['mtu'] == 1430  # the kernel's: u1's 1500 minus the IPv6 overhead (70)
    dsts = sorted(e['dst'] for e in json.loads(sh('bridge', '-n', 'v6', '-j', 'fdb', 'show', 'dev', 'vx0').stdout))
    assert dsts == ['fd77::2', 'fd77::3']


def test_the_underlay_may_be_a_host_veth_end_an_earlier_namespace_of_the_call_declares():
    decl = [
        {
            'name': 'uplink',
            'links': [{'name': 'e0', 'kind': 'veth', 'peer': {'name': 'u9', 'addresses': ['10.77.0.1/24']}}],
        },
        {
            'name': 'red',
            'links': [{'name': 'vx0', 'kind': 'vxlan', 'vni': 5, 'local': '10.77.0.1', 'underlay_dev': 'u9'}],
        },
    ]
    assert not any(o.failed for o in converge.converge(decl, check_mode=True))
    outcomes = converge.converge(decl)
    assert not any(o.failed for o in outcomes), [o.failed for o in outcomes]
    assert [o.changes for o in converge.converge(decl)] == [[], []]
