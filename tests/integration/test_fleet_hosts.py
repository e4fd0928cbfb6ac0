"""The simulated fleet's host kinds (tests/fleet/fleet.py), seen from inside the hosts, in the sandbox."""

import json
import os
import subprocess
import sys
import time

import pytest

from test_targets import REPO

FLEET = os.path.join(REPO, 'tests', 'fleet', 'fleet.py')
DEBIAN_ROOT = subprocess.run([os.path.join(REPO, 'scripts', 'debian-root'), '--print-only'], capture_output=True,
                             text=True, check=True).stdout.strip()

needs_debian_root = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DEBIAN_ROOT, '.complete')),
    reason='no cached Debian root: run scripts/debian-root on the machine (it needs the Debian mirror)')


def fleet(*argv, **kwargs):
    return subprocess.run([sys.executable, FLEET] + list(argv), capture_output=True, text=True,
                          check=kwargs.pop('check', False), **kwargs)


def gone(pid, wait=5.0):
    """The process exited (a zombie its parent has not reaped yet counts)."""
    deadline = time.time() + wait
    while time.time() < deadline:
        try:
            with open('/proc/%d/stat' % pid) as handle:
                if handle.read().rsplit(')', 1)[1].split()[0] in ('Z', 'X'):
                    return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def inside(pid, *argv):
    """A command inside the host, as the nsenter connection runs it."""
    return subprocess.run(['nsenter', '-t', str(pid), '--mount', '--uts', '--ipc', '--net', '--pid', '--cgroup',
                           '--'] + list(argv), capture_output=True, text=True, check=False)


@needs_debian_root
def test_debian_host_runs_on_its_own_stock_root(tmp_path):
    state = str(tmp_path / 'fleet')
    pids = json.loads(fleet('up', state, 'deb1:debian', 'plain', check=True).stdout)
    try:
        deb = pids['deb1']
        assert 'VERSION_CODENAME=bookworm' in inside(deb, 'cat', '/etc/os-release').stdout
        assert inside(deb, 'hostname').stdout.strip() == 'deb1'
        # its own Python, without pyroute2; the sandbox host keeps the machine's root
        probe = inside(deb, '/usr/bin/python3', '-c', 'import sys; print(sys.prefix)')
        assert probe.returncode == 0 and probe.stdout.strip() == '/usr'
        assert 'No module named' in inside(deb, '/usr/bin/python3', '-c', 'import pyroute2').stderr
        assert inside(pids['plain'], 'test', '-e', FLEET).returncode == 0
        assert inside(deb, 'test', '-e', FLEET).returncode != 0
        # a copy-on-write root with private /run and /tmp, and a working network
        mounts = dict(line.split() for line in inside(deb, 'findmnt', '-n', '-o', 'TARGET,FSTYPE', '-l').stdout
                      .splitlines())
        assert (mounts['/'], mounts['/run'], mounts['/tmp'], mounts['/proc']) == ('overlay', 'tmpfs', 'tmpfs', 'proc')
        assert '10.77.0.1/24' in inside(deb, 'ip', '-br', 'addr', 'show', 'eth0').stdout
        assert inside(deb, 'ip', 'netns', 'add', 'blue').returncode == 0
        assert inside(deb, 'ip', 'netns', 'list').stdout.split() == ['blue']
        assert inside(deb, 'sh', '-c', 'echo x > /usr/local/written-here').returncode == 0
        assert not os.path.exists(os.path.join(DEBIAN_ROOT, 'usr', 'local', 'written-here')), 'the cache is untouched'
        assert not os.path.exists('/run/netns/blue')
    finally:
        fleet('down', state, check=True)


@needs_debian_root
def test_debian_host_keeps_its_root_across_a_reboot_and_down_removes_it(tmp_path):
    state = str(tmp_path / 'fleet')
    pid = json.loads(fleet('up', state, 'deb1:debian', check=True).stdout)['deb1']
    assert inside(pid, 'sh', '-c', 'echo kept > /etc/kept; ip netns add gone').returncode == 0
    new = json.loads(fleet('reboot', state, 'deb1', check=True).stdout)['deb1']
    assert new != pid
    assert inside(new, 'cat', '/etc/kept').stdout == 'kept\n'
    assert inside(new, 'ip', 'netns', 'list').stdout == '', '/run is fresh after a reboot'
    assert json.loads(fleet('up', state, 'deb1:debian', check=True).stdout) == {'deb1': new}, 'up is idempotent'
    fleet('down', state, check=True)
    assert json.loads(fleet('status', state, check=True).stdout) == {}
    assert not os.path.exists(os.path.join(state, 'deb1')), 'down leaves nothing of the host'
    assert gone(new)


def test_unknown_host_kind_is_refused_before_anything_starts(tmp_path):
    state = str(tmp_path / 'fleet')
    result = fleet('up', state, 'h1', 'h2:solaris', check=False)
    assert result.returncode != 0
    assert "'h2:solaris'" in result.stderr and 'debian, sandbox' in result.stderr
    assert not os.path.exists(state)
    netns = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout
    assert 'nsfd-lab' not in netns


def test_down_kills_only_its_own_fleet(tmp_path):
    # test sandboxes share the machine's pid namespace: a sweep for hosts a
    # crashed run never recorded must not reach another fleet (another test's,
    # another engineer's molecule run)
    mine, other = str(tmp_path / 'mine'), str(tmp_path / 'other')
    other_pid = json.loads(fleet('up', other, 'o1', check=True).stdout)['o1']
    try:
        mine_pid = json.loads(fleet('up', mine, 'm1', check=True).stdout)['m1']
        os.remove(os.path.join(mine, 'fleet.json'))  # as after a crash: m1 is not recorded
        fleet('down', mine, check=True)
        assert gone(mine_pid), 'the unrecorded host of this fleet is swept'
        assert inside(other_pid, 'hostname').stdout.strip() == 'o1', 'the other fleet is untouched'
    finally:
        fleet('down', other, check=True)
