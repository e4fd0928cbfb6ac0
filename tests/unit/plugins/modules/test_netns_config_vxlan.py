"""netns_config's vxlan links and their static forwarding entries (issue 13):
the tunnel's socket on the host, the device in the namespace, entries
converged as a whole list. `ip -d -j link` and `bridge -j fdb` are the
oracles."""

import json
import subprocess

import pytest

from moduleharness import run_module

from ansible_collections.nsfd.namespaces.plugins.modules import netns_config


def run(*argv, netns=None):
    argv = list(argv)
    if netns:
        argv[1:1] = ['-n', netns]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def sh(script):
    subprocess.run(['sh', '-ec', script], check=True, capture_output=True)


def vxlan_info(name, netns):
    [link] = run('ip', '-d', '-j', 'link', 'show', 'dev', name, netns=netns)
    return link


def fdb(name, netns):
    return sorted((e['mac'], e['dst']) for e in run('bridge', '-j', 'fdb', 'show', 'dev', name, netns=netns)
                  if 'dst' in e and e.get('state') == 'permanent')


def converge(capsys, namespaces, **kwargs):
    check = kwargs.pop('check_mode', False)
    diff = kwargs.pop('diff', False)
    return run_module(netns_config, dict(kwargs, namespaces=namespaces), capsys, check_mode=check, diff=diff)


def converged_twice(capsys, decl, **kwargs):
    out = converge(capsys, decl, **kwargs)
    assert not out.get('failed'), out
    again = converge(capsys, decl, **kwargs)
    assert not again.get('failed') and not again['changed'], again
    return out


@pytest.fixture
def underlay():
    """Two host links standing in for two hosts' underlays: u1 (10.77.0.1)
    and u2 (10.77.0.2), a veth pair in the sandbox's own namespace."""
    sh('ip link add u1 type veth peer name u2; ip addr add 10.77.0.1/24 dev u1; ip addr add 10.77.0.2/24 dev u2;'
       'ip link set u1 up; ip link set u2 up')


def red(local='10.77.0.1', dev='u1', address='10.200.0.11/24', name='red', fdb_=(('00:00:00:00:00:00', '10.77.0.2'),),
        **extra):
    vx = dict({'name': 'vx100', 'kind': 'vxlan', 'vni': 100, 'local': local, 'underlay_dev': dev, 'master': 'br100',
               'fdb': [{'mac': m, 'dst': d} for m, d in fdb_]}, **extra)
    return {'name': name, 'links': [{'name': 'br100', 'kind': 'bridge', 'addresses': [address]}, vx]}


def test_create_with_fdb_is_idempotent_and_the_socket_stays_on_the_host(capsys, underlay):
    converged_twice(capsys, [red(learning=False, fdb_=[('00:00:00:00:00:00', '10.77.0.2'),
                                                       ('00:00:00:00:00:00', '10.77.0.3'),
                                                       ('02:00:00:00:00:01', '10.77.0.3')])])
    link = vxlan_info('vx100', 'red')
    data = link['linkinfo']['info_data']
    assert (data['id'], data['local'], data['port'], data['learning']) == (100, '10.77.0.1', 4789, False)
    assert link['mtu'] == 1450  # derived by the kernel from u1's 1500
    assert link['master'] == 'br100'
    assert 'link_netnsid' in link  # its socket is in another namespace: the host's
    assert fdb('vx100', 'red') == [('00:00:00:00:00:00', '10.77.0.2'), ('00:00:00:00:00:00', '10.77.0.3'),
                                   ('02:00:00:00:00:01', '10.77.0.3')]
    assert not run('ip', '-j', 'link', 'show', 'type', 'vxlan')  # nothing of it on the host
    assert '4789' in subprocess.run(['ss', '-uan'], capture_output=True, text=True, check=True).stdout
