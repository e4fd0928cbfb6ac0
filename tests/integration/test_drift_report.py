"""The nsfd.namespaces.drift_report playbook on namespace hosts with the netns role converged, in the sandbox:
drift made by hand (an address removed, a route added, a segment's flooding entry deleted) is exactly what its
table and JSON list, drift_report_fail makes it fail, and after a converge the report is empty (issue 26)."""

import json
import re
import sys

import pytest

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.drift import cell
from nshosts import hosts_running, inside
from playbook import run_tool


def _inventory(python):
    """The fleet's inventory, its hosts reached with python."""
    return f'''fleet:
  hosts:
    h1: {{ansible_host: h1, lab_address: 10.77.0.1, idx: 1}}
    h2: {{ansible_host: h2, lab_address: 10.77.0.2, idx: 2}}
  vars:
    ansible_connection: nsfd.namespaces.nsenter
    ansible_python_interpreter: {python}
    ansible_become: false
    netns_persist: false
    netns_purge: true
    netns_underlay_address_var: lab_address
    netns_namespaces:
      - name: red
        links:
          - {{name: b0, kind: bridge, addresses: ["{{{{ '10.9.0.%d/24' % (idx | int) }}}}"]}}
          - {{name: b1, kind: bridge, addresses: [10.8.0.1/24]}}
        routes:
          - {{dst: 10.60.0.0/24, via: 10.8.0.254}}
        sysctls:
          net.ipv4.ip_forward: 1
    netns_segments:
      - {{name: purple, id: 100, subnet: 10.200.0.0/24, members: "{{{{ groups['fleet'] }}}}"}}
'''


def _playbook(tmp_path, *argv):
    return run_tool(tmp_path, 'ansible-playbook', *argv)


def _ok(result):
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    return result


def _table(stdout):
    """The rows of the printed table: (host, namespace, kind, object, before, after) of each line under the header."""
    lines = [re.sub(r'^\s*"|",?$', '', line) for line in stdout.splitlines()]
    start = [i for i, line in enumerate(lines) if line.startswith('HOST ')]
    if not start:
        return []
    rows = []
    for line in lines[start[0] + 1 :]:
        if not line.strip():
            break
        rows.append(tuple(re.split(r'\s{2,}', line.strip())))
    return rows


@pytest.mark.timeout_s(900)
def test_drift_made_by_hand_is_reported_and_a_converge_clears_it(tmp_path):
    with hosts_running(tmp_path, ['h1', 'h2']):
        inventory = tmp_path / 'fleet.yml'
        inventory.write_text(_inventory(sys.executable))
        (tmp_path / 'site.yml').write_text('- hosts: fleet\n  gather_facts: false\n  roles: [nsfd.namespaces.netns]\n')
        _ok(_playbook(tmp_path, '-i', str(inventory), str(tmp_path / 'site.yml')))
        report = str(tmp_path / 'drift.json')
        # with the namespaces inventory plugin too: the hosts of declared namespaces are left out
        namespaces = tmp_path / 'namespaces.yml'
        namespaces.write_text('plugin: nsfd.namespaces.namespaces\nstrict: true\n')
        args = [
            '-i',
            str(inventory),
            '-i',
            str(namespaces),
            'nsfd.namespaces.drift_report',
            '-e',
            'drift_report_json=' + report,
        ]

        clean = _ok(_playbook(tmp_path, *(args + ['-e', 'drift_report_fail=true'])))
        assert 'no drift: every host is as its declaration says' in clean.stdout, clean.stdout[-3000:]
        assert json.loads(open(report).read())['changes'] == []

        # drift by hand: an address removed and a route added on h1, a flooding entry of segment purple on h2
        for host, argv in (
            ('h1', 'ip -n red addr del 10.9.0.1/24 dev b0'),
            ('h1', 'ip -n red route add 10.70.0.0/24 dev b1'),
            ('h2', 'bridge -n purple fdb del 00:00:00:00:00:00 dev vx100 dst 10.77.0.1 self'),
        ):
            done = inside(host, *argv.split())
            assert done.returncode == 0, done.stderr

        drifted = _ok(_playbook(tmp_path, *args))  # drift alone does not fail the run
        data = json.loads(open(report).read())
        assert data['drift'] and not data['errors'] and data['count'] == 3, data
        assert data['hosts'] == {
            'h1': {'status': 'drift', 'changes': 2, 'msg': ''},
            'h2': {'status': 'drift', 'changes': 1, 'msg': ''},
        }
        found = dict(((c['host'], c['kind']), c) for c in data['changes'])
        assert sorted(found) == [('h1', 'address'), ('h1', 'route'), ('h2', 'fdb')], data['changes']
        address, route, fdb = found['h1', 'address'], found['h1', 'route'], found['h2', 'fdb']
        assert (address['namespace'], address['object'], address['before'], address['after']) == (
            'red',
            'b0',
            None,
            '10.9.0.1/24',
        )
        assert (route['namespace'], route['object'], route['after']) == ('red', '10.70.0.0/24', None)
        assert route['before'].startswith('10.70.0.0/24 dev b1 proto boot'), route
        assert (fdb['namespace'], fdb['object'], fdb['before'], fdb['after']) == (
            'purple',
            'vx100',
            None,
            {'mac': '00:00:00:00:00:00', 'dst': '10.77.0.1'},
        )

        rows = _table(drifted.stdout)
        assert sorted(rows) == sorted(
            [
                ('h1', 'red', 'address', 'b0', '-', '10.9.0.1/24'),
                ('h1', 'red', 'route', '10.70.0.0/24', cell(route['before']), '-'),
                ('h2', 'purple', 'fdb', 'vx100', '-', 'mac 00:00:00:00:00:00, dst 10.77.0.1'),
            ]
        ), drifted.stdout[-4000:]
        assert 'h1: 2 differences from the declaration' in drifted.stdout
        assert '10.70.0.0/24' in inside('h1', 'ip', '-n', 'red', 'route').stdout

        failing = _playbook(tmp_path, *(args + ['-e', 'drift_report_fail=true']))
        assert failing.returncode != 0 and '3 difference(s) from the declaration' in failing.stdout, failing.stdout[
            -3000:
        ]

        _ok(_playbook(tmp_path, '-i', str(inventory), str(tmp_path / 'site.yml')))
        after = _ok(_playbook(tmp_path, *(args + ['-e', 'drift_report_fail=true'])))
        assert _table(after.stdout) == [] and 'no drift' in after.stdout
        assert json.loads(open(report).read())['count'] == 0
