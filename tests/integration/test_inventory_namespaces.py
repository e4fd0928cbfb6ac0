"""The nsfd.namespaces.namespaces inventory plugin through ansible-inventory and ansible, in the sandbox:
on the example fleet and a templated inventory (nothing runs on the hosts), then on namespace hosts with the
netns role converged, where a play on netns_<name> runs inside that namespace on every member."""

import json
import os
import re
import sys

import pytest

from nshosts import hosts_running, inside
from playbook import REPO, run_tool

HERE = os.path.dirname(os.path.abspath(__file__))
FLEET = os.path.join(REPO, 'examples', 'fleet', 'inventory.yml')
TEMPLATED = os.path.join(HERE, 'inventories', 'templated', 'hosts.yml')


def _config(tmp_path, text, name='namespaces.yml'):
    path = tmp_path / name
    path.write_text('plugin: nsfd.namespaces.namespaces\n' + text)
    return str(path)


def _run(tmp_path, tool, *argv, check=True):
    result = run_tool(tmp_path, tool, *argv)
    if check:
        assert result.returncode == 0, f'{argv} failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}'
    return result


def _inventory(tmp_path, *sources, **kwargs):
    argv = []
    for source in sources:
        argv += ['-i', source]
    return _run(tmp_path, 'ansible-inventory', *argv, *kwargs.get('args', ['--list']), check=kwargs.get('check', True))


def _plain(value):
    """ansible-inventory's JSON without its marks of untrusted strings."""
    if isinstance(value, dict):
        if list(value) == ['__ansible_unsafe']:
            return value['__ansible_unsafe']
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _listed(tmp_path, *sources):
    data = _plain(json.loads(_inventory(tmp_path, *sources).stdout))
    groups = dict((name, sorted(group.get('hosts', []))) for name, group in data.items() if name != '_meta')
    return groups, data['_meta']['hostvars']


def test_graph_of_the_example_fleet_has_a_host_per_declared_namespace(tmp_path):
    graph = _inventory(tmp_path, FLEET, _config(tmp_path, ''), args=['--graph']).stdout
    assert '@netns_purple:' in graph and '@netns_on_host1:' in graph
    groups, hostvars = _listed(tmp_path, FLEET, _config(tmp_path, ''))
    # host_vars (tenants), group_vars (mgmt) and the segment purple on every router
    assert groups['netns_on_host1'] == ['host1_mgmt', 'host1_orange', 'host1_purple', 'host1_red']
    assert groups['netns_on_host3'] == ['host3_green', 'host3_mgmt', 'host3_purple']
    assert groups['netns_purple'] == ['host1_purple', 'host2_purple', 'host3_purple']
    assert groups['netns_mgmt'] == ['host1_mgmt', 'host2_mgmt', 'host3_mgmt']
    assert groups['netns_blue'] == ['host2_blue']
    assert groups['routers'] == ['host1', 'host2', 'host3'], 'the parents keep their groups, without the namespaces'
    red = hostvars['host1_red']
    assert (red['ansible_host'], red['ansible_user']) == ('192.0.2.11', 'root'), 'reached as its parent is'
    assert (red['ansible_become'], red['ansible_become_method'], red['ansible_become_user']) == (
        True,
        'nsfd.namespaces.netns',
        'red',
    )
    assert (red['netns_parent'], red['netns_name'], red['netns_source']) == ('host1', 'red', 'declared')
    assert red['netns_declaration']['routes'] == [{'dst': 'default', 'via': '10.10.1.1'}]
    vxlan = hostvars['host2_purple']['netns_declaration']['links'][1]
    assert vxlan['vni'] == 100 and vxlan['local'] == '192.0.2.12'
    assert [entry['dst'] for entry in vxlan['fdb']] == ['192.0.2.11', '192.0.2.13']
    assert 'netns_namespaces' not in hostvars['host1_red'], "the parent's declaration stays the parent's"


def test_templated_parents_are_rendered_for_themselves_with_other_hosts_variables(tmp_path):
    groups, hostvars = _listed(tmp_path, TEMPLATED, _config(tmp_path, 'strict: true\n'))
    assert groups['netns_red'] == ['localhost_red', 'peer1_red', 'peer2_red']
    assert groups['netns_mgmt'] == ['localhost_mgmt', 'peer2_mgmt'], 'netns_namespaces_extra, by an odd lab_index'
    assert hostvars['peer2_blue']['ansible_host'] == '192.0.2.13', "the parent's template, rendered for it"
    assert hostvars['localhost_blue']['ansible_connection'] == 'local'
    blue = hostvars['peer1_blue']['netns_declaration']
    assert blue['links'][0]['addresses'] == ['10.66.0.1/24'] and 'mtu' not in blue['links'][0], 'omit'
    assert blue['routes'] == [{'dst': 'default', 'via': '10.66.0.2'}], "hostvars['peer1'] read for peer1"
    assert blue['files'] == {'resolv.conf': 'nameserver 10.66.0.1\n'}
    red = hostvars['peer1_red']['netns_declaration']['links']
    assert red[0]['addresses'] == ['10.200.0.10/24'] and red[1]['learning'] is False
    assert [entry['dst'] for entry in red[1]['fdb']] == ['192.0.2.11', '192.0.2.13'], 'members from groups'


def test_name_template_compose_and_keyed_groups(tmp_path):
    groups, hostvars = _listed(
        tmp_path,
        FLEET,
        _config(
            tmp_path,
            '''
parents: [host1, host3]
name_template: "{{ netns_name }}-at-{{ inventory_hostname }}"
compose:
  tenant: netns_name | upper
keyed_groups:
  - key: netns_declaration.links | map(attribute='kind') | unique
    prefix: with
''',
        ),
    )
    assert groups['netns_red'] == ['red-at-host1'] and 'host2_blue' not in hostvars and 'blue-at-host2' not in hostvars
    assert hostvars['red-at-host1']['tenant'] == 'RED'
    assert groups['with_vxlan'] == ['purple-at-host1', 'purple-at-host3']
    assert groups['with_veth'] == ['green-at-host3', 'orange-at-host1', 'red-at-host1']


@pytest.mark.parametrize(
    'config, words',
    [
        ('parents: [routers, host9]\n', ["parent 'host9'", 'neither a host nor a group']),
        ('name_template: "{{ netns_name }}"\n', ["host name 'mgmt' is made twice", 'host host1', 'host host2']),
        (
            'sources: [local]\ndata_dirs: [/nonexistent/hosts]\n',
            ['/nonexistent/hosts', 'cannot be read', 'does not exist'],
        ),
    ],
)
def test_mistakes_fail_the_inventory_naming_them(tmp_path, config, words):
    result = _inventory(tmp_path, FLEET, _config(tmp_path, config), args=['--list'], check=False)
    output = re.sub(r'\s+', ' ', result.stdout + result.stderr)
    assert 'Failed to parse' in output and all(word in output for word in words), output[-3000:]


def test_a_value_that_cannot_be_templated_fails_when_strict_and_is_skipped_otherwise(tmp_path):
    base = tmp_path / 'base.yml'
    base.write_text(
        'all:\n  hosts:\n    good: {netns_namespaces: [{name: red}]}\n'
        '    bad: {netns_namespaces: "{{ [{\'name\': tenant_undefined}] }}"}\n'
    )
    result = _inventory(tmp_path, str(base), _config(tmp_path, 'strict: true\n'), check=False)
    output = re.sub(r'\s+', ' ', result.stdout + result.stderr)
    assert 'host bad: variable netns_namespaces cannot be templated' in output and 'tenant_undefined' in output
    groups, hostvars = _listed(tmp_path, str(base), _config(tmp_path, ''))
    assert groups['netns_red'] == ['good_red'] and not [h for h in hostvars if h.startswith('bad_')]


def _ansible(tmp_path, *argv):
    return _run(tmp_path, 'ansible', *argv)


def _netns_inode(result, host):
    return int(
        re.search(rf'^{re.escape(host)} \| CHANGED \| rc=0 \| \(stdout\) net:\[(\d+)\]$', result.stdout, re.M).group(1)
    )


@pytest.mark.timeout_s(600)
def test_a_play_on_netns_name_runs_inside_that_namespace_on_every_member(tmp_path):
    with hosts_running(tmp_path, ['h1', 'h2']) as data_dir:
        base = tmp_path / 'fleet.yml'
        base.write_text(f'''fleet:
  hosts:
    h1: {{ansible_host: h1, idx: 1, netns_namespaces_extra: [{{name: blue}}]}}
    h2: {{ansible_host: h2, idx: 2}}
  vars:
    ansible_connection: nsfd.namespaces.nsenter
    ansible_python_interpreter: {sys.executable}
    netns_persist: false
    netns_namespaces:
      - name: red
        links:
          - {{name: d0, kind: bridge, addresses: ["{{{{ '10.9.0.%d/24' % (idx | int) }}}}"]}}
''')
        (tmp_path / 'site.yml').write_text('- hosts: fleet\n  gather_facts: false\n  roles: [nsfd.namespaces.netns]\n')
        _run(tmp_path, 'ansible-playbook', '-i', base, tmp_path / 'site.yml')
        sources = ['-i', str(base), '-i', _config(tmp_path, 'strict: true\n')]

        links = _ansible(
            tmp_path, *(sources + ['netns_red', '-o', '-m', 'ansible.builtin.command', '-a', 'ip -o link'])
        )
        for host, address in (('h1_red', '10.9.0.1'), ('h2_red', '10.9.0.2')):
            line = [x for x in links.stdout.splitlines() if x.startswith(host + ' |')][0]
            assert ': d0: ' in line and ': eth0' not in line, f'the namespace, not its host: {line}'
        inodes = _ansible(
            tmp_path,
            *(
                sources
                + ['netns_red:netns_blue', '-o', '-m', 'ansible.builtin.command', '-a', 'readlink /proc/self/ns/net']
            ),
        )
        for host, parent, name in (('h1_red', 'h1', 'red'), ('h2_red', 'h2', 'red'), ('h1_blue', 'h1', 'blue')):
            outside = int(inside(parent, 'stat', '-L', '-c', '%i', '/run/netns/' + name).stdout)
            assert _netns_inode(inodes, host) == outside, inodes.stdout
        assert 'h2_blue' not in inodes.stdout

        facts = _ansible(
            tmp_path, *(sources + ['h2_red', '-m', 'ansible.builtin.setup', '-a', 'gather_subset=!all,!min,network'])
        )
        found = json.loads(facts.stdout[facts.stdout.index('{') :])['ansible_facts']
        assert sorted(found['ansible_interfaces']) == ['d0', 'lo'], 'facts describe the namespace'
        assert found['ansible_d0']['ipv4']['address'] == '10.9.0.2'

        # the local source: the running namespace hosts of the data dir, by name
        local = f'sources: [local]\nlocal_pins: false\ndata_dirs: [{data_dir}]\n'
        groups, hostvars = _listed(tmp_path, _config(tmp_path, local, name='local.yml'))
        assert groups['netns_namespace_hosts'] == ['h1', 'h2'] and groups['netns_local'] == ['h1', 'h2']
        assert hostvars['h1']['ansible_connection'] == 'nsfd.namespaces.nsenter'
        assert hostvars['h1']['netns_host']['data_dir'] == data_dir
        assert sorted(hostvars['h1']['ansible_nsenter_types']) == sorted(['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'])
