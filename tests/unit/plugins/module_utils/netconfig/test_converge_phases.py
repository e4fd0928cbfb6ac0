"""Namespaces joined by veths converge in one call whatever their order:
the far end of a veth is attached to a bridge the other namespace declares,
and routes over it work, also when that namespace comes first in the list."""

import json

import pytest
from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge


def _declaration(core_first):
    edge = {
        'name': 'edge',
        'links': [
            {
                'name': 'tocore',
                'kind': 'veth',
                'addresses': ['10.45.0.1/30'],
                'peer': {
                    'name': 'toedge',
                    'netns': 'core',
                    'addresses': ['10.45.0.2/30'],
                    'master': 'cbr',
                    'mtu': 1400,
                },
            }
        ],
        'routes': [{'dst': '198.51.100.0/24', 'via': '10.45.0.2'}],
    }
    core = {
        'name': 'core',
        'links': [{'name': 'cbr', 'kind': 'bridge', 'addresses': ['10.46.0.1/24']}],
        'routes': [{'dst': '203.0.113.0/24', 'dev': 'toedge'}],
        'sysctls': {'net/ipv4/conf/toedge/forwarding': 1},
    }
    return [core, edge] if core_first else [edge, core]


@pytest.mark.parametrize('core_first', [True, False])
def test_cross_namespace_veth_with_master_and_routes_in_either_order(core_first):
    decl = _declaration(core_first)
    planned = converge.converge(decl, check_mode=True)
    done = converge.converge(decl)
    assert [o.failed for o in done] == [None, None]
    assert [o.changes for o in planned] == [o.changes for o in done]
    link = json.loads(sh('ip', '-n', 'core', '-j', '-d', 'link', 'show', 'toedge').stdout)[0]
    assert link['master'] == 'cbr' and link['mtu'] == 1400
    assert '203.0.113.0/24 dev toedge' in sh('ip', '-n', 'core', 'route').stdout
    assert '198.51.100.0/24 via 10.45.0.2' in sh('ip', '-n', 'edge', 'route').stdout
    assert sh('ip', 'netns', 'exec', 'core', 'cat', '/proc/sys/net/ipv4/conf/toedge/forwarding').stdout.strip() == '1'
    assert all(not o.changes for o in converge.converge(decl))


def test_a_pin_dir_refused_before_any_namespace_is_made_is_the_error_raised():
    """A failure before the undeclared namespaces are opened (a pin_dir the pin rules refuse) is raised as
    the NamespaceError it is, not hidden behind an UnboundLocalError of the cleanup, which also left the
    host's netlink socket open."""
    with pytest.raises(NamespaceError) as exc:
        converge.converge([{'name': 'red'}], pin_dir='relative/dir')
    assert 'pin_dir' in str(exc.value)
