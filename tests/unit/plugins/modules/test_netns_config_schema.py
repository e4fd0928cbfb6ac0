"""netns_config's options are checked by netconfig/spec.py (which names each bad item's path) and documented
in the module's DOCUMENTATION: the two must say the same, key for key, choice for choice, default for default."""

import yaml

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import spec
from ansible_collections.nsfd.namespaces.plugins.modules import netns_config

NAMESPACE = yaml.safe_load(netns_config.DOCUMENTATION)['options']['namespaces']['suboptions']
LINK = NAMESPACE['links']['suboptions']


@pytest.mark.parametrize(
    'documented, checked',
    [
        (NAMESPACE, spec.NS_KEYS),
        (LINK, spec.LINK_KEYS),
        (LINK['peer']['suboptions'], spec.PEER_KEYS),
        (LINK['fdb']['suboptions'], spec.FDB_KEYS),
        (NAMESPACE['routes']['suboptions'], spec.ROUTE_KEYS),
    ],
    ids=['namespaces', 'links', 'links.peer', 'links.fdb', 'routes'],
)
def test_every_key_the_spec_takes_is_documented_and_no_other(documented, checked):
    assert set(documented) == set(checked)


def test_the_documented_choices_are_the_ones_the_spec_takes():
    assert tuple(LINK['kind']['choices']) == spec.KINDS
    for mode in spec.MACVLAN_MODES + spec.IPVLAN_MODES:
        assert f'V({mode})' in ' '.join(LINK['mode']['description']), mode
    assert set(spec.VXLAN_KEYS) <= set(LINK)


def _resolved(declaration):
    return spec.validate([declaration])[0]


def test_the_documented_defaults_are_the_ones_the_spec_applies():
    decl = _resolved(
        {
            'name': 'n',
            'links': [
                {'name': 'v0', 'kind': 'vxlan', 'vni': 7, 'local': '192.0.2.1', 'underlay_dev': 'eth0'},
                {'name': 'e0', 'kind': 'veth', 'peer': {'name': 'h0'}},
            ],
        }
    )
    assert decl['state'] == NAMESPACE['state']['default']
    assert decl['loopback'] is NAMESPACE['loopback']['default']
    vxlan, veth = decl['links']
    assert vxlan['state'] == veth['state'] == LINK['state']['default']
    assert vxlan['vxlan']['port'] == LINK['port']['default']
    assert vxlan['vxlan']['learning'] is LINK['learning']['default']
    assert veth['peer']['state'] == LINK['peer']['suboptions']['state']['default']
    assert decl['services'] == NAMESPACE['services']['default']


def test_an_undocumented_key_is_refused_naming_its_path():
    with pytest.raises(NamespaceError) as exc:
        _resolved({'name': 'n', 'links': [{'name': 'e0', 'kind': 'dummy', 'colour': 'red'}]})
    assert 'namespaces[0].links[0]' in str(exc.value) and 'colour' in str(exc.value)
