"""launch: the standard-library launcher the netns become plugin ships,
run as the hosts run it (python3 launch.py ...) and called in a child."""

import os
import subprocess
import sys

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.execute import launch
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nsexec import call_in

LAUNCH = launch.__file__


def _launch(*args):
    return subprocess.run([sys.executable, LAUNCH] + list(args), capture_output=True, text=True, check=False)


def test_standalone_it_runs_the_command_inside_like_ip_netns_exec():
    sh('ip', 'netns', 'add', 'blue')
    sh('ip', '-n', 'blue', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1')
    os.makedirs('/etc/netns/blue')
    with open('/etc/netns/blue/hosts', 'w') as handle:
        handle.write('10.0.0.1 inside\n')
    done = _launch('--name', 'blue', '--', 'sh', '-c', 'readlink /proc/self/ns/net; ls /sys/class/net; cat /etc/hosts')
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f'net:[{os.stat("/run/netns/blue").st_ino}]'
    # /sys shows the namespace's devices, /etc the namespace's files
    assert lines[1:4] == ['lo', 'v0', 'v1'] and lines[4] == '10.0.0.1 inside'
    expected = sh('ip', 'netns', 'exec', 'blue', 'sh', '-c', 'ls /sys/class/net; cat /etc/hosts').stdout
    assert '\n'.join(lines[1:]) + '\n' == expected


def test_no_etc_and_another_directory():
    os.makedirs('/run/other')
    sh('ip', 'netns', 'add', 'blue')
    open('/run/other/x', 'w').close()
    sh('mount', '--bind', '/run/netns/blue', '/run/other/x')
    os.makedirs('/etc/netns/x')
    with open('/etc/netns/x/hosts', 'w') as handle:
        handle.write('not used\n')
    done = _launch('--netns-dir', '/run/other', '--name', 'x', '--no-etc', '--', 'cat', '/etc/hosts')
    assert done.returncode == 0 and 'not used' not in done.stdout


def test_errors_are_said_with_their_exit_status():
    sh('ip', 'netns', 'add', 'blue')
    missing = _launch('--name', 'red', '--', 'true')
    assert missing.returncode == 1 and "cannot open network namespace 'red' at /run/netns/red" in missing.stderr
    usage = _launch('--name', 'blue')
    assert usage.returncode == 2 and 'usage' in usage.stderr
    assert _launch('--bogus', '--', 'true').returncode == 2
    nocmd = _launch('--name', 'blue', '--', '/nonexistent/cmd')
    assert nocmd.returncode == 127 and 'cannot run /nonexistent/cmd' in nocmd.stderr
    open('/run/netns/plain', 'w').close()
    notpin = _launch('--name', 'plain', '--', 'true')
    assert notpin.returncode == 1 and 'not a network namespace pin' in notpin.stderr


def _bind_etc_in_child(name):
    launch.unshare(launch.CLONE_NEWNS)
    launch.mount(None, '/', None, launch.MS_SLAVE | launch.MS_REC)
    warnings = launch.bind_etc(name)
    with open('/etc/hosts') as handle:
        return [warnings, handle.read(), os.path.exists('/etc/only-in-netns')]


def test_bind_etc_binds_existing_files_and_warns_about_the_others():
    os.makedirs('/etc/netns/blue')
    for name, text in (('hosts', 'inside\n'), ('only-in-netns', 'x')):
        with open(os.path.join('/etc/netns/blue', name), 'w') as handle:
            handle.write(text)
    warnings, hosts, extra = call_in({}, _bind_etc_in_child, 'blue')
    assert hosts == 'inside\n' and not extra
    assert warnings == ['/etc/netns/blue/only-in-netns has no counterpart /etc/only-in-netns; skipped']
    assert call_in({}, _bind_etc_in_child, 'none')[0] == []
