"""A simulated host that boots systemd as its pid 1, and reboots for real.

systemd-nspawn --boot runs the root filesystem's own /sbin/init (systemd)
in new pid, mount, uts, ipc and (--private-network) network namespaces, on a
copy-on-write overlay of a cached root (scripts/debian-root), so what the
host writes to /etc and /var survives its reboots while /run starts empty.
`systemctl reboot` inside makes systemd-nspawn exit 133; the wrapper below
starts it again, which is a real reboot: fresh /run, every namespace gone,
units started by systemd in boot order.

This machine's pid 1 is not systemd and has no system bus, so the container
runs with --keep-unit --register=no, in a cgroup of its own (a fresh cgroup2
mount when the sandbox's /sys has none), so that two booted hosts never share
the payload/supervisor cgroups systemd-nspawn creates.

Run it inside a throwaway sandbox (tests/conftest.py does; by hand:
scripts/sandbox python3 tests/fleet/booted.py ...). Commands enter the
container through its systemd (the child of systemd-nspawn): entering the
systemd-nspawn process itself would land in the machine's namespaces.

  booted.py run STATE_DIR ROOT [CMD...]   boot, run CMD (default: bash) in the host, power it off
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

CGROUP_MOUNT = '/sys/fs/cgroup'
CGROUP_PREFIX = 'nsfd-booted-'
PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
REBOOT_STATUS = 133  # systemd-nspawn's exit status when the container asked for a reboot

# The host's "firmware": boot again when the container asks for a reboot,
# unless the launcher is shutting it down for good ($STOP exists).
WRAPPER = r'''
echo $$ > "$CGROUP/cgroup.procs" || exit 1
while :; do
  echo "nsfd-booted: starting $MACHINE" >>"$LOG"
  systemd-nspawn --boot --keep-unit --register=no --private-network --link-journal=no \
    --console=read-only --machine="$MACHINE" --directory="$MERGED" </dev/null >>"$LOG" 2>&1
  rc=$?
  echo "nsfd-booted: systemd-nspawn exited with status $rc" >>"$LOG"
  [ "$rc" -eq 133 ] && [ ! -e "$STOP" ] || exit "$rc"
done
'''


class BootError(Exception):
    pass


def _mountpoint(path):
    """The filesystem type mounted on path, or None. mountinfo also lists
    mounts hidden under later ones (the machine's cgroups under a sandbox's
    fresh /sys): the last entry is the visible one."""
    if not os.path.ismount(path):
        return None
    fstype = None
    with open('/proc/self/mountinfo') as handle:
        for line in handle:
            if line.split()[4] == path:
                fstype = line.split(' - ')[1].split()[0]
    return fstype


def _children(pid):
    try:
        with open(f'/proc/{pid}/task/{pid}/children') as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _comm(pid):
    try:
        with open(f'/proc/{pid}/comm') as handle:
            return handle.read().strip()
    except OSError:
        return None


def _populated(cgroup):
    try:
        with open(os.path.join(cgroup, 'cgroup.events')) as handle:
            return 'populated 1' in handle.read()
    except OSError:
        return False


def _rmdir_tree(path, timeout=10.0):
    """Remove a cgroup and its children, deepest first (cgroup dirs are only
    rmdir-able), once the processes killed in it are really gone."""
    deadline = time.time() + timeout
    while _populated(path) and time.time() < deadline:
        time.sleep(0.1)
    for top, dirs, _files in os.walk(path, topdown=False):
        for name in dirs:
            try:
                os.rmdir(os.path.join(top, name))
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _sweep_cgroups(min_age=60.0):
    """Remove the empty cgroups of earlier hosts whose cleanup never ran (a
    test killed at its timeout). The cgroup2 tree is the machine's, shared by
    every sandbox: a populated one is a running host, a young one may be a
    host about to start."""
    for name in os.listdir(CGROUP_MOUNT):
        path = os.path.join(CGROUP_MOUNT, name)
        if name.startswith(CGROUP_PREFIX) and not _populated(path):
            try:
                old = time.time() - os.stat(path).st_ctime > min_age
            except OSError:
                continue
            if old:
                _rmdir_tree(path, timeout=0)


def _enter(pid, argv):
    return ['nsenter', '--target', str(pid), '--all', '--', 'env', '-i', 'PATH=' + PATH, 'LANG=C.UTF-8'] + list(argv)


class BootedHost:
    """One systemd-booted host. Use as a context manager: leaving it powers the
    host off (or kills it), unmounts its overlay and removes its cgroup."""

    def __init__(self, root, state_dir, name='booted'):
        self.root = root
        self.state_dir = os.path.abspath(state_dir)
        self.name = name
        self.merged = os.path.join(self.state_dir, 'root')
        self.log = os.path.join(self.state_dir, 'console.log')
        self.stop_file = os.path.join(self.state_dir, 'stop')
        self.cgroup = None
        self.wrapper = None
        self.boots = 0

    # -- lifecycle -------------------------------------------------------

    def start(self, timeout=60):
        if not os.path.isfile(os.path.join(self.root, 'sbin', 'init')) and not os.path.islink(
            os.path.join(self.root, 'sbin', 'init')
        ):
            raise BootError(f'{self.root} has no /sbin/init: build a root with scripts/debian-root')
        self._overlay()
        self._own_cgroup()
        if os.path.exists(self.stop_file):
            os.unlink(self.stop_file)
        env = dict(
            os.environ, CGROUP=self.cgroup, LOG=self.log, MACHINE=self.name, MERGED=self.merged, STOP=self.stop_file
        )
        self.wrapper = subprocess.Popen(
            ['sh', '-c', WRAPPER, 'nsfd-booted-' + self.name], env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )
        self.wait_running(timeout)
        return self

    def _overlay(self):
        upper, work = os.path.join(self.state_dir, 'upper'), os.path.join(self.state_dir, 'work')
        for path in (upper, work, self.merged):
            os.makedirs(path, exist_ok=True)
        if _mountpoint(self.merged) is None:
            subprocess.run(
                [
                    'mount',
                    '-t',
                    'overlay',
                    'overlay',
                    '-o',
                    f'lowerdir={self.root},upperdir={upper},workdir={work}',
                    self.merged,
                ],
                check=True,
                capture_output=True,
                text=True,
            )

    def _own_cgroup(self):
        fstype = _mountpoint(CGROUP_MOUNT)
        if fstype is None:
            # a sandbox's fresh sysfs has no cgroup hierarchy, and systemd-nspawn needs one
            subprocess.run(['mount', '-t', 'cgroup2', 'none', CGROUP_MOUNT], check=True, capture_output=True, text=True)
        elif fstype != 'cgroup2':
            raise BootError(
                f'{CGROUP_MOUNT} is {fstype}, not cgroup2: run this in a sandbox (scripts/sandbox), whose fresh /sys '
                'has no cgroup mounted'
            )
        _sweep_cgroups()
        self.cgroup = os.path.join(CGROUP_MOUNT, f'{CGROUP_PREFIX}{self.name}-{uuid.uuid4().hex[:8]}')
        os.mkdir(self.cgroup)

    @property
    def pid(self):
        """The container's pid 1 (systemd) as this machine sees it, or None
        while it is not up (between two boots, or after power-off)."""
        if self.wrapper is None:
            return None
        for nspawn in _children(self.wrapper.pid):
            for child in _children(nspawn):
                if _comm(child) == 'systemd':
                    return child
        return None

    def wait_running(self, timeout=60, previous=None):
        """Until systemd inside says running (or degraded: a unit failed,
        which the caller checks). previous: a pid 1 that must be gone."""
        deadline = time.time() + timeout
        state = 'not started'
        while time.time() < deadline:
            if self.wrapper.poll() is not None:
                raise BootError(
                    f'{self.name} stopped (status {self.wrapper.returncode}) before it was running:\n{self.console()}'
                )
            pid = self.pid
            if pid is not None and pid != previous:
                # pid 1 may be gone again by now (a reboot in progress): then the answer is empty
                state = (
                    subprocess.run(
                        _enter(pid, ['systemctl', 'is-system-running']),
                        capture_output=True,
                        text=True,
                        check=False,
                        timeout=30,
                    ).stdout.strip()
                    or state
                )
                if state in ('running', 'degraded'):
                    self.boots += 1
                    return state
            time.sleep(0.2)
        raise BootError(f'{self.name} did not finish booting in {timeout}s (last state {state!r}):\n{self.console()}')

    def reboot(self, timeout=60):
        old = self.pid
        # the command dies with the container; success is the next boot
        self.run('systemctl', 'reboot', check=False)
        return self.wait_running(timeout, previous=old)

    def poweroff(self, timeout=30):
        if self.wrapper is None or self.wrapper.poll() is not None:
            return
        # a reboot under way ends the wrapper instead of booting again
        open(self.stop_file, 'w').close()
        if self.pid is None:
            return  # not up (yet): nothing to shut down cleanly, cleanup() kills
        try:
            if self.run('systemctl', 'poweroff', check=False).returncode != 0:
                return  # systemd not ready to take it (still booting): cleanup() kills
        except BootError:
            pass  # pid 1 went away meanwhile: the wrapper ends on its own
        try:
            self.wrapper.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self):
        try:
            self.poweroff()
        finally:
            self._kill()
            if _mountpoint(self.merged) is not None:
                subprocess.run(['umount', '--lazy', self.merged], check=False, capture_output=True)
            if self.cgroup:
                _rmdir_tree(self.cgroup)

    def _kill(self):
        if self.wrapper is None or self.wrapper.poll() is not None:
            return
        # everything the wrapper started is in its cgroup, also a container
        # still on its way to pid 1 in a session of its own
        try:
            with open(os.path.join(self.cgroup, 'cgroup.kill'), 'w') as handle:
                handle.write('1')
        except OSError:
            os.killpg(self.wrapper.pid, signal.SIGKILL)
        self.wrapper.wait()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            # a host that never finished booting is cleaned up all the same
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    # -- inside the host -------------------------------------------------

    def command(self, *argv):
        """argv prefixed so that it runs in every namespace of the running
        host, as its root, with a clean environment."""
        pid = self.pid
        if pid is None:
            raise BootError(f'{self.name} is not running:\n{self.console()}')
        return _enter(pid, argv)

    def run(self, *argv, **kwargs):
        """Run argv in the host. check (default true) raises BootError with
        its output when it fails. Returns CompletedProcess (text)."""
        check = kwargs.pop('check', True)
        kwargs.setdefault('timeout', 120)
        result = subprocess.run(self.command(*argv), capture_output=True, text=True, check=False, **kwargs)
        if check and result.returncode != 0:
            raise BootError(
                f'{" ".join(argv)} in {self.name} exited with status {result.returncode}:\n'
                f'{result.stdout}{result.stderr}'
            )
        return result

    def json(self, *argv):
        return json.loads(self.run(*argv).stdout or 'null')

    def path(self, inside):
        """Where the host's path `inside` is on this machine (its overlay)."""
        return os.path.join(self.merged, inside.lstrip('/'))

    def console(self, lines=40):
        try:
            with open(self.log) as handle:
                return ''.join(handle.readlines()[-lines:])
        except OSError:
            return '(no console log)'


def ship_python_package(host, package, prefix='/opt/nsfd-python'):
    """Give the host a Python with `package` from this controller's Python
    (pure Python only), without a package index: a venv of the host's own
    python3 (--without-pip: Debian ships ensurepip separately, and the host
    has no route out) with the package's files copied in. Returns the venv's
    python path, for ansible_python_interpreter."""
    module = __import__(package)
    source = os.path.dirname(module.__file__)
    python = os.path.join(prefix, 'bin', 'python3')
    host.run('python3', '-m', 'venv', '--without-pip', '--system-site-packages', prefix)
    site = host.run(python, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout.strip()
    target = host.path(os.path.join(site, package))
    if os.path.isdir(target):
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns('__pycache__'))
    host.run(python, '-c', f'import {package}')
    return python


def main(argv):
    if len(argv) < 4 or argv[1] != 'run':
        raise SystemExit(__doc__)
    with BootedHost(argv[3], argv[2]) as host:
        # interactive: the terminal is the command's; a reboot inside ends it
        status = subprocess.call(host.command(*(argv[4:] or ['bash'])))
    sys.exit(status)


if __name__ == '__main__':
    main(sys.argv)
