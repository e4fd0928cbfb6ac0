"""Fleet segments: validation, stable addresses and one host's netns_config items (pure data, no kernel)."""

import ipaddress

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.allocate import allocate
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.fleet import (
    device_of,
    expand_for_host,
    underlay_source,
)
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.spec import check_segments

HOSTS = dict((f'host{i}', {'lab_address': f'10.77.0.{i}'}) for i in range(1, 9))


def red(**extra):
    segment = {'name': 'red', 'id': 100, 'subnet': '10.200.0.0/24', 'members': ['host1', 'host2', 'host3']}
    segment.update(extra)
    return segment


def expand(segments, host='host1', hostvars=None, **kwargs):
    kwargs.setdefault('underlay_var', 'lab_address')
    return expand_for_host(segments, host, HOSTS if hostvars is None else hostvars, **kwargs)


def refused(segments, *fragments, **kwargs):
    with pytest.raises(NamespaceError) as info:
        expand(segments, **kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert 'Nothing was changed' in message
    return message


def test_a_member_gets_a_bridge_and_a_vxlan_flooding_to_every_other_member():
    items = expand([red()], facts={'eth0': {'device': 'eth0', 'ipv4': {'address': '10.77.0.1'}}})
    assert len(items) == 1 and items[0]['name'] == 'red'
    bridge, vxlan = items[0]['links']
    address = ipaddress.ip_interface(bridge['addresses'][0])
    assert bridge['name'] == 'br100' and bridge['kind'] == 'bridge' and address in ipaddress.ip_network('10.200.0.0/24')
    assert address.network.prefixlen == 24
    assert bridge['address'] == expand([red()])[0]['links'][0]['address'], 'a stable MAC (peers keep their ARP entry)'
    assert int(bridge['address'][:2], 16) & 3 == 2, 'locally administered, unicast'
    macs = [expand([red()], host=h)[0]['links'][0]['address'] for h in ('host1', 'host2', 'host3')]
    assert len(set(macs)) == 3
    assert bridge['segment'] == 'red', 'netns_config records it as the segment\'s'
    assert vxlan == {
        'name': 'vx100',
        'kind': 'vxlan',
        'vni': 100,
        'local': '10.77.0.1',
        'master': 'br100',
        'underlay_dev': 'eth0',
        'segment': 'red',
        'fdb': [{'mac': '00:00:00:00:00:00', 'dst': '10.77.0.2'}, {'mac': '00:00:00:00:00:00', 'dst': '10.77.0.3'}],
    }


def test_a_host_that_is_no_member_gets_nothing_but_its_declared_namespaces():
    declared = [{'name': 'blue'}]
    assert expand([red()], host='host4', namespaces=declared) == declared


def test_declared_options_reach_the_vxlan_and_the_bridge_mtu():
    vxlan = expand([red(port=8472, mtu=1400, learning=False, namespace='tenant')])[0]
    assert vxlan['name'] == 'tenant'
    bridge, link = vxlan['links']
    assert bridge['mtu'] == 1400
    assert (link['port'], link['mtu'], link['learning']) == (8472, 1400, False)
    assert 'underlay_dev' not in link, 'no facts, no device: the kernel default MTU applies'


def test_addresses_are_distinct_and_stable_across_runs_and_membership_changes():
    three = allocate(check_segments([red()])[0])
    again = allocate(check_segments([red(members=['host3', 'host1', 'host2'])])[0])
    four = allocate(check_segments([red(members=['host1', 'host2', 'host3', 'host4'])])[0])
    assert three == again
    assert len(set(three.values())) == 3
    assert dict((h, four[h]) for h in three) == three, 'a host joining moves nobody (no collision in a /24)'
    two = allocate(check_segments([red(members=['host1', 'host3'])])[0])
    assert two == dict((h, three[h]) for h in two), 'a host leaving moves nobody'


def test_collisions_resolve_deterministically_and_overrides_win():
    members = [f'host{i}' for i in range(1, 7)]
    # a /29 has 6 usable addresses: every member collides with someone, all still get one
    tight = allocate(check_segments([red(subnet='10.200.0.0/29', members=members)])[0])
    assert sorted(str(a.ip) for a in tight.values()) == [f'10.200.0.{i}' for i in range(1, 7)]
    assert tight == allocate(check_segments([red(subnet='10.200.0.0/29', members=list(reversed(members)))])[0])
    taken = str(tight['host2'].ip)
    moved = allocate(check_segments([red(subnet='10.200.0.0/29', members=members, addresses={'host5': taken})])[0])
    assert str(moved['host5'].ip) == taken and str(moved['host2'].ip) != taken


def test_an_override_moves_no_other_member_unless_it_takes_that_members_address():
    """Issue 22, the documented stability rule: an override on one member
    left the probing, so a member that had collided with it and probed past
    took its freed address, and others shifted along. Every override of
    every member onto every address nobody holds must move only that member;
    onto another member's address, only those two."""
    members = [f'host{i}' for i in range(1, 9)]
    segment = red(subnet='10.200.0.0/28', members=members)
    plain = allocate(check_segments([segment])[0])
    free = sorted(set(ipaddress.ip_interface(f'10.200.0.{i}/28') for i in range(1, 15)) - set(plain.values()))
    for host in members:
        for address in free:
            moved = allocate(check_segments([dict(segment, addresses={host: str(address.ip)})])[0])
            assert moved[host] == address
            assert dict((h, moved[h]) for h in members if h != host) == dict(
                (h, plain[h]) for h in members if h != host
            ), (host, address)
        for other in members:
            if other == host:
                continue
            moved = allocate(check_segments([dict(segment, addresses={host: str(plain[other].ip)})])[0])
            assert moved[host] == plain[other] and len(set(moved.values())) == len(members)
            assert dict((h, moved[h]) for h in members if h not in (host, other)) == dict(
                (h, plain[h]) for h in members if h not in (host, other)
            ), (host, other)


def _expand_v6():
    """Host a's items of an IPv6 segment of a and b, over IPv6 underlays."""
    hostvars = {'a': {'ansible_host': 'fd00::1'}, 'b': {'ansible_host': 'fd00::2'}}
    segment = {'name': 'v6', 'id': 7, 'subnet': 'fd77::/64', 'members': ['a', 'b']}
    return expand([segment], host='a', hostvars=hostvars, underlay_var='ansible_host')


def test_ipv6_segments_and_underlays():
    items = _expand_v6()
    bridge, vxlan = items[0]['links']
    assert bridge['addresses'][0].endswith('/64') and vxlan['fdb'] == [{'mac': '00:00:00:00:00:00', 'dst': 'fd00::2'}]


def test_underlay_address_precedence():
    assert (
        underlay_source('h', {'h': {'netns_underlay_address': '10.0.0.9', 'ansible_host': '10.0.0.1'}}, 'ansible_host')[
            0
        ]
        == '10.0.0.9'
    )
    assert underlay_source('h', {'h': {'ansible_host': '10.0.0.1'}}, 'ansible_host')[0] == '10.0.0.1'
    assert underlay_source('10.0.0.5', {'10.0.0.5': {}}, 'ansible_host')[0] == '10.0.0.5', "ansible_host's default"
    assert underlay_source('h', {'h': {'lab': '10.0.0.2'}}, 'lab')[0] == '10.0.0.2'
    assert underlay_source('h', {'h': {}}, 'lab') == (None, 'lab is not set')
    assert underlay_source('h', {}, 'lab') == (None, None), 'not in the inventory'


class HostVarsLike(dict):
    """Ansible's hostvars: an unknown host reads as an undefined value that fails when used, not KeyError."""

    def __getitem__(self, host):
        if host not in self:
            raise RuntimeError(f'undefined hostvars[{host!r}]')
        return dict.__getitem__(self, host)


def test_hostvars_are_asked_whether_they_have_a_host_before_it_is_read():
    refused([red(members=['host1', 'ghost'])], 'not in the inventory', hostvars=HostVarsLike(HOSTS))


def test_the_underlay_device_is_found_in_facts_by_address():
    facts = {
        'lo': {'device': 'lo', 'ipv4': {'address': '127.0.0.1'}},
        'lab_x': {'device': 'lab-x', 'ipv4': {'address': '10.0.0.1'}, 'ipv4_secondaries': [{'address': '10.77.0.1'}]},
        'interfaces': ['lo', 'lab-x'],
    }
    assert device_of(ipaddress.ip_address('10.77.0.1'), facts) == 'lab-x'
    assert device_of(ipaddress.ip_address('10.77.0.9'), facts) is None
    items = expand([red()], facts=facts, underlay_device='eth9')
    assert items[0]['links'][1]['underlay_dev'] == 'eth9', 'a declared device wins over facts'


def test_two_segments_in_one_namespace_share_one_item():
    items = expand([red(), red(name='red2', id=101, namespace='red', subnet='10.201.0.0/24')])
    assert [i['name'] for i in items] == ['red']
    assert [link['name'] for link in items[0]['links']] == ['br100', 'vx100', 'br101', 'vx101']


def test_segment_links_are_added_to_a_declared_namespace():
    declared = [{'name': 'red', 'links': [{'name': 'eth0', 'kind': 'veth', 'peer': {'name': 'red-host'}}]}]
    items = expand([red()], namespaces=declared)
    assert [link['name'] for link in items[0]['links']] == ['eth0', 'br100', 'vx100']
    assert len(declared[0]['links']) == 1, 'the caller\'s list is not modified'


def test_a_declared_link_with_a_generated_name_clashes():
    refused(
        [red()],
        "host 'host1'",
        "namespace 'red'",
        "'br100'",
        namespaces=[{'name': 'red', 'links': [{'name': 'br100', 'kind': 'bridge'}]}],
    )


def test_a_segment_namespace_declared_absent_clashes():
    refused([red()], "'absent'", "host 'host1'", namespaces=[{'name': 'red', 'state': 'absent'}])


def test_duplicate_vnis_are_refused():
    refused([red(), red(name='blue', subnet='10.201.0.0/24')], "segment 'blue'", 'id 100', "segment 'red'")


def test_duplicate_segment_names_are_refused():
    refused([red(), red(id=101)], "segment 'red'", 'unique')


def test_a_subnet_too_small_for_the_members_is_refused():
    refused([red(subnet='10.200.0.0/30')], "segment 'red'", '10.200.0.0/30', '2 usable', '3 members')


def test_overrides_outside_the_subnet_are_refused():
    refused([red(addresses={'host1': '10.9.9.9'})], "segment 'red'", "addresses['host1']", 'outside', '10.200.0.0/24')


@pytest.mark.parametrize(
    'override, fragment',
    [
        ('10.200.0.0', 'network or broadcast'),
        ('10.200.0.255', 'network or broadcast'),
        ('10.200.0.7/24', 'without a prefix length'),
        ('fd00::1', 'outside'),
        ('nonsense', 'must be an address'),
        (17, 'must be an address'),
    ],
)
def test_bad_overrides_are_refused(override, fragment):
    refused([red(addresses={'host2': override})], "segment 'red'", "addresses['host2']", fragment)


def test_colliding_overrides_are_refused():
    refused([red(addresses={'host1': '10.200.0.5', 'host2': '10.200.0.5'})], "addresses['host2']", "host 'host1'")


def test_an_override_for_a_host_that_is_no_member_is_refused():
    refused([red(addresses={'host9': '10.200.0.5'})], "'host9'", 'not a member')


def test_a_member_without_an_underlay_address_is_refused():
    hostvars = dict(HOSTS, host3={})
    refused(
        [red()], "segment 'red'", "host 'host3'", 'no underlay address', 'lab_address is not set', hostvars=hostvars
    )


def test_a_member_not_in_the_inventory_is_refused():
    refused([red(members=['host1', 'ghost'])], "host 'ghost'", 'not in the inventory', 'remove it from members')


def test_an_underlay_that_is_no_ip_address_is_refused():
    hostvars = {'host1': {'ansible_host': 'pid:123'}, 'host2': {'ansible_host': '10.0.0.2'}}
    refused(
        [red(members=['host1', 'host2'])],
        "host 'host1'",
        "'pid:123'",
        'not an IP address',
        'netns_underlay_address_var',
        hostvars=hostvars,
        underlay_var='ansible_host',
    )


def test_a_shared_underlay_address_is_refused():
    hostvars = dict(HOSTS, host2={'lab_address': '10.77.0.1'})
    refused([red()], "host 'host2'", 'also the underlay address', "'host1'", hostvars=hostvars)


def test_mixed_underlay_families_are_refused():
    hostvars = dict(HOSTS, host2={'lab_address': 'fd00::2'})
    refused([red()], "host 'host2'", 'one family', hostvars=hostvars)


def test_a_mistake_in_another_segment_fails_on_every_host():
    refused(
        [red(), {'name': 'blue', 'id': 200, 'subnet': '10.201.0.0/24', 'members': ['host5', 'ghost']}],
        "segment 'blue'",
        "host 'ghost'",
        'not in the inventory',
        host='host1',
    )


@pytest.mark.parametrize('members', ['host1,host2', 'host1', {'host1': None}, 5])
def test_members_that_are_not_a_list_are_refused(members):
    refused([red(members=members)], "segment 'red'", 'members', 'must be a list')


@pytest.mark.parametrize('member', ['', 5, None, 'new\nline'])
def test_members_that_are_no_host_names_are_refused(member):
    refused([red(members=['host1', member])], "segment 'red'", 'not an inventory host name')


@pytest.mark.parametrize('name', ['', '../etc', 'a/b', '-rf', 'new\nline', 5])
def test_hostile_segment_names_are_refused(name):
    refused([red(name=name)], f'name {name!r}')


@pytest.mark.parametrize('namespace', ['../x', '-x', 'tab\tbed'])
def test_hostile_namespace_names_are_refused(namespace):
    refused([red(namespace=namespace)], "segment 'red'", f'namespace {namespace!r}')


@pytest.mark.parametrize(
    'change, fragment',
    [
        ({'id': 0}, 'id'),
        ({'id': 16777216}, 'id'),
        ({'id': True}, 'id'),
        ({'id': '100'}, 'id'),
        ({'subnet': '10.200.0.1/24'}, 'host bits'),
        ({'subnet': '10.200.0.0'}, 'CIDR'),
        ({'subnet': 'x'}, 'CIDR'),
        ({'port': 0}, 'port'),
        ({'port': 70000}, 'port'),
        ({'mtu': 20}, 'mtu'),
        ({'learning': 'no'}, 'learning'),
        ({'addresses': ['10.200.0.1']}, 'addresses'),
        ({'vni': 5}, 'unknown key'),
    ],
)
def test_bad_segment_options_are_refused(change, fragment):
    refused([red(**change)], "segment 'red'", fragment)


@pytest.mark.parametrize('key', ['name', 'id', 'subnet', 'members'])
def test_required_keys(key):
    segment = red()
    del segment[key]
    refused([segment], f'{key} is required')


def test_the_segments_must_be_a_list_of_dicts():
    refused({'name': 'red'}, 'must be a list')
    refused(['red'], 'netns_segments[0]', 'must be a dict')


def test_no_segments_leaves_the_declared_namespaces_alone():
    assert expand(None, namespaces=[{'name': 'a'}]) == [{'name': 'a'}]
    assert expand([], namespaces=None) == []


def test_without_an_underlay_device_the_vxlan_mtu_leaves_room_for_the_encapsulation():
    """The kernel gives a device-less vxlan 1500, which a 1500 underlay
    cannot carry encapsulated: the documented 1450 (IPv6: 1430) is declared."""
    assert expand([red()])[0]['links'][1]['mtu'] == 1450
    items = _expand_v6()
    assert items[0]['links'][1]['mtu'] == 1430
    with_device = expand([red()], facts={'eth0': {'device': 'eth0', 'ipv4': {'address': '10.77.0.1'}}})
    assert 'mtu' not in with_device[0]['links'][1], 'the kernel derives it from the device'
    assert expand([red(mtu=9000)])[0]['links'][1]['mtu'] == 9000


@pytest.mark.parametrize(
    'address', ['0.0.0.0', '239.1.1.1', '::', 'ff02::1', '255.255.255.255', '127.0.0.1', '::1', '240.0.0.1']
)
def test_an_underlay_address_no_tunnel_can_use_is_refused_naming_segment_and_host(address):
    """netns_config refuses such a local or fdb dst only on the hosts that
    get it, inside the module, without naming the segment: the segment check
    refuses it on every host first."""
    hostvars = dict(HOSTS, host2={'lab_address': address})
    refused([red()], "segment 'red'", "host 'host2'", repr(address), 'unicast', hostvars=hostvars)


def test_segments_sharing_a_namespace_with_overlapping_subnets_are_refused():
    """Two bridges of one namespace with addresses in one subnet: both get a
    connected route to it and the kernel sends one segment's traffic out of
    the other's bridge."""
    blue = {'name': 'blue', 'id': 101, 'subnet': '10.200.0.128/25', 'members': ['host1', 'host2'], 'namespace': 'red'}
    refused([red(), blue], "segment 'blue'", '10.200.0.128/25', '10.200.0.0/24', "'red'", 'namespace')
    # disjoint subnets, or overlapping ones in different namespaces, are fine
    assert len(expand([red(), dict(blue, subnet='10.201.0.0/24')])[0]['links']) == 4
    assert len(expand([red(), dict(blue, namespace='blue')])) == 2


@pytest.mark.parametrize(
    'subnet, fragment',
    [
        ('0.0.0.0/0', 'default route'),
        ('::/0', 'default route'),
        ('10.0.0.0/7', 'too short'),
        ('2000::/15', 'too short'),
        ('224.0.0.0/24', 'multicast'),
        ('239.255.0.0/16', 'multicast'),
        ('ff02::/64', 'multicast'),
        ('127.0.0.0/24', 'loopback'),
        ('::1/128', 'loopback'),
        ('169.254.0.0/24', 'link-local'),
        ('fe80::/64', 'link-local'),
        ('0.0.0.0/24', 'unspecified'),
        ('::/128', 'unspecified'),
        ('240.0.0.0/24', 'reserved'),
        ('255.255.255.0/24', 'broadcast'),
    ],
)
def test_a_subnet_no_segment_can_have_is_refused_naming_segment_and_value(subnet, fragment):
    """Issue 22: such a subnet was accepted; a /0 gave every member a bridge
    holding the default route, and a multicast one addresses no bridge can use."""
    hostvars = {'a': {'ansible_host': 'fd00::1'}, 'b': {'ansible_host': 'fd00::2'}}
    members = ['host1', 'host2'] if '.' in subnet else ['a', 'b']
    refused(
        [red(subnet=subnet, members=members)],
        "segment 'red'",
        f'subnet {subnet!r}',
        fragment,
        **({} if '.' in subnet else {'hostvars': hostvars, 'underlay_var': 'ansible_host'}),
    )


@pytest.mark.parametrize('subnet', ['10.0.0.0/8', '10.200.0.0/24', '192.0.2.0/31', 'fd77::/64', '2001::/16'])
def test_ordinary_subnets_are_accepted(subnet):
    hostvars = {'a': {'ansible_host': 'fd00::1'}, 'b': {'ansible_host': 'fd00::2'}}
    if '.' in subnet:
        assert expand([red(subnet=subnet, members=['host1', 'host2'])])
    else:
        assert expand(
            [red(subnet=subnet, members=['a', 'b'])], host='a', hostvars=hostvars, underlay_var='ansible_host'
        )
