"""A throwaway kernel sandbox for each test.

enter() moves the calling process into new mount, network, uts and ipc
namespaces with a private tmpfs /run, a fresh /sys and copy-on-write /etc and
/var, and makes it the reaper of every process it leaves behind. reap_all()
kills those. tests/conftest.py calls both around every test in a forked child,
so nothing a test pins, links or writes outlives it or reaches the host.
"""

import ctypes
import os
import signal
import socket
import struct
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_CHILD_SUBREAPER = 36
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'{what}: {os.strerror(err)}')


def _enc(value):
    return value.encode() if value is not None else None


def _mount(source, target, fstype, flags=0, data=None):
    enc = _enc
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f'mount {target}')


def _loopback_up():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifreq = struct.pack('16sH14x', b'lo', 0)
        flags = struct.unpack('16sH14x', __import__('fcntl').ioctl(sock, SIOCGIFFLAGS, ifreq))[1]
        __import__('fcntl').ioctl(sock, SIOCSIFFLAGS, struct.pack('16sH14x', b'lo', flags | IFF_UP))
    finally:
        sock.close()


def enter(hostname='nsfd-test'):
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC), 'unshare')
    _mount(None, '/', None, MS_REC | MS_PRIVATE)
    _mount('tmpfs', '/run', 'tmpfs', 0, 'mode=0755')
    _mount('sysfs', '/sys', 'sysfs')
    for top in ('etc', 'var'):
        upper, work = f'/run/.sandbox/{top}/upper', f'/run/.sandbox/{top}/work'
        os.makedirs(upper)
        os.makedirs(work)
        _mount('overlay', '/' + top, 'overlay', 0, f'lowerdir=/{top},upperdir={upper},workdir={work}')
    _loopback_up()
    socket.sethostname(hostname)
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 'prctl')


def _children(pid):
    kids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as handle:
                if int(handle.read().rsplit(')', 1)[1].split()[1]) == pid:
                    kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return kids


def reap_all(timeout=10.0):
    """Kill and reap every descendant of this process (orphans come to us
    as the subreaper), until none is left."""
    me = os.getpid()
    deadline = time.time() + timeout
    while time.time() < deadline:
        kids = _children(me)
        if not kids:
            return
        for kid in kids:
            try:
                os.kill(kid, signal.SIGKILL)
            except OSError:
                pass
        for kid in kids:
            try:
                os.waitpid(kid, 0)
            except OSError:
                pass
