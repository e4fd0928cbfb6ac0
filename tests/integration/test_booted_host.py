"""The netns role's boot unit under a real systemd, across a real reboot.

A stock Debian root (scripts/debian-root) boots systemd as its pid 1 in
systemd-nspawn (tests/fleet/booted.py), in the test's sandbox. The role runs
on it through the nsenter connection, with pyroute2 shipped from this
controller. Then the host reboots: /run starts empty, and only systemd,
starting the unit the collection wrote and enabled, may rebuild the
namespaces, links, addresses, routes and sysctls. `ip -j` inside the host is
the oracle, before and after.
"""

import json
import os
import subprocess
import sys

import pytest

from fleet import booted
from playbook import REPO, ansible_playbook

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks', 'booted_netns_role.yml')
UNIT = 'nsfd-netns.service'
NAMESPACES = ('blue', 'red')


def _root():
    root = subprocess.run(
        [os.path.join(REPO, 'scripts', 'debian-root'), '--print-only'], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isfile(os.path.join(root, '.complete')):
        pytest.skip(
            f'no cached Debian root at {root}: run scripts/debian-root (or make bootstrap) on the machine, '
            'which can reach the package mirror'
        )
    if subprocess.run(['sh', '-c', 'command -v systemd-nspawn'], capture_output=True, check=False).returncode:
        pytest.skip('systemd-nspawn is missing: apt-get install systemd-container (make bootstrap does)')
    return root


@pytest.fixture
def host(tmp_path):
    with booted.BootedHost(_root(), str(tmp_path / 'host'), 'booted') as running:
        yield running


def _converge(host, tmp_path, playbook=PLAYBOOK):
    """A playbook (default: the role's) on the booted host; returns what it
    wrote to out_dir/result.json."""
    python = booted.ship_python_package(host, 'pyroute2')
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(
        f'lab:\n  hosts:\n    booted:\n      ansible_host: "pid:{host.pid}"\n'
        '      ansible_connection: nsfd.namespaces.nsenter\n'
        f'      ansible_python_interpreter: {python}\n'
    )
    out = tmp_path / 'out'
    out.mkdir(exist_ok=True)
    result = ansible_playbook(
        tmp_path, playbook, '-e', f'out_dir={out}', '-e', f'controller_python={sys.executable}', inventory=inventory
    )
    assert result.returncode == 0, f'the role failed:\n{result.stdout[-8000:]}\n{result.stderr[-3000:]}'
    return json.loads((out / 'result.json').read_text())


def _links(host, prefix):
    """{name: (up, mtu, master, sorted global addresses)} of one namespace."""
    links = {}
    for link in host.json(*(prefix + ['-j', 'addr', 'show'])):
        addresses = sorted(
            f'{a["local"]}/{a["prefixlen"]}' for a in link.get('addr_info', []) if a.get('scope') != 'link'
        )
        links[link['ifname']] = ('UP' in link['flags'], link['mtu'], link.get('master'), addresses)
    return links


def _routes(host, prefix):
    """Routes a declaration (or the kernel for an address) put in the main
    and other tables, without the local table and multicast."""
    routes = []
    for family in ('-4', '-6'):
        for route in host.json(*(prefix + [family, '-j', 'route', 'show', 'table', 'all'])):
            if route.get('table') == 'local' or route['dst'].startswith(('fe80::', 'ff00::', 'multicast')):
                continue
            routes.append(
                (
                    route['dst'],
                    route.get('gateway'),
                    route.get('dev'),
                    route.get('metric'),
                    route.get('table', 'main'),
                    route.get('protocol'),
                )
            )
    return sorted(routes, key=repr)


def _sysctl(host, namespace, key):
    return host.run('nsenter', f'--net=/run/netns/{namespace}', 'cat', '/proc/sys/' + key).stdout.strip()


def snapshot(host):
    """What an operator sees with ip -j on the host: namespaces and nsids,
    links, addresses, routes and sysctls in each, the host's ends, and the
    /etc/netns files."""
    state = {
        'netns': sorted((n['name'], n.get('id')) for n in host.json('ip', '-j', 'netns', 'list')),
        'host': _links(host, ['ip']),
    }
    for name in NAMESPACES:
        prefix = ['ip', '-n', name]
        state[name] = {'links': _links(host, prefix), 'routes': _routes(host, prefix)}
    state['sysctls'] = [
        _sysctl(host, 'blue', 'net/ipv4/ip_forward'),
        _sysctl(host, 'red', 'net/ipv6/conf/all/forwarding'),
    ]
    state['files'] = host.run('cat', '/etc/netns/blue/resolv.conf').stdout
    return state


def assert_declared(state):
    """The declaration of booted_netns_role.yml, as ip shows it."""
    assert state['netns'] == [('blue', state['netns'][0][1]), ('red', 20)]
    assert state['host']['blue-host'] == (True, 1500, None, ['10.200.1.1/24'])
    blue, red = state['blue'], state['red']
    assert blue['links']['eth0'] == (True, 1500, None, ['10.200.1.2/24', 'fd00:1::2/64'])
    assert blue['links']['b0'] == (True, 1500, None, ['10.9.0.2/30'])
    assert red['links']['r0'] == (True, 1500, None, ['10.9.0.1/30'])
    assert red['links']['br0'][0] and red['links']['br0'][3] == ['192.168.50.1/24']
    assert red['links']['p0'][:3] == (True, 1400, 'br0')
    assert state['host']['red-host'] == (True, 1400, None, [])
    blue_routes = dict(((r[0], r[3]), r[1]) for r in blue['routes'])
    assert blue_routes[('default', None)] == '10.200.1.1'
    assert blue_routes[('10.201.0.0/16', 50)] == '10.200.1.1'
    assert dict((r[0], r[1]) for r in red['routes'])['198.51.100.0/24'] == '10.9.0.2'
    assert state['sysctls'] == ['1', '1']
    assert state['files'] == 'nameserver 10.200.1.1\n'


def _unit(host, *verb):
    return host.run('systemctl', *(list(verb) + [UNIT]), check=False).stdout.strip()


def _reboot_for_real(host):
    """Reboot, and show it was one: a file in /run is gone, pid 1 is new."""
    host.run('touch', '/run/nsfd-before-reboot')
    old = host.pid
    assert host.reboot() == 'running', host.run('systemctl', '--failed', '--no-pager', check=False).stdout
    assert host.pid != old and host.boots == 2
    assert not os.path.exists(host.path('/run/nsfd-before-reboot'))
    assert 'systemd-nspawn exited with status 133' in host.console(400)


@pytest.mark.timeout_s(240)
def test_booted_host_rebuilds_its_namespaces_after_a_reboot(host, tmp_path):
    result = _converge(host, tmp_path)
    assert result['changed'] and result['boot']['systemd_running'], result
    assert _unit(host, 'is-enabled') == 'enabled'
    before = snapshot(host)
    assert_declared(before)

    _reboot_for_real(host)
    # nothing but systemd ran since the boot
    assert _unit(host, 'is-active') == 'active'
    assert _unit(host, 'is-enabled') == 'enabled'
    assert host.run('systemctl', 'show', '-p', 'Result', '--value', UNIT).stdout.strip() == 'success'
    after = snapshot(host)
    assert_declared(after)
    assert after == before

    # and the role agrees: what the unit rebuilt is what it declares
    assert _converge(host, tmp_path)['changed'] is False


@pytest.mark.timeout_s(240)
def test_booted_host_restarts_the_unit(host, tmp_path):
    _converge(host, tmp_path)
    _reboot_for_real(host)
    before = snapshot(host)
    restart = host.run('systemctl', 'restart', UNIT, check=False)
    if restart.returncode != 0:
        journal = host.run('journalctl', '-b', '-u', UNIT, '--no-pager', check=False).stdout
        failure = f'systemctl restart {UNIT} failed:\n{restart.stderr}{journal[-3000:]}'
        raise AssertionError(failure)
    assert _unit(host, 'is-active') == 'active'
    after = snapshot(host)
    assert_declared(after)
    assert after == before
