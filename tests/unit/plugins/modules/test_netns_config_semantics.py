"""netns_config against the kernel's own rules (issue 11): addresses and
routes planned with the kernel's semantics, link kinds compared, and every
input the kernel would refuse (or that would crash) refused up front.
`ip -j` is the oracle."""

import json
import os
import subprocess

import pytest

from moduleharness import run_module

from ansible_collections.nsfd.namespaces.plugins.modules import netns_config


def ip(*args, netns=None):
    argv = ['ip'] + (['-n', netns] if netns else []) + ['-j'] + list(args)
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def addrs(link, netns=None):
    return sorted('%s/%d' % (a['local'], a['prefixlen']) for e in ip('addr', 'show', 'dev', link, netns=netns)
                  for a in e['addr_info'] if a.get('scope') != 'link')


def converge(capsys, namespaces, **kwargs):
    check = kwargs.pop('check_mode', False)
    diff = kwargs.pop('diff', False)
    return run_module(netns_config, dict(kwargs, namespaces=namespaces), capsys, check_mode=check, diff=diff)


def converged_twice(capsys, decl, **kwargs):
    """Converge, check that it worked and that a rerun changes nothing."""
    out = converge(capsys, decl, **kwargs)
    assert not out.get('failed'), out
    again = converge(capsys, decl, **kwargs)
    assert not again.get('failed') and not again['changed'], again
    return out


def veth(name, host, addresses=(), **extra):
    return dict({'name': name, 'kind': 'veth', 'addresses': list(addresses), 'peer': {'name': host}}, **extra)


# --- validation: refused before anything is touched ----------------------

BRIDGE = {'name': 'b0', 'kind': 'bridge'}


@pytest.mark.parametrize('bad, where, value', [
    # peer.netns naming a namespace the call removes (was: "Module failed: 'b'")
    ([{'name': 'a', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'p', 'netns': 'b'}}]},
      {'name': 'b', 'state': 'absent'}], 'namespaces[1].links[0].peer.netns', "'b'"),
    ([{'name': 'a', 'sysctls': {'net.ipv4': 1}}], "namespaces[1].sysctls['net.ipv4']", "'net.ipv4'"),
    ([{'name': 'a', 'sysctls': {'net.ipv4.conf.all': 1}}], "namespaces[1].sysctls['net.ipv4.conf.all']", 'directory'),
    ([{'name': 'a', 'sysctls': ['net.ipv4.ip_forward=1']}], 'namespaces[1].sysctls', 'list'),
    ([{'name': 'a', 'sysctls': {'net.ipv4.ip_forward': None}}], "namespaces[1].sysctls['net.ipv4.ip_forward']", 'None'),
    ([{'name': 'a', 'sysctls': {'net.ipv4.ip_forward': '1\x002'}}], "namespaces[1].sysctls['net.ipv4.ip_forward']",
     r"'1\x002'"),
    ([{'name': 'a', 'files': {'resolv\x00.conf': 'x'}}], 'namespaces[1].files', r"'resolv\x00.conf'"),
    ([{'name': 'a', 'files': {'hosts\n': 'x'}}], 'namespaces[1].files', r"'hosts\n'"),
    ([{'name': 'a', 'links': [{'name': 'all', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', "'all'"),
    ([{'name': 'a', 'links': [{'name': 'default', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', "'default'"),
    ([{'name': 'a', 'links': [veth('e', 'all')]}], 'namespaces[1].links[0].peer.name', "'all'"),
    ([{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': '10.0.0.0/8', 'dev': 'b0', 'table': 255}]}],
     'namespaces[1].routes[0].table', '255'),
    ([{'name': 'a', 'links': [dict(BRIDGE, address='01:00:5e:00:00:01')]}], 'namespaces[1].links[0].address',
     "'01:00:5e:00:00:01'"),
    ([{'name': 'a', 'links': [dict(BRIDGE, address='00:00:00:00:00:00')]}], 'namespaces[1].links[0].address',
     "'00:00:00:00:00:00'"),
    ([{'name': 'a', 'links': [dict(BRIDGE, master='b0')]}], 'namespaces[1].links[0].master', "'b0'"),
    ([{'name': 'a', 'links': [veth('e', 'shared')]}, {'name': 'c', 'links': [veth('e', 'shared')]}],
     'namespaces[2].links[0].peer.name', "'shared'"),
    ([{'name': 'a', 'links': [veth('e', 'p'), veth('f', 'p')]}], 'namespaces[1].links[1].peer.name', "'p'"),
    ([{'name': 'a', 'links': [{'name': 'e', 'kind': 'veth', 'peer': {'name': 'x', 'netns': 'c'}}]},
      {'name': 'c', 'links': [{'name': 'x', 'kind': 'bridge'}]}], 'namespaces[1].links[0].peer.name', "'x'"),
    ([{'name': 'a', 'links': [dict(BRIDGE, mtu=1500.7)]}], 'namespaces[1].links[0].mtu', '1500.7'),
    ([{'name': 'a', 'links': [BRIDGE], 'routes': [{'dst': '10.0.0.0/8', 'dev': 'b0', 'metric': 1.5}]}],
     'namespaces[1].routes[0].metric', '1.5'),
    ([{'name': 'a', 'links': [{'name': 'e\x85', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', r"'e\x85'"),
    ([{'name': 'a', 'links': [{'name': 'e\u2028', 'kind': 'bridge'}]}], 'namespaces[1].links[0].name', r"'e\u2028'"),
    ([{'name': 'a\x85'}], 'namespaces[1].name', r"'a\x85'"),
])
def test_hostile_input_is_refused_before_anything_is_touched(capsys, bad, where, value):
    good = {'name': 'fine', 'links': [{'name': 'b0', 'kind': 'bridge'}]}
    out = converge(capsys, [good] + bad)
    assert out['failed'] and 'Nothing was changed' in out['msg'], out
    assert where in out['msg'] and value in out['msg'], out['msg']
    assert 'Traceback' not in out['msg'] and 'Module failed' not in out['msg']
    assert not os.path.exists('/run/netns'), 'nothing was created'
    assert [l['ifname'] for l in ip('link')] == ['lo']


def test_integral_floats_and_numeric_strings_are_still_numbers(capsys):
    decl = [{'name': 'n', 'links': [dict(BRIDGE, mtu=1400.0)],
             'routes': [{'dst': '10.5.0.0/16', 'dev': 'b0', 'metric': '7'}]}]
    converged_twice(capsys, decl)
    assert ip('link', 'show', 'b0', netns='n')[0]['mtu'] == 1400
