"""The netns_segments and netns_segment_addresses filters, as the role's templates call them."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.filter.netns_segment_addresses import FilterModule as Addresses
from ansible_collections.nsfd.namespaces.plugins.filter.netns_segments import FilterModule as Segments

SEGMENTS = [{'name': 'red', 'id': 100, 'subnet': '10.200.0.0/24', 'members': ['host1', 'host2']}]
HOSTVARS = {'host1': {'ansible_host': '192.0.2.11'}, 'host2': {'ansible_host': '192.0.2.12'}}


def test_the_filters_are_registered_under_their_names():
    assert 'netns_segments' in Segments().filters()
    assert 'netns_segment_addresses' in Addresses().filters()


def test_netns_segments_expands_for_the_host_from_hostvars():
    expand = Segments().filters()['netns_segments']
    items = expand(SEGMENTS, 'host2', HOSTVARS, namespaces=[{'name': 'mgmt'}])
    assert [i['name'] for i in items] == ['mgmt', 'red']
    vxlan = items[1]['links'][1]
    assert vxlan['local'] == '192.0.2.12' and vxlan['fdb'] == [{'mac': '00:00:00:00:00:00', 'dst': '192.0.2.11'}]


def test_netns_segments_fails_as_a_filter_error_naming_segment_and_host():
    expand = Segments().filters()['netns_segments']
    with pytest.raises(AnsibleFilterError) as info:
        expand(SEGMENTS, 'host1', {'host1': HOSTVARS['host1'], 'host2': {'ansible_host': 'router2.example'}})
    assert "segment 'red'" in str(info.value) and "host 'host2'" in str(info.value)
    assert "'router2.example'" in str(info.value)


def test_netns_segment_addresses_matches_what_members_get():
    addresses = Addresses().filters()['netns_segment_addresses'](SEGMENTS)
    expand = Segments().filters()['netns_segments']
    for host in ('host1', 'host2'):
        bridge = expand(SEGMENTS, host, HOSTVARS)[0]['links'][0]
        assert bridge['addresses'] == [addresses['red'][host] + '/24']


def test_netns_segment_addresses_fails_as_a_filter_error():
    with pytest.raises(AnsibleFilterError) as info:
        Addresses().filters()['netns_segment_addresses']([dict(SEGMENTS[0], id=0)])
    assert "segment 'red'" in str(info.value)
