"""netns_config against the real kernel; `ip -j` is the oracle."""

import json
import os
import socket
import stat
import subprocess
import threading

import pytest

from moduleharness import netns_config_run as converge
from nsoracle import addrs, ip


def kind_available(kind):
    probe = subprocess.run(['ip', 'link', 'add', 'probe0', 'type', kind], capture_output=True, check=False)
    subprocess.run(['ip', 'link', 'del', 'probe0'], capture_output=True, check=False)
    return probe.returncode == 0


TENANT = [
    {
        'name': 'tenant',
        'links': [
            {
                'name': 'eth0',
                'kind': 'veth',
                'addresses': ['10.200.1.2/24', 'fd00:1::2/64'],
                'peer': {'name': 'tn-host', 'addresses': ['10.200.1.1/24']},
            }
        ],
        'routes': [{'dst': 'default', 'via': '10.200.1.1'}, {'dst': 'fd00:9::/64', 'via': 'fd00:1::1'}],
    }
]


def test_veth_to_host_addresses_routes_and_loopback(capsys):
    out = converge(capsys, TENANT)
    assert out['changed'] and not out.get('failed'), out
    assert addrs('eth0', 'tenant') == ['10.200.1.2/24', 'fd00:1::2/64']
    assert addrs('tn-host') == ['10.200.1.1/24']
    lo = ip('link', 'show', 'lo', netns='tenant')[0]
    assert 'UP' in lo['flags']
    routes = ip('route', netns='tenant')
    assert {'dst': 'default', 'gateway': '10.200.1.1'}.items() <= routes[0].items()
    assert any(r['dst'] == 'fd00:9::/64' and r.get('gateway') == 'fd00:1::1' for r in ip('-6', 'route', netns='tenant'))
    assert out['namespaces'][0]['pins'][0]['path'] == '/run/netns/tenant'


def test_rerun_is_unchanged_and_check_mode_predicts_the_real_run(capsys):
    predicted = converge(capsys, TENANT, check_mode=True)
    assert not os.path.exists('/run/netns/tenant'), 'check mode touched nothing'
    assert [lk['ifname'] for lk in ip('link')] == ['lo']
    real = converge(capsys, TENANT)
    assert predicted['namespaces'][0]['changes'] == real['namespaces'][0]['changes']
    again = converge(capsys, TENANT)
    assert not again['changed'] and again['namespaces'][0]['changes'] == []


def test_changing_one_address_changes_only_that_address(capsys):
    converge(capsys, TENANT)
    changed = json.loads(json.dumps(TENANT))
    changed[0]['links'][0]['addresses'] = ['10.200.1.2/24', 'fd00:1::3/64']
    out = converge(capsys, changed, purge=True)
    assert out['namespaces'][0]['changes'] == [
        "add address fd00:1::3/64 to eth0 in namespace 'tenant'",
        "remove address fd00:1::2/64 from eth0 in namespace 'tenant' (not declared; purge)",
    ]


def test_addresses_compare_as_networks_and_macs_case_insensitively(capsys):
    decl = [
        {
            'name': 'n',
            'links': [
                {
                    'name': 'br0',
                    'kind': 'bridge',
                    'address': '02:00:00:00:00:AB',
                    'addresses': ['10.0.0.1/24', 'fd00::1/64'],
                }
            ],
        }
    ]
    converge(capsys, decl)
    decl[0]['links'][0]['address'] = '02:00:00:00:00:ab'
    decl[0]['links'][0]['addresses'] = ['10.0.0.1/255.255.255.0', 'fd00:0:0::1/64']
    assert not converge(capsys, decl)['changed']


@pytest.mark.parametrize(
    'bad, where',
    [
        (
            {'name': 'x', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'x' * 16}}]},
            'namespaces[0].links[0].peer.name',
        ),
        ({'name': 'x', 'links': [{'name': 'e', 'kind': 'wireguard'}]}, 'namespaces[0].links[0].kind'),
        (
            {'name': 'x', 'links': [{'name': 'e', 'kind': 'bridge', 'addresses': ['10.0.0.1']}]},
            'namespaces[0].links[0].addresses[0]',
        ),
        ({'name': 'x', 'sysctls': {'kernel.hostname': 'x'}}, "namespaces[0].sysctls['kernel.hostname']"),
        ({'name': 'x', 'routes': [{'dst': 'default'}]}, 'namespaces[0].routes[0]'),
        ({'name': 'x', 'links': [{'name': 'e', 'kind': 'vlan', 'parent': 'eth0'}]}, 'namespaces[0].links[0].vlan_id'),
        (
            {'name': 'x', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'p', 'netns': 'nowhere'}}]},
            'peer.netns',
        ),
        ({'name': 'x', 'files': {'../escape': 'x'}}, "namespaces[0].files['../escape']"),
        ({'name': '../x'}, 'namespaces[0].name'),
    ],
)
def test_validation_names_the_item_and_touches_nothing(capsys, bad, where):
    good = {'name': 'fine', 'links': [{'name': 'b0', 'kind': 'bridge'}]}
    out = converge(capsys, [good, bad])
    where = where.replace('namespaces[0]', 'namespaces[1]')  # the bad item comes second
    assert out['failed'] and where in out['msg'] and 'Nothing was changed' in out['msg'], out['msg']
    assert not os.path.exists('/run/netns')


def test_bridge_master_mtu_and_peer_on_a_host_bridge(capsys):
    subprocess.run(['ip', 'link', 'add', 'hostbr', 'type', 'bridge'], check=True)
    decl = [
        {
            'name': 'b',
            'links': [
                {'name': 'br0', 'kind': 'bridge', 'mtu': 1400},
                {
                    'name': 'v0',
                    'kind': 'veth',
                    'master': 'br0',
                    'mtu': 1400,
                    'peer': {'name': 'b-host', 'master': 'hostbr', 'mtu': 1400},
                },
            ],
        }
    ]
    converge(capsys, decl)
    v0 = ip('link', 'show', 'v0', netns='b')[0]
    assert v0['master'] == 'br0' and v0['mtu'] == 1400
    assert ip('link', 'show', 'b-host')[0]['master'] == 'hostbr'
    assert not converge(capsys, decl)['changed']


def test_sysctls_with_dotted_interface_names_stay_inside(capsys):
    decl = [
        {
            'name': 's',
            'links': [{'name': 'br.100', 'kind': 'bridge'}],
            'sysctls': {
                'net.ipv4.ip_forward': 1,
                'net/ipv4/conf/br.100/forwarding': '1',
                'net.ipv6.conf.all.disable_ipv6': True,
            },
        }
    ]
    out = converge(capsys, decl)
    assert not out.get('failed'), out

    def inside(key):
        return subprocess.run(
            ['ip', 'netns', 'exec', 's', 'cat', '/proc/sys/' + key], capture_output=True, text=True, check=True
        ).stdout.strip()

    assert inside('net/ipv4/ip_forward') == '1'
    assert inside('net/ipv4/conf/br.100/forwarding') == '1'
    assert inside('net/ipv6/conf/all/disable_ipv6') == '1'
    with open('/proc/sys/net/ipv4/ip_forward') as handle:
        assert handle.read().strip() == '0', 'the host is untouched'
    assert not converge(capsys, decl)['changed']


def test_files_are_written_atomically_with_mode_0644_and_diffed(capsys):
    decl = [{'name': 'f', 'files': {'resolv.conf': 'nameserver 10.0.0.53\n', 'hosts': '10.0.0.1 gw\n'}}]
    out = converge(capsys, decl, diff=True)
    path = '/etc/netns/f/resolv.conf'
    assert open(path).read() == 'nameserver 10.0.0.53\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert any(d.get('after_header') == path and d['before'] == '' for d in out['diff'])
    decl[0]['files']['hosts'] = '10.0.0.2 gw\n'
    out = converge(capsys, decl, diff=True)
    assert out['namespaces'][0]['changes'] == ['update /etc/netns/f/hosts']
    seen = subprocess.run(
        ['ip', 'netns', 'exec', 'f', 'cat', '/etc/hosts'], capture_output=True, text=True, check=True
    ).stdout
    assert seen == '10.0.0.2 gw\n'


def test_two_namespaces_cabled_by_veth_exchange_tcp(capsys):
    decl = [
        {
            'name': 'left',
            'links': [
                {
                    'name': 'l0',
                    'kind': 'veth',
                    'addresses': ['10.9.0.1/30'],
                    'peer': {'name': 'r0', 'netns': 'right', 'addresses': ['10.9.0.2/30']},
                }
            ],
        },
        {'name': 'right'},
    ]
    out = converge(capsys, decl)
    assert not out.get('failed'), out
    server = subprocess.Popen(
        [
            'ip',
            'netns',
            'exec',
            'right',
            'python3',
            '-c',
            'import socket\ns = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n'
            's.bind(("10.9.0.2", 7777)); s.listen(1); print("ready", flush=True)\n'
            'c, _ = s.accept(); c.sendall(c.recv(100).upper()); c.close()',
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == 'ready'
        client = subprocess.run(
            [
                'ip',
                'netns',
                'exec',
                'left',
                'python3',
                '-c',
                'import socket\nc = socket.create_connection(("10.9.0.2", 7777), 5)\n'
                'c.sendall(b"ping"); print(c.recv(100).decode())',
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
        assert client.stdout.strip() == 'PING'
    finally:
        server.kill()
    # the peer end declared by left is not purged from right
    assert not converge(capsys, decl, purge=True)['changed']


def test_purge_removes_what_is_not_declared_but_not_the_kernels_own(capsys):
    converge(capsys, TENANT)
    subprocess.run(['ip', '-n', 'tenant', 'link', 'add', 'stray', 'type', 'bridge'], check=True)
    subprocess.run(['ip', '-n', 'tenant', 'addr', 'add', '10.200.1.99/24', 'dev', 'eth0'], check=True)
    subprocess.run(['ip', '-n', 'tenant', 'route', 'add', '10.77.0.0/16', 'via', '10.200.1.1'], check=True)
    out = converge(capsys, TENANT, purge=True)
    changes = out['namespaces'][0]['changes']
    assert len(changes) == 3 and all('purge' in c for c in changes), changes
    assert [lk['ifname'] for lk in ip('link', netns='tenant')] == ['lo', 'eth0']
    assert any(r['dst'] == '10.200.1.0/24' and r.get('protocol') == 'kernel' for r in ip('route', netns='tenant'))


def test_nsid_is_set_once_and_a_different_one_is_an_error(capsys):
    converge(capsys, [{'name': 'idns', 'nsid': 42}])
    assert any(e['nsid'] == 42 for e in ip('netns', 'list-id'))
    out = converge(capsys, [{'name': 'idns', 'nsid': 43}])
    assert out['failed'] and 'cannot change' in out['namespaces'][0]['msg']


def test_absent_removes_the_namespace_and_the_host_ends_of_its_veths(capsys):
    converge(capsys, TENANT)
    busy = subprocess.Popen(['ip', 'netns', 'exec', 'tenant', 'sleep', '60'])
    try:
        out = converge(capsys, [{'name': 'tenant', 'state': 'absent'}])
        assert out['changed'], out
        assert not os.path.exists('/run/netns/tenant')
        assert [lk['ifname'] for lk in ip('link')] == ['lo'], (
            'the host end went too, although a process keeps the namespace'
        )
    finally:
        busy.kill()
    assert not converge(capsys, [{'name': 'tenant', 'state': 'absent'}])['changed']


def test_macvlan_and_physical_links_come_from_the_host(capsys):
    subprocess.run(['ip', 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'spare'], check=True)
    decl = [
        {
            'name': 'm',
            'links': [
                {'name': 'mv0', 'kind': 'macvlan', 'parent': 'uplink', 'mode': 'bridge', 'addresses': ['10.3.0.2/24']},
                {'name': 'phys0', 'kind': 'physical', 'parent': 'spare'},
            ],
        }
    ]
    out = converge(capsys, decl)
    assert not out.get('failed'), out
    inside = dict((lk['ifname'], lk) for lk in ip('-d', 'link', netns='m'))
    assert inside['mv0']['linkinfo']['info_kind'] == 'macvlan'
    assert 'phys0' in inside and 'spare' not in [lk['ifname'] for lk in ip('link')]
    assert not converge(capsys, decl)['changed']


@pytest.mark.parametrize(
    'kind, extra',
    [('dummy', {}), ('vlan', {'parent': 'uplink', 'vlan_id': 100}), ('ipvlan', {'parent': 'uplink', 'mode': 'l3'})],
)
def test_kinds_this_kernel_may_lack(capsys, kind, extra):
    subprocess.run(['ip', 'link', 'add', 'uplink', 'type', 'veth', 'peer', 'name', 'uplink-p'], check=True)
    if not kind_available(kind):
        pytest.skip(
            f'this kernel has no {kind} links (module not built); the request is covered by netconfig/test_plan.py'
        )
    decl = [{'name': 'k', 'links': [dict({'name': 'x0', 'kind': kind}, **extra)]}]
    assert not converge(capsys, decl).get('failed')
    assert not converge(capsys, decl)['changed']


def test_a_failing_namespace_leaves_the_others_converged(capsys):
    decl = [
        {'name': 'good', 'links': [{'name': 'b0', 'kind': 'bridge', 'addresses': ['10.4.0.1/24']}]},
        {'name': 'bad', 'links': [{'name': 'p0', 'kind': 'physical', 'parent': 'no-such-link'}]},
    ]
    out = converge(capsys, decl)
    assert out['failed'] and 'bad' in out['msg']
    good, bad = out['namespaces']
    assert not good.get('failed') and addrs('b0', 'good') == ['10.4.0.1/24']
    assert bad['failed'] and 'no-such-link' in bad['msg'] and 'Done before' in bad['msg']


def test_the_module_process_never_stays_in_another_namespace(capsys):
    before = os.readlink('/proc/self/ns/net')
    threads = threading.active_count()
    converge(capsys, TENANT)
    assert os.readlink('/proc/self/ns/net') == before
    assert threading.active_count() == threads
    assert socket.if_nameindex()[0][1] == 'lo'
