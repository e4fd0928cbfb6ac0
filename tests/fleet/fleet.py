"""A simulated fleet of Linux hosts on one machine, for molecule, the demo and tests.

Each host is a long-running process in its own mount, uts, net, ipc, pid and
cgroup namespaces, with a private tmpfs /run, its own /sys and a hostname.
Hosts are cabled by veth pairs to a bridge that lives in a dedicated lab
network namespace, never in the machine's root network namespace: host N is
10.77.0.N/24 on its eth0. What a host's filesystem is depends on its kind:

  sandbox  the machine's own root, with copy-on-write /etc and /var (overlayfs,
           kept in the fleet's state directory so they survive a simulated
           reboot); Python is whatever the caller points Ansible at.
  debian   its own root filesystem: a copy-on-write overlay over the cached
           stock Debian bookworm tree of scripts/debian-root (or
           $NSFD_DEBIAN_ROOT), with /proc, /sys, a minimal /dev and private
           /run and /tmp; its Python is that tree's /usr/bin/python3, which
           has no pyroute2. The whole root survives a simulated reboot.

Run it inside a throwaway sandbox (scripts/sandbox): the lab namespace is
pinned in that sandbox's /run/netns.

  fleet.py up STATE_DIR HOST[:KIND] ...   start hosts (kind sandbox unless given), print JSON {name: pid}
  fleet.py reboot STATE_DIR HOST          kill it (all its namespaces, pins and links die), start it again
  fleet.py down STATE_DIR                 kill every host and the lab, remove their files (idempotent, also after a crash)
  fleet.py status STATE_DIR               JSON {name: pid or null}
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

LAB_NETNS = 'nsfd-lab'
LAB_BRIDGE = 'labbr0'
SUBNET = '10.77.0'
# argv[0] of every host's init, followed by its name and the fleet's state
# directory. Deliberately not the earlier 'nsfd-fleet-host': fleet.py copies
# that predate per-fleet matching kill every process whose command line
# contains that string, on the whole machine.
HOST_MARKER = 'nsfd-fleet.host'

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The end of every host's init: it is pid 1 of its pid namespace, so
# everything started inside dies with it.
INIT_WAIT = r"""
echo ready
exec >/dev/null
trap 'exit 0' TERM
while :; do sleep 3600 & wait $!; done
"""


class SandboxHost(object):
    """The machine's own root with copy-on-write /etc and /var."""

    kind = 'sandbox'
    init = r"""
set -e
# overlays first: the state directory may live under the /run about to be replaced
for d in etc var; do
  mount -t overlay overlay -o lowerdir=/$d,upperdir=$STATE/$d/upper,workdir=$STATE/$d/work /$d
done
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t sysfs sysfs /sys
hostname "$HOST"
ip link set lo up
""" + INIT_WAIT

    def __init__(self, host_dir):
        self.host_dir = host_dir

    def prepare(self):
        for sub in ('etc/upper', 'etc/work', 'var/upper', 'var/work'):
            os.makedirs(os.path.join(self.host_dir, sub), exist_ok=True)
        return {}


class DebianRootHost(SandboxHost):
    """Its own stock Debian root: an overlay over the cached tree, entered with pivot_root.

    pivot_root (not chroot) makes the tree the root of the host's mount
    namespace, so `nsenter --mount` (the nsenter connection) lands in it.
    """

    kind = 'debian'
    init = r"""
set -e
new=$STATE/root/merged
mount -t overlay overlay -o lowerdir=$LOWER,upperdir=$STATE/root/upper,workdir=$STATE/root/work "$new"
mount -t proc -o nosuid,nodev,noexec proc "$new/proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs "$new/sys"
# a minimal /dev: the machine's harmless character devices, private ptys and shm
mount -t tmpfs -o mode=0755,nosuid tmpfs "$new/dev"
for n in null zero full random urandom tty; do
  touch "$new/dev/$n"
  mount --bind "/dev/$n" "$new/dev/$n"
done
mkdir -m 0755 "$new/dev/pts"
mkdir -m 1777 "$new/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$new/dev/pts"
ln -s pts/ptmx "$new/dev/ptmx"
ln -s /proc/self/fd "$new/dev/fd"
ln -s /proc/self/fd/0 "$new/dev/stdin"
ln -s /proc/self/fd/1 "$new/dev/stdout"
ln -s /proc/self/fd/2 "$new/dev/stderr"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$new/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$new/tmp"
echo "$HOST" > "$new/etc/hostname"
hostname "$HOST"
ip link set lo up
cd "$new"
pivot_root . mnt
cd /
umount -l /mnt
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
""" + INIT_WAIT

    def __init__(self, host_dir, lower=None):
        super(DebianRootHost, self).__init__(host_dir)
        self.lower = lower or debian_root()

    def prepare(self):
        for sub in ('root/upper', 'root/work', 'root/merged'):
            os.makedirs(os.path.join(self.host_dir, sub), exist_ok=True)
        return {'LOWER': self.lower}


KINDS = dict((k.kind, k) for k in (SandboxHost, DebianRootHost))


def debian_root():
    """The cached bookworm tree: $NSFD_DEBIAN_ROOT, or where scripts/debian-root keeps it."""
    root = os.environ.get('NSFD_DEBIAN_ROOT')
    if not root:
        root = subprocess.run([os.path.join(REPO, 'scripts', 'debian-root'), '--print-only'], capture_output=True,
                              text=True, check=True).stdout.strip()
    if not os.path.isfile(os.path.join(root, '.complete')):
        raise SystemExit('no complete Debian root at %s: run scripts/debian-root on the machine first '
                         '(outside any sandbox: it needs the Debian mirror)' % root)
    return root


def parse_host(token):
    """HOST or HOST:KIND."""
    name, kind = (token.split(':', 1) + [SandboxHost.kind])[:2]
    if not name or kind not in KINDS:
        raise SystemExit('bad host %r: expected NAME or NAME:KIND with KIND one of %s'
                         % (token, ', '.join(sorted(KINDS))))
    return name, kind


def sh(*argv, **kwargs):
    check = kwargs.pop('check', True)
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, **kwargs)


def _state(state_dir):
    path = os.path.join(state_dir, 'fleet.json')
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return {'hosts': {}}


def _save(state_dir, state):
    tmp = os.path.join(state_dir, 'fleet.json.tmp')
    with open(tmp, 'w') as handle:
        json.dump(state, handle, indent=1, sort_keys=True)
    os.replace(tmp, os.path.join(state_dir, 'fleet.json'))


def _alive(pid, state_dir):
    """A host of this fleet: its init's command line ends with the marker, its name and the state directory.

    Other fleets (other state directories) may run on the same machine and,
    from a caller without its own pid namespace, show in the same /proc.
    """
    if not pid:
        return False
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv = handle.read().split(b'\0')
    except OSError:
        return False
    return len(argv) > 3 and argv[-4] == os.fsencode(HOST_MARKER) and argv[-2] == os.fsencode(state_dir)


def ensure_lab():
    if sh('ip', 'netns', 'list').stdout.split().count(LAB_NETNS) == 0:
        sh('ip', 'netns', 'add', LAB_NETNS)
    if sh('ip', '-n', LAB_NETNS, 'link', 'show', LAB_BRIDGE, check=False).returncode != 0:
        sh('ip', '-n', LAB_NETNS, 'link', 'add', LAB_BRIDGE, 'type', 'bridge')
        sh('ip', '-n', LAB_NETNS, 'addr', 'add', SUBNET + '.254/24', 'dev', LAB_BRIDGE)
        sh('ip', '-n', LAB_NETNS, 'link', 'set', LAB_BRIDGE, 'up')
        sh('ip', '-n', LAB_NETNS, 'link', 'set', 'lo', 'up')


def start_host(state_dir, name, index, kind):
    host_dir = os.path.join(state_dir, name)
    host = KINDS[kind](host_dir)
    env = dict(os.environ, HOST=name, STATE=host_dir, **host.prepare())
    proc = subprocess.Popen(
        ['unshare', '--mount', '--uts', '--net', '--ipc', '--pid', '--cgroup', '--fork', '--kill-child',
         '--propagation', 'private', '--mount-proc', '--', 'sh', '-c', host.init, HOST_MARKER, name, state_dir],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    ready = select.select([proc.stdout], [], [], 10)[0]
    if not ready or proc.stdout.readline() != b'ready\n':
        proc.kill()
        raise SystemExit('%s host %s did not start: %s'
                         % (kind, name, proc.stderr.read().decode(errors='replace')))
    proc.stdout.close()
    proc.stderr.close()
    pid = _init_pid(proc.pid)
    cable(name, pid, index)
    return pid


def _init_pid(unshare_pid):
    """The host's init: the child unshare forked into the new pid namespace."""
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            with open('/proc/%d/task/%d/children' % (unshare_pid, unshare_pid)) as handle:
                children = handle.read().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.01)
    raise SystemExit('no init process under unshare %d' % unshare_pid)


def cable(name, pid, index):
    lab_end = ('lab-%s' % name)[:15]
    sh('ip', '-n', LAB_NETNS, 'link', 'del', lab_end, check=False)
    sh('ip', '-n', LAB_NETNS, 'link', 'add', lab_end, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', str(pid))
    sh('ip', '-n', LAB_NETNS, 'link', 'set', lab_end, 'master', LAB_BRIDGE, 'up')
    nsenter = ['nsenter', '-t', str(pid), '--net', '--']
    sh(*(nsenter + ['ip', 'addr', 'add', '%s.%d/24' % (SUBNET, index), 'dev', 'eth0']))
    sh(*(nsenter + ['ip', 'link', 'set', 'eth0', 'up']))


def up(state_dir, tokens):
    hosts = [parse_host(t) for t in tokens]
    os.makedirs(state_dir, exist_ok=True)
    ensure_lab()
    state = _state(state_dir)
    for index, (name, kind) in enumerate(hosts, start=1):
        entry = state['hosts'].get(name)
        if entry and _alive(entry['pid'], state_dir):
            if entry.get('kind', SandboxHost.kind) != kind:
                raise SystemExit('host %s is already up as a %s host, not %s: run down first'
                                 % (name, entry.get('kind', SandboxHost.kind), kind))
            continue
        state['hosts'][name] = {'pid': start_host(state_dir, name, index, kind), 'index': index, 'kind': kind,
                                'address': '%s.%d' % (SUBNET, index)}
        _save(state_dir, state)
    return dict((host[0], state['hosts'][host[0]]['pid']) for host in hosts)


def _kill(pid, state_dir):
    if not _alive(pid, state_dir):  # gone, or its pid reused by another process
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    deadline = time.time() + 5
    while _alive(pid, state_dir) and time.time() < deadline:
        time.sleep(0.01)


def reboot(state_dir, name):
    state = _state(state_dir)
    entry = state['hosts'][name]
    _kill(entry['pid'], state_dir)
    ensure_lab()
    entry['pid'] = start_host(state_dir, name, entry['index'], entry.get('kind', SandboxHost.kind))
    _save(state_dir, state)
    return entry['pid']


def down(state_dir):
    state = _state(state_dir)
    for entry in state['hosts'].values():
        _kill(entry['pid'], state_dir)
    # also hosts a crashed run never recorded
    for pid in os.listdir('/proc'):
        if pid.isdigit() and _alive(int(pid), state_dir):
            _kill(int(pid), state_dir)
    sh('ip', 'netns', 'delete', LAB_NETNS, check=False)
    # their filesystems (copy-on-write layers, a whole root) went with them:
    # the mounts lived in the hosts' own mount namespaces
    for name in state['hosts']:
        shutil.rmtree(os.path.join(state_dir, name), ignore_errors=True)
    state['hosts'] = {}
    if os.path.isdir(state_dir):
        _save(state_dir, state)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    command, state_dir = argv[1], os.path.realpath(argv[2])  # one spelling: hosts are matched by it
    if command == 'up':
        print(json.dumps(up(state_dir, argv[3:])))
    elif command == 'reboot':
        print(json.dumps({argv[3]: reboot(state_dir, argv[3])}))
    elif command == 'down':
        down(state_dir)
    elif command == 'status':
        state = _state(state_dir)
        print(json.dumps(dict((n, e['pid'] if _alive(e['pid'], state_dir) else None) for n, e in state['hosts'].items())))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
