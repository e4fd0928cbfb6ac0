"""A service inside a named network namespace under a real systemd, across a
real reboot (issue 14).

The netns role runs on a systemd-booted stock Debian host
(tests/fleet/booted.py) and puts nsfd-web.service, a `python3 -m http.server`
serving /etc, into blue with a netns_service drop-in. Oracles, before and
after `systemctl reboot`: a client inside blue (`ip netns exec blue`) gets
blue's resolv.conf from the server, the host's own network namespace cannot
reach it, and the service's main process is in the namespace pinned at
/run/netns/blue (same inode) and sees blue's resolv.conf through
/proc/PID/root.
"""

import json
import os

import pytest

from fleet import booted
from test_booted_host import _converge, _reboot_for_real, _root
from playbook import run_tool

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks', 'booted_netns_service.yml')
UNIT = 'nsfd-web.service'
DROPIN = f'/etc/systemd/system/{UNIT}.d/50-nsfd-netns.conf'
RESOLV = 'nameserver 10.200.1.1\n'
FETCH = (
    'import sys, urllib.request\n'
    'try:\n'
    '    print(urllib.request.urlopen("http://127.0.0.1:8080/resolv.conf", timeout=5).read().decode(), end="")\n'
    'except OSError as exc:\n'
    '    print("unreachable: %s" % exc)\n'
    '    sys.exit(3)\n'
)


@pytest.fixture
def host(tmp_path):
    with booted.BootedHost(_root(), str(tmp_path / 'host'), 'booted') as running:
        yield running


def _fetch(host, *prefix):
    """What a client in the given namespace gets, retried while the service
    is still starting."""
    for _attempt in range(50):
        got = host.run(*(list(prefix) + ['python3', '-c', FETCH]), check=False)
        if got.returncode == 0 or 'refused' not in got.stdout:
            return got
        host.run('sleep', '0.1')
    return got


def assert_in_blue(host):
    state = host.run('systemctl', 'show', '-p', 'ActiveState', '-p', 'MainPID', UNIT).stdout
    props = dict(line.split('=', 1) for line in state.split())
    assert props['ActiveState'] == 'active', host.run('journalctl', '-b', '-u', UNIT, '--no-pager', check=False).stdout
    pid = int(props['MainPID'])
    pin = host.run('stat', '-L', '-c', '%i', '/run/netns/blue').stdout.strip()
    service_netns = host.run('stat', '-L', '-c', '%i', f'/proc/{pid}/ns/net').stdout.strip()
    host_netns = host.run('stat', '-L', '-c', '%i', '/proc/1/ns/net').stdout.strip()
    assert service_netns == pin != host_netns
    assert host.run('cat', f'/proc/{pid}/root/etc/resolv.conf').stdout == RESOLV
    assert host.run('cat', '/etc/resolv.conf').stdout != RESOLV, 'the host keeps its own resolv.conf'
    seen = host.run('ls', f'/proc/{pid}/root/sys/class/net').stdout.split()
    print(f'service sees /sys/class/net: {seen}')
    inside = _fetch(host, 'ip', 'netns', 'exec', 'blue')
    assert inside.returncode == 0 and inside.stdout == RESOLV, inside.stdout + inside.stderr
    outside = _fetch(host)
    assert outside.returncode == 3 and 'refused' in outside.stdout, outside.stdout
    return pid, pin


@pytest.mark.timeout_s(240)
def test_booted_host_runs_a_service_inside_blue_across_a_reboot(host, tmp_path):
    result = _converge(host, tmp_path, PLAYBOOK)
    [placed] = result['services']
    assert placed['changed'] and placed['restarted'] and placed['daemon_reloaded'], placed
    assert placed['unit_source'] == 'systemctl' and placed['etc_files'] == ['resolv.conf']
    dropin = host.run('cat', DROPIN).stdout
    print(f'--- {DROPIN}\n{dropin}---')
    before_pid, before_pin = assert_in_blue(host)
    print(
        f'before reboot: MainPID {before_pid} in net:[{before_pin}] (the pin of blue), '
        f'resolv.conf from inside blue: {RESOLV!r}'
    )

    _reboot_for_real(host)
    after_pid, after_pin = assert_in_blue(host)
    print(f'after reboot: MainPID {after_pid} in net:[{after_pin}] (the pin of blue, made anew at boot)')
    order = host.run('systemctl', 'show', '-p', 'After', '-p', 'Requires', UNIT).stdout
    assert 'nsfd-netns.service' in order

    # and the role agrees: nothing to change, nothing restarted
    [again] = _converge(host, tmp_path, PLAYBOOK)['services']
    assert not again['changed'] and not again['restarted'], again
    assert host.run('systemctl', 'show', '-p', 'MainPID', '--value', UNIT).stdout.strip() == str(after_pid)

    # blue made anew under a running service (same drop-in): the service is
    # still in the old namespace, so restart: true restarts it into the new one
    host.run('ip', 'netns', 'delete', 'blue')
    [moved] = _converge(host, tmp_path, PLAYBOOK)['services']
    assert moved['changed'] and moved['restarted'] and not moved['daemon_reloaded'], moved
    moved_pid, moved_pin = assert_in_blue(host)
    assert moved_pid != after_pid and moved_pin != after_pin
    print(f'blue made anew: MainPID {moved_pid} restarted into net:[{moved_pin}]')


@pytest.mark.timeout_s(120)
def test_booted_host_refuses_a_service_with_private_network(host, tmp_path):
    """systemd's effective properties (systemctl show), not the unit file
    alone: PrivateNetwork=yes comes from a drop-in of the admin's here."""
    host.run(
        'sh',
        '-c',
        'mkdir -p /etc/systemd/system/nsfd-private.service.d && '
        'printf "[Service]\\nExecStart=/bin/sleep infinity\\n" >/etc/systemd/system/nsfd-private.service && '
        'printf "[Service]\\nPrivateNetwork=yes\\n" >/etc/systemd/system/nsfd-private.service.d/admin.conf && '
        'systemctl daemon-reload && ip netns add blue',
    )
    run = _ad_hoc(host, tmp_path, 'unit=nsfd-private.service namespace=blue')
    assert run.returncode != 0 and 'PrivateNetwork=yes (read from systemctl show)' in run.stdout, run.stdout
    assert (
        host.run('test', '-e', '/etc/systemd/system/nsfd-private.service.d/50-nsfd-netns.conf', check=False).returncode
        != 0
    )


def _ad_hoc(host, tmp_path, args):
    """netns_service once on the booted host (ad hoc): the finished ansible command."""
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(
        f'lab:\n  hosts:\n    booted:\n      ansible_host: "pid:{host.pid}"\n'
        '      ansible_connection: nsfd.namespaces.nsenter\n'
        '      ansible_python_interpreter: /usr/bin/python3\n'
    )
    module = ('-m', 'nsfd.namespaces.netns_service', '-a', args)
    return run_tool(tmp_path, 'ansible', '-i', inventory, 'booted', *module, timeout=120)


def _module(host, tmp_path, args):
    """netns_service once on the booted host (ad hoc), its result."""
    run = _ad_hoc(host, tmp_path, args)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads(run.stdout.partition('=>')[2])


@pytest.mark.timeout_s(180)
def test_booted_host_reloads_a_dropin_written_without_a_reload(host, tmp_path):
    """A run killed between writing the drop-in and daemon-reload (here:
    daemon_reload=false) left systemd with the old unit; later runs saw the
    file unchanged, never reloaded, and restart: true restarted the service
    outside blue on every run."""
    host.run(
        'sh',
        '-c',
        'printf "[Service]\\nExecStart=/usr/bin/python3 -m http.server 8080 --directory /etc\\n" '
        f'>/etc/systemd/system/{UNIT} && mkdir -p /etc/netns/blue && printf "{RESOLV}" >/etc/netns/blue/resolv.conf && '
        f'systemctl daemon-reload && ip netns add blue && ip -n blue link set lo up && systemctl start {UNIT}',
    )
    first = _module(host, tmp_path, f'unit={UNIT} namespace=blue boot_unit= daemon_reload=false')
    assert first['changed'] and not first['daemon_reloaded'], first
    fixed = _module(host, tmp_path, f'unit={UNIT} namespace=blue boot_unit= restart=true')
    assert fixed['changed'] and fixed['daemon_reloaded'] and fixed['restarted'], fixed
    assert_in_blue(host)
    again = _module(host, tmp_path, f'unit={UNIT} namespace=blue boot_unit= restart=true')
    assert not again['changed'] and not again['restarted'] and not again['daemon_reloaded'], again
    # an update (to red) written without a reload: systemd still has blue
    host.run('ip', 'netns', 'add', 'red')
    red = _module(host, tmp_path, f'unit={UNIT} namespace=red boot_unit= daemon_reload=false')
    assert red['changed'] and not red['daemon_reloaded'], red
    red = _module(host, tmp_path, f'unit={UNIT} namespace=red boot_unit=')
    assert red['changed'] and red['daemon_reloaded'], red
    assert (
        host.run('systemctl', 'show', '-p', 'NetworkNamespacePath', '--value', UNIT).stdout.strip() == '/run/netns/red'
    )
    assert not _module(host, tmp_path, f'unit={UNIT} namespace=red boot_unit=')['changed']
    # the same after a removal without a reload
    gone = _module(host, tmp_path, f'unit={UNIT} namespace=blue state=absent daemon_reload=false')
    assert gone['changed'] and not gone['daemon_reloaded'], gone
    back = _module(host, tmp_path, f'unit={UNIT} namespace=blue state=absent restart=true')
    assert back['changed'] and back['daemon_reloaded'] and back['restarted'], back
    pid = host.run('systemctl', 'show', '-p', 'MainPID', '--value', UNIT).stdout.strip()
    assert (
        host.run('stat', '-L', '-c', '%i', f'/proc/{pid}/ns/net').stdout
        == host.run('stat', '-L', '-c', '%i', '/proc/1/ns/net').stdout
    )


@pytest.mark.timeout_s(120)
def test_booted_host_takes_out_a_service_whose_unit_was_uninstalled(host, tmp_path):
    """The package went away first (the role then prunes the service, with
    the restart: true it was declared with): removing the drop-in must not
    fail on systemctl try-restart of a unit that no longer exists."""
    host.run(
        'sh',
        '-c',
        f'printf "[Service]\\nExecStart=/bin/sleep infinity\\n" >/etc/systemd/system/{UNIT} && '
        'systemctl daemon-reload && ip netns add blue',
    )
    placed = _module(host, tmp_path, f'unit={UNIT} namespace=blue boot_unit=')
    assert placed['changed'] and placed['daemon_reloaded'], placed
    host.run('sh', '-c', f'rm /etc/systemd/system/{UNIT} && systemctl daemon-reload')
    gone = _module(host, tmp_path, f'unit={UNIT} namespace=blue state=absent restart=true')
    assert gone['changed'] and not gone['restarted'], gone
    assert host.run('test', '-e', DROPIN, check=False).returncode != 0
