# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Starting a host's init: pid 1 of new mnt, uts, ipc, pid, net and cgroup
namespaces, in a session of its own, so it outlives the module.

A forked helper unshares, makes the new mount tree private (mounts made
inside never reach the machine), drops its copies of other namespaces' pins
(they would keep those alive), sets the hostname and brings lo up over
netlink, then forks the init and exits. The init is a short shell script:
the mounts need util-linux mount's overlay and bind handling, and what is
left is waiting and reaping as pid 1. It says "ready" on a pipe once set up;
on a failure its stderr (which mount failed) is the error, and since it is
pid 1 its exit ends the namespaces: nothing is left behind.
"""

from __future__ import annotations

import errno
import fcntl
import os
import select
import signal
import socket
import time
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import cow, record
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import OVERLAY, TYPES
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import rtnl, syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import Child, ChildFailed, step
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.rtnetlink import IFF_UP, IFINFOMSG, RTM_NEWLINK
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES as NSTYPES
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.create import forget_copied_pins

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

    from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import HostSpec
    from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import _Channel

READY_TIMEOUT = 20.0
PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# The end of every init: as pid 1 of its pid namespace everything started
# inside dies with it; wait reaps what is re-parented to it.
_WAIT = r"""
echo ready
exec >/dev/null 2>&1 </dev/null
trap 'exit 0' TERM
while :; do sleep 3600 & wait $!; done
"""

# shared_paths: the init holds each directory open from before its own /run
# and /tmp hid them (fds 3, 4, ... in order; $SHARED lists the paths, one per
# line) and binds it at the same path (writable, as the rest of the machine
# an overlay host shares). A bind needs its source in the same mount
# namespace, which these fds are. With a distribution root this runs after
# pivot_root (the old root still attached at /mnt), so the mount points are
# made and resolved inside the root: an absolute symlink of the tree
# (var/run -> /run) points into the host, never at the machine. A path
# whose mount point cannot be made, or that does not show the machine's
# directory once bound, fails the start.
_SHARE = r'''
share() {
  fd=3
  old_ifs=$IFS
  IFS='
'
  set -f
  for path in $SHARED; do
    # made where the path leads inside the host (a dangling var/shared -> /run/x of the tree included)
    target=$(readlink -m -- "$path" 2>/dev/null) || target=$path
    mkdir -p -- "$target" || { echo "shared path $path: cannot make its mount point inside the host" >&2; exit 1; }
    # --no-canonicalize: mount would otherwise resolve the fd to its path, now hidden
    mount -n --no-canonicalize --bind "/proc/self/fd/$fd" "$path" ||
      { echo "shared path $path: cannot bind it inside the host" >&2; exit 1; }
    if [ "$(stat -L -c %d:%i "/proc/self/fd/$fd")" != "$(stat -c %d:%i "$path/")" ]; then
      echo "shared path $path: the host does not see the machine's directory there once bound" >&2
      exit 1
    fi
    fd=$((fd + 1))
  done
  set +f
  IFS=$old_ifs
}
'''

# The machine's own root: the copy-on-write /etc and /var are mounted before
# the init starts (hosts/cow.py, at any overlay depth), so that data_dir may
# live under the /run or /tmp this replaces.
OVERLAY_SCRIPT = (
    _SHARE
    + r"""
set -e
mount -n -t proc -o nosuid,nodev,noexec proc /proc
mount -n -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -n -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup 2>/dev/null || true
mount -n -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
share
echo "$HOSTNAME" > /etc/hostname
"""
    + _WAIT
)

# A distribution root: an overlay over the tree (read-only lower layer),
# entered with pivot_root so `nsenter --mount` lands in it.
ROOT_SCRIPT = (
    _SHARE
    + r"""
set -e
new=$HOST_DIR/root/merged
mount -n -t overlay overlay -o "lowerdir=$LOWER,upperdir=$HOST_DIR/root/upper,workdir=$HOST_DIR/root/work" "$new"
mount -n -t proc -o nosuid,nodev,noexec proc "$new/proc"
mount -n -t sysfs -o nosuid,nodev,noexec sysfs "$new/sys"
mount -n -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$new/sys/fs/cgroup" 2>/dev/null || true
# a minimal /dev: the machine's harmless character devices, private ptys and shm
mount -n -t tmpfs -o mode=0755,nosuid tmpfs "$new/dev"
for n in null zero full random urandom tty; do
  : > "$new/dev/$n"
  mount -n --bind "/dev/$n" "$new/dev/$n"
done
mkdir -m 0755 "$new/dev/pts"
mkdir -m 1777 "$new/dev/shm"
mount -n -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$new/dev/pts"
ln -s pts/ptmx "$new/dev/ptmx"
ln -s /proc/self/fd "$new/dev/fd"
ln -s /proc/self/fd/0 "$new/dev/stdin"
ln -s /proc/self/fd/1 "$new/dev/stdout"
ln -s /proc/self/fd/2 "$new/dev/stderr"
mount -n -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$new/run"
mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$new/tmp"
# a symlink mnt stays as it is (pivot_root then refuses it): nothing is made through it
[ -L "$new/mnt" ] || mkdir -p "$new/mnt"
cd "$new"
pivot_root . mnt
cd /
# written only now, with / the host's root: an absolute symlink of the tree
# (etc/hostname -> /x) resolves inside it, not on the machine
share
echo "$HOSTNAME" > /etc/hostname
umount -l /mnt
"""
    + _WAIT
)

# The persistent directories in data_dir/NAME of each kind of root.
OVERLAY_LAYERS = ('etc/upper', 'etc/work', 'var/upper', 'var/work')
ROOT_LAYERS = ('root/upper', 'root/work', 'root/merged')


def prepare_layers(spec: HostSpec) -> None:
    """The host's persistent directories (kept across reboots)."""
    for sub in OVERLAY_LAYERS if spec.root == OVERLAY else ROOT_LAYERS:
        os.makedirs(os.path.join(spec.host_dir, sub), 0o755, exist_ok=True)


def _lo_up() -> None:
    with rtnl.Socket() as sock:
        sock.request(RTM_NEWLINK, IFINFOMSG.pack(socket.AF_UNSPEC, 0, 1, IFF_UP, IFF_UP))


def _become_init(
    argv: list[str], env: dict[str, str], out_w: int, err_w: int, affinity: Sequence[int], shared: Sequence[str]
) -> NoReturn:  # pragma: no cover - runs in the init
    report = err_w
    try:
        os.setsid()
        os.sched_setaffinity(0, affinity)
        # opened in the new mount namespace, before the script's /run and /tmp hide them
        opened = [os.open(path, os.O_PATH | os.O_DIRECTORY) for path in shared]
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        report = 2
        # moved out of 3 .. 3+n first, then down to 3, 4, ... where the script
        # expects them. Not to a fixed high number: F_DUPFD fails (EINVAL) at
        # or above the soft RLIMIT_NOFILE, which is 1024 in most sessions.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 3 + len(opened)) for fd in opened]
        for index, fd in enumerate(high):
            os.dup2(fd, 3 + index)
        # Ansible waits for EOF on the module's pipes: hold nothing of them.
        os.closerange(3 + len(shared), 65536)
        for signum in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execve('/bin/sh', argv, env)
    except BaseException as exc:  # noqa: B902 - whatever it was, the module quotes it
        # the module quotes stderr: "it gave no reason" hid this
        _say(report, f'preparing the init failed: {exc}')
    finally:
        os._exit(127)


def _say(fd: int, text: str) -> None:  # pragma: no cover - runs in the init
    try:
        os.write(fd, (text + '\n').encode('utf-8', 'replace'))
    except OSError:
        pass


def _helper(
    spec: HostSpec, argv: list[str], env: dict[str, str], out_w: int, err_w: int, cpu: int | None
) -> Callable[[_Channel], None]:
    flags = 0
    for nstype in TYPES:
        flags |= NSTYPES[nstype].flag
    affinity = sorted(os.sched_getaffinity(0))

    def body(channel: _Channel) -> None:
        if cpu is not None:
            step('sched_setaffinity', os.sched_setaffinity, 0, [cpu])
        step('unshare', syscalls.unshare, flags)
        step('make the new mount tree private', forget_copied_pins)
        if spec.root == OVERLAY:
            for directory in ('/etc', '/var'):
                step(
                    f'the copy-on-write {directory}',
                    cow.mount_cow,
                    directory,
                    os.path.join(spec.host_dir, directory[1:]),
                )
        step('sethostname', syscalls.sethostname, spec.hostname)
        step('set lo up', _lo_up)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the init
            _become_init(argv, env, out_w, err_w, affinity, spec.shared_paths)
        os.close(out_w)
        os.close(err_w)
        channel.send({'init': pid})

    return body


def start(spec: HostSpec, cpu: int | None = None, nonce: str | None = None) -> tuple[int, int | None]:
    """Start the host's init; returns (pid, start time) once its script
    says ready. Raises NamespaceError saying what failed, with nothing left
    running. nonce (in its environment) tells it apart from any other
    process with the same command line."""
    env = {
        'PATH': PATH,
        'HOST_DIR': spec.host_dir,
        'HOSTNAME': spec.hostname,
        'LANG': 'C',
        'SHARED': '\n'.join(spec.shared_paths),
    }
    if nonce:
        env['NSFD_HOST_NONCE'] = nonce
    if spec.root != OVERLAY:
        env['LOWER'] = spec.root
    script = OVERLAY_SCRIPT if spec.root == OVERLAY else ROOT_SCRIPT
    argv = ['/bin/sh', '-c', script, record.INIT_MARKER, spec.name, spec.data_dir]
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        try:
            child = Child(_helper(spec, argv, env, out_w, err_w, cpu))
        finally:
            os.close(out_w)
            os.close(err_w)
        try:
            pid = child.receive()['init']
        except ChildFailed as exc:
            raise NamespaceError(
                f'cannot start the host: {exc.step} failed: {exc.message}', name=spec.name, errno=exc.errno
            )
        finally:
            child.finish()
        started = record.start_time(pid)
        if not _ready(out_r):
            kill(pid)
            detail = _drain(err_r).strip() or 'it gave no reason'
            raise NamespaceError(
                f'the host\'s init (pid {pid}) failed while setting up its filesystems: {detail}',
                name=spec.name,
                path=spec.host_dir,
                errno=errno.EIO,
                hint='Nothing of it is left running. Check that root is a complete root tree '
                '(with /proc, /sys, /dev, /run, /tmp and /mnt) and that data_dir is on a '
                'filesystem overlayfs takes as an upper layer.',
            )
        return pid, started
    finally:
        os.close(out_r)
        os.close(err_r)


def _readable(fd: int, timeout: float) -> bool:
    """poll, not select: select refuses fds above 1023, which a module
    holding many files (or a raised RLIMIT_NOFILE) gets."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


def _ready(fd: int) -> bool:
    seen = b''
    while b'\n' not in seen:
        if not _readable(fd, READY_TIMEOUT):
            return False
        chunk = os.read(fd, 64)
        if not chunk:
            return False
        seen += chunk
    return seen.split(b'\n')[0] == b'ready'


def _drain(fd: int) -> str:
    chunks = []
    while _readable(fd, 1.0):
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b''.join(chunks).decode('utf-8', 'replace')


def kill(pid: int, timeout: float = 5.0) -> None:
    """SIGKILL an init (the kernel then kills everything in its pid
    namespace) and wait until it is gone. The caller checked it is the
    host's init (record.init_alive)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return
    for _attempt in range(int(timeout * 1000)):
        if record.start_time(pid) is None:
            return
        time.sleep(0.001)
