"""netns_config's namespaces[].details: each change of namespaces[].changes as data (kind, object, before,
after), in the same order, for reports such as the drift report (issue 26)."""

import json
import subprocess

from moduleharness import netns_config_run as converge

DECLARED = [
    {
        'name': 'tenant',
        'links': [
            {
                'name': 'eth0',
                'kind': 'veth',
                'addresses': ['10.200.1.2/24'],
                'peer': {'name': 'tn-host', 'addresses': ['10.200.1.1/24']},
            },
            {'name': 'br0', 'kind': 'bridge', 'addresses': ['10.201.0.1/24']},
            {
                'name': 'vx100',
                'kind': 'vxlan',
                'vni': 100,
                'local': '10.200.1.1',
                'learning': False,
                'master': 'br0',
                'fdb': [
                    {'mac': '00:00:00:00:00:00', 'dst': '10.200.1.7'},
                    {'mac': '00:00:00:00:00:00', 'dst': '10.200.1.8'},
                ],
            },
        ],
        'routes': [{'dst': '10.50.0.0/24', 'via': '10.200.1.1'}],
        'sysctls': {'net.ipv4.ip_forward': 1},
    },
]


def sh(script):
    subprocess.run(['sh', '-ec', script], check=True, capture_output=True)


def details(out):
    [namespace] = out['namespaces']
    assert len(namespace['details']) == len(namespace['changes']), 'one entry per change, in order'
    json.dumps(namespace['details'])  # plain JSON
    return namespace['details']


def test_every_change_has_its_details_and_a_converged_namespace_none(capsys):
    first = details(converge(capsys, DECLARED))
    assert first[0] == {'kind': 'namespace', 'object': 'tenant', 'before': None, 'after': 'present'}
    kinds = set(d['kind'] for d in first)
    assert kinds == set(['namespace', 'link', 'address', 'fdb', 'route', 'sysctl']), first
    assert {
        'kind': 'link',
        'object': 'eth0',
        'before': None,
        'after': {'kind': 'veth', 'peer': 'tn-host (the host)'},
    } in first
    assert {'kind': 'address', 'object': 'tn-host (the host)', 'before': None, 'after': '10.200.1.1/24'} in first
    assert {'kind': 'sysctl', 'object': 'net.ipv4.ip_forward', 'before': '0', 'after': '1'} in first
    assert details(converge(capsys, DECLARED)) == []


def test_drift_made_by_hand_is_what_check_mode_details(capsys):
    converge(capsys, DECLARED)
    sh(
        'ip -n tenant addr del 10.201.0.1/24 dev br0; ip -n tenant route add 10.60.0.0/24 dev eth0; '
        'bridge -n tenant fdb del 00:00:00:00:00:00 dev vx100 dst 10.200.1.8 self; '
        'ip netns exec tenant sysctl -q -w net.ipv4.ip_forward=0'
    )
    found = details(converge(capsys, DECLARED, check_mode=True, purge=True))
    route = [d for d in found if d['kind'] == 'route']
    assert [d for d in found if d['kind'] != 'route'] == [
        {'kind': 'address', 'object': 'br0', 'before': None, 'after': '10.201.0.1/24'},
        {'kind': 'fdb', 'object': 'vx100', 'before': None, 'after': {'mac': '00:00:00:00:00:00', 'dst': '10.200.1.8'}},
        {'kind': 'sysctl', 'object': 'net.ipv4.ip_forward', 'before': '0', 'after': '1'},
    ], found
    assert len(route) == 1 and route[0]['object'] == '10.60.0.0/24' and route[0]['after'] is None, route
    assert route[0]['before'].startswith('10.60.0.0/24 dev eth0 proto boot'), route
    assert converge(capsys, DECLARED, purge=True)['changed']
    assert details(converge(capsys, DECLARED, check_mode=True, purge=True)) == []
