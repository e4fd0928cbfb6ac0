"""The naming, grouping and host data of the nsfd.namespaces.namespaces inventory plugin (plugin_utils)."""

import json
import os
import subprocess

import pytest

from ansible_collections.nsfd.namespaces.plugins.filter.netns_segments import FilterModule as Segments
from ansible_collections.nsfd.namespaces.plugins.plugin_utils import namespace_inventory as inventory

SEGMENTS = [{'name': 'purple', 'id': 100, 'subnet': '10.200.0.0/24', 'members': ['host1', 'host2']}]
HOSTVARS = {'host1': {'ansible_host': '192.0.2.11'}, 'host2': {'ansible_host': '192.0.2.12'}}


def test_default_names_and_groups_are_what_ansible_takes_everywhere():
    assert inventory.default_host_name('router1', 'red') == 'router1_red'
    assert inventory.group_name('netns_', 'red') == 'netns_red'
    assert inventory.group_name('netns_', 'tenant-a.1') == 'netns_tenant_a_1'
    assert inventory.group_name('netns_on_', 'router1.example.net') == 'netns_on_router1_example_net'


def test_declared_namespaces_are_the_roles_in_its_order_with_segments_merged():
    declared = {
        'netns_namespaces': [
            {'name': 'red', 'links': [{'name': 'eth0', 'kind': 'dummy'}]},
            {'name': 'gone', 'state': 'absent'},
        ],
        'netns_namespaces_extra': [{'name': 'mgmt'}, {'name': 'purple', 'sysctls': {'a.b': 1}}],
        'netns_segments': SEGMENTS,
    }
    found = inventory.declared_namespaces('host1', declared, HOSTVARS)
    assert [name for name, item in found] == ['red', 'mgmt', 'purple'], 'absent ones are no hosts'
    # the segment's links, as the role's filter merges them
    role = Segments().filters()['netns_segments'](
        SEGMENTS, 'host1', HOSTVARS, namespaces=declared['netns_namespaces'] + declared['netns_namespaces_extra']
    )
    assert dict(found)['purple'] == [i for i in role if i['name'] == 'purple'][0]
    assert [link['name'] for link in dict(found)['purple']['links']] == ['br100', 'vx100']
    # a host that is no member has no segment namespace
    assert [name for name, item in inventory.declared_namespaces('host3', {'netns_segments': SEGMENTS}, HOSTVARS)] == []


@pytest.mark.parametrize(
    'declared, words',
    [
        ({'netns_namespaces': {'name': 'red'}}, ['host1', 'netns_namespaces must be a list']),
        ({'netns_namespaces': ['red']}, ['host1', 'namespace #1', "'red'", 'not a mapping']),
        ({'netns_namespaces': [{'links': []}]}, ['host1', 'namespace #1', 'name None']),
        ({'netns_namespaces': [{'name': 'a/b'}]}, ['host1', "'a/b'", "'/'"]),
        (
            {'netns_namespaces': [{'name': 'red'}], 'netns_namespaces_extra': [{'name': 'red'}]},
            ['host1', "'red'", 'declared twice'],
        ),
        ({'netns_segments': [dict(SEGMENTS[0], id=0)]}, ['host1', "segment 'purple'"]),
    ],
)
def test_a_declaration_the_role_refuses_fails_naming_the_host(declared, words):
    with pytest.raises(inventory.InventoryProblem) as info:
        inventory.declared_namespaces('host1', declared, HOSTVARS)
    for word in words:
        assert word in str(info.value)


def test_a_namespace_host_is_reached_as_its_parent_inside_the_namespace():
    variables = inventory.declared_host_vars(
        'host1', 'red', {'name': 'red'}, {'ansible_user': 'root', 'ansible_port': 2222}
    )
    assert variables == {
        'ansible_host': 'host1',
        'ansible_user': 'root',
        'ansible_port': 2222,
        'ansible_become': True,
        'ansible_become_method': 'nsfd.namespaces.netns',
        'ansible_become_user': 'red',
        'netns_source': 'declared',
        'netns_parent': 'host1',
        'netns_name': 'red',
        'netns_declaration': {'name': 'red'},
    }
    reached = {'ansible_host': '192.0.2.11', 'ansible_connection': 'ssh'}
    variables = inventory.declared_host_vars('host1', 'red', {'name': 'red'}, reached, pin_dir='/run/netns-lab')
    assert variables['ansible_host'] == '192.0.2.11' and variables['ansible_connection'] == 'ssh'
    assert variables['ansible_netns_pin_dir'] == '/run/netns-lab'
    assert 'ansible_netns_pin_dir' not in inventory.declared_host_vars(
        'host1', 'red', {}, reached, pin_dir='/run/netns/'
    )


def test_a_name_made_twice_or_taken_fails_naming_both():
    table = inventory.HostTable(existing_hosts=['host1', 'web'], existing_groups=['routers'])
    table.add('host1_red', {}, [], "namespace 'red' of host host1")
    with pytest.raises(inventory.InventoryProblem) as info:
        table.add('host1_red', {}, [], "namespace 'red' of host host1_")
    assert "'host1_red'" in str(info.value) and 'host host1 ' in str(info.value) and 'host host1_' in str(info.value)
    with pytest.raises(inventory.InventoryProblem) as info:
        table.add('web', {}, [], "namespace 'web'")
    assert 'already a host of the inventory' in str(info.value)
    with pytest.raises(inventory.InventoryProblem):
        table.add('', {}, [], "namespace 'x'")


def test_two_namespaces_that_make_one_group_fail():
    table = inventory.HostTable(existing_hosts=['host1'])
    assert table.group('namespace', 'tenant-a', inventory.group_name('netns_', 'tenant-a')) == 'netns_tenant_a'
    assert table.group('namespace', 'tenant-a', 'netns_tenant_a') == 'netns_tenant_a', 'the same one again'
    with pytest.raises(inventory.InventoryProblem) as info:
        table.group('namespace', 'tenant_a', inventory.group_name('netns_', 'tenant_a'))
    assert "'tenant-a'" in str(info.value) and "'tenant_a'" in str(info.value)
    with pytest.raises(inventory.InventoryProblem):
        table.group('parent', 'x', 'host1')


def _ip(*argv):
    subprocess.run(['ip'] + list(argv), check=True)


def test_local_hosts_are_the_live_pins_never_a_stale_one(tmp_path):
    # in the test's sandbox: its own /run
    _ip('netns', 'add', 'blue')
    _ip('netns', 'add', 'red')
    with open('/run/netns/stale', 'w'):
        pass  # what a crash leaves: an empty file nothing is mounted on
    found = dict(inventory.local_namespaces(['net', 'uts']))
    assert sorted(found) == ['blue', 'red']
    blue = found['blue']
    assert blue['ansible_host'] == 'blue' and blue['ansible_connection'] == 'nsfd.namespaces.nsenter'
    assert blue['ansible_nsenter_types'] == ['net'] and blue['netns_pins'] == {'net': '/run/netns/blue'}
    assert blue['netns_inodes']['net'] == os.stat('/run/netns/blue').st_ino
    assert inventory.local_namespaces(['net'], pins=False) == []


def test_a_namespace_host_whose_init_is_gone_is_no_host(tmp_path):
    data_dir = tmp_path / 'hosts'
    (data_dir / 'dead').mkdir(parents=True)
    (data_dir / 'dead' / 'host.json').write_text(
        json.dumps(
            {
                'name': 'dead',
                'hostname': 'dead',
                'data_dir': str(data_dir),
                'root': 'overlay',
                'pid': 2**22 - 1,
                'start_time': 1,
                'lab': None,
            }
        )
    )
    _ip('netns', 'add', 'dead')  # a pin of it left behind
    assert inventory.local_namespaces(['net'], [str(data_dir)]) == []


@pytest.mark.parametrize('make', ['missing', 'file'])
def test_a_data_dir_that_cannot_be_read_fails_naming_it(tmp_path, make):
    path = tmp_path / 'hosts'
    if make == 'file':
        path.write_text('')
    with pytest.raises(inventory.InventoryProblem) as info:
        inventory.local_namespaces(['net'], [str(path)])
    assert str(path) in str(info.value) and 'cannot be read' in str(info.value)
