"""The role's declaration of one host: services checked and split out, segments merged."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.filter.netns_declaration import FilterModule
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.declaration import declared_services, host_declaration

declaration = FilterModule().filters()['netns_declaration']
SEGMENTS = [{'name': 'red', 'id': 100, 'subnet': '10.200.0.0/24', 'members': ['h1', 'h2']}]
HOSTVARS = {'h1': {'ansible_host': '192.0.2.11'}, 'h2': {'ansible_host': '192.0.2.12'}}


def test_services_are_split_out_and_the_namespaces_keep_everything_else():
    namespaces = [{'name': 'blue', 'links': [], 'services': ['web.service', {'name': 'dns.service', 'restart': True}]},
                  {'name': 'old', 'state': 'absent', 'services': ['gone.service']}, {'name': 'plain'}]
    result = declaration(namespaces)
    assert result['namespaces'] == [{'name': 'blue', 'links': []}, {'name': 'old', 'state': 'absent'},
                                    {'name': 'plain'}]
    assert result['services'] == [{'name': 'web.service', 'namespace': 'blue'},
                                  {'name': 'dns.service', 'restart': True, 'namespace': 'blue'}]
    assert namespaces[0]['services'], "the caller's data is not changed"


@pytest.mark.parametrize('services, words', [
    ('web.service', "blue: services \"web.service\" is not a list"),
    ({'name': 'x'}, 'is not a list'),
    ([42], 'blue: service 42 is neither a unit name nor a mapping'),
    ([{'name': 'web.service', 'restrat': True}], 'only the keys name, restart, writable_etc, bind_etc'),
    ([{'restart': True}], 'is neither a unit name'),
])
def test_malformed_services_fail_naming_the_namespace_and_value(services, words):
    with pytest.raises(AnsibleFilterError) as info:
        declaration([{'name': 'blue', 'services': services}])
    assert words in str(info.value)


def test_a_service_in_two_namespaces_fails():
    with pytest.raises(NamespaceError, match='each service may be in one namespace only'):
        declared_services([{'name': 'a', 'services': ['web.service']}, {'name': 'b', 'services': ['web.service']}])


def test_segments_are_merged_for_the_member_and_services_of_a_merged_namespace_kept():
    result = host_declaration([{'name': 'red', 'services': ['web.service']}], SEGMENTS, 'h1', HOSTVARS)
    assert [link['name'] for link in result['namespaces'][0]['links']] == ['br100', 'vx100']
    assert 'services' not in result['namespaces'][0]
    assert result['services'] == [{'name': 'web.service', 'namespace': 'red'}]


def test_a_segment_mistake_fails_every_host_as_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="segment 'red'"):
        declaration([], segments=[dict(SEGMENTS[0], id=0)], host='h1', hostvars=HOSTVARS)
