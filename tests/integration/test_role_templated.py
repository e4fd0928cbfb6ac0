"""The netns role and the segment filters with an inventory as users write
one (inventories/templated): values built with Jinja filters (default, d,
mandatory, ternary, combine, regex_replace), tests (is defined, is odd),
lookups, omit, lists built by Jinja and other hosts' variables. ansible-core
2.19 and later hand these to the role as lazy templates; the role must take
them as the values they render to, on every core of the matrix."""

import json
import os
import re
import subprocess

from nsoracle import ip_netns_list
from playbook import ansible_playbook

HERE = os.path.dirname(os.path.abspath(__file__))
INVENTORY = os.path.join(HERE, 'inventories', 'templated', 'hosts.yml')
ROLE_PLAY = '''
- hosts: localhost
  gather_facts: false
  roles:
    - nsfd.namespaces.netns
'''
FILTER_PLAY = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: The filters read the templated segments and other hosts' variables
      ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0644"
        content: >-
          {{ {'addresses': netns_segments | nsfd.namespaces.netns_segment_addresses,
              'namespaces': netns_segments | nsfd.namespaces.netns_segments(inventory_hostname, hostvars,
                              namespaces=netns_namespaces + netns_namespaces_extra)} | to_json }}
'''


def _play(tmp_path, text, *extra):
    (tmp_path / 'play.yml').write_text(text)
    result = ansible_playbook(tmp_path, tmp_path / 'play.yml', *extra, inventory=INVENTORY)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return int(re.search(r'changed=(\d+)', result.stdout).group(1))


def _ip_json(*argv):
    return json.loads(subprocess.run(['ip', '-j'] + list(argv), capture_output=True, text=True, check=True).stdout)


def test_filters_take_templated_values_and_other_hosts_variables(tmp_path):
    out = tmp_path / 'out.json'
    _play(tmp_path, FILTER_PLAY, '-e', f'out={out}')
    result = json.loads(out.read_text())
    assert result['addresses']['red']['peer1'] == '10.200.0.10'
    assert sorted(result['addresses']['red']) == ['localhost', 'peer1', 'peer2']
    by_name = dict((item['name'], item) for item in result['namespaces'])
    assert sorted(by_name) == ['blue', 'mgmt', 'red']
    veth = by_name['blue']['links'][0]
    assert veth['addresses'] == ['10.66.0.1/24'] and 'mtu' not in veth, 'omit leaves the key out'
    assert by_name['blue']['routes'] == [{'dst': 'default', 'via': '10.66.0.2'}]
    vxlan = by_name['red']['links'][1]
    assert vxlan['vni'] == 100 and vxlan['learning'] is False and vxlan['local'] == '192.0.2.11'
    assert [entry['dst'] for entry in vxlan['fdb']] == ['192.0.2.12', '192.0.2.13']


def test_role_converges_a_templated_inventory_and_reruns_unchanged(tmp_path):
    assert _play(tmp_path, ROLE_PLAY, '--check') > 0
    assert ip_netns_list() == [], 'check mode made no namespace'
    assert _play(tmp_path, ROLE_PLAY) > 0
    assert sorted(ip_netns_list()) == ['blue', 'mgmt', 'red']
    addresses = _ip_json('-n', 'blue', 'addr', 'show', 'dev', 'vb-blue')[0]['addr_info']
    assert [a['local'] for a in addresses if a['family'] == 'inet'] == ['10.66.0.1']
    assert _ip_json('-n', 'blue', 'route', 'show', 'default')[0]['gateway'] == '10.66.0.2'
    fdb = subprocess.run(
        ['bridge', '-n', 'red', 'fdb', 'show', 'dev', 'vx100'], capture_output=True, text=True, check=True
    ).stdout
    assert 'dst 192.0.2.12' in fdb and 'dst 192.0.2.13' in fdb
    with open('/etc/netns/blue/resolv.conf') as handle:
        assert handle.read() == 'nameserver 10.66.0.1\n'
    assert _play(tmp_path, ROLE_PLAY) == 0, 'the second run changes nothing'
