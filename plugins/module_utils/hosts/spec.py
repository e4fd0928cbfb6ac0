# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A validated namespace host: everything a caller can get wrong is refused
here, before anything is looked at or changed."""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import os
import re
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import ifname as ifnames, syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES as NSTYPES
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import usable_hosts
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import check_name, check_pin_dir, unprintable

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Union

    # a lab address: the host's, or the bridge's (the gateway), with its prefix
    Interface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
    Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

OVERLAY = 'overlay'
DEFAULT_DATA_DIR = '/var/lib/nsfd-hosts'
DEFAULT_LAB = 'nsfd-lab'
DEFAULT_BRIDGE = 'labbr0'
DEFAULT_INTERFACE = 'eth0'
# Every namespace of a host, in the order the pins engine creates them.
TYPES = ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup']
STATES = ('started', 'rebooted', 'absent')
LAB_KEYS = ('name', 'bridge', 'address', 'interface', 'gateway')

HOSTNAME = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\Z')
# What a distribution root must hold to be one (and what fleet.py's debian kind needed).
ROOT_MUST_HOLD = ('usr/bin', 'etc')


@dataclasses.dataclass(frozen=True)
class Lab:
    name: str
    bridge: str
    address: Interface  # ipaddress.IPv4Interface / IPv6Interface
    interface: str
    gateway: Interface  # the bridge's address (an interface with the same prefix)

    def as_dict(self) -> dict[str, str]:
        return {
            'name': self.name,
            'bridge': self.bridge,
            'address': str(self.address),
            'interface': self.interface,
            'gateway': str(self.gateway),
        }


# Paths a host must have of its own: sharing them would undo its private
# /run and /tmp, its copy-on-write /etc and /var, or hand it the machine's
# kernel interfaces.
UNSHAREABLE = ('/', '/run', '/tmp', '/etc', '/var', '/proc', '/sys', '/dev')


# eq=False: compared and hashed by identity, as before (shared_paths is a list)
@dataclasses.dataclass(frozen=True, eq=False)
class HostSpec:
    name: str
    state: str
    hostname: str
    root: str
    data_dir: str
    lab: Lab | None
    shared_paths: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        # a copy of the caller's sequence, as a list
        object.__setattr__(self, 'shared_paths', list(self.shared_paths))

    @property
    def host_dir(self) -> str:
        return os.path.join(self.data_dir, self.name)

    @property
    def lab_end(self) -> str:
        return lab_end_name(self.name)

    def config(self) -> dict[str, Any]:
        """What a running host was started with; a difference needs a reboot."""
        return {
            'hostname': self.hostname,
            'root': self.root,
            'lab': self.lab.as_dict() if self.lab else None,
            'shared_paths': self.shared_paths,
        }


def lab_end_name(name: str) -> str:
    """The host's veth end in the lab namespace: lab- and 11 hex digits of the
    SHA-256 of the whole name, within IFNAMSIZ for every name. lab-NAME, cut
    to fit, gave two names one end (abcdefghijklm and abcde-4b989) and an
    end the name of a bridge (lab-h1); the lab only deletes a link of that
    name that is a veth marked as a lab end (lab.END_MARK)."""
    return 'lab-' + hashlib.sha256(name.encode('utf-8')).hexdigest()[:11]


def check_hostname(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > 64 or not HOSTNAME.match(value):
        raise NamespaceError(
            f'{field} {value!r} is not a valid hostname: it takes 1 to 64 letters, digits, "-" and ".", '
            'starting and ending with a letter or digit'
        )
    return value


# Names the kernel keeps for itself: 'all' and 'default' are the directories
# of /proc/sys/net/*/conf beside the interfaces', and every network namespace
# has its 'lo' (neither a bridge nor a host's lab interface may take it).
def check_ifname(value: Any, field: str) -> str:
    # lo is every namespace's own: not a lab's bridge or a host's interface
    if value == 'lo':
        raise NamespaceError(
            f"{field} 'lo' is a name the kernel keeps for itself (every namespace's loopback): choose "
            "another interface name"
        )
    why = ifnames.problem(value)
    if why:
        raise NamespaceError(f'{field} {value!r} is not a valid interface name: {why}')
    return value


# overlayfs splits its mount options at ',' and its lower layers at ':'
# (and takes '\\' as an escape): such a path would name other layers.
OVERLAY_SPECIAL = ',:\\'


def _check_overlay_path(path: str, field: str) -> str:
    bad = sorted(set(c for c in path if c in OVERLAY_SPECIAL))
    if bad:
        raise NamespaceError(
            f'{field} {path!r} must not contain {" or ".join(repr(c) for c in bad)}: the host\'s overlay mounts name '
            'it in their options, where these characters separate layers and options'
        )
    return path


def check_root(root: Any) -> str:
    if root == OVERLAY:
        return root
    if not isinstance(root, str) or not os.path.isabs(root) or unprintable(root):
        raise NamespaceError(f"root {root!r} must be 'overlay' or the absolute path of a distribution root tree")
    root = _check_overlay_path(os.path.normpath(root), 'root')
    missing = [sub for sub in ROOT_MUST_HOLD if not os.path.isdir(os.path.join(root, sub))]
    if root == '/' or missing:
        why = (
            'it is the machine\'s own root (use root: overlay)'
            if root == '/'
            else f'it has no {" or ".join("/" + m for m in missing)} directory'
        )
        raise NamespaceError(
            f'root {root!r} is not a distribution root tree: {why}',
            path=root,
            hint='Point root at an unpacked root filesystem (debootstrap, scripts/debian-root).',
        )
    return root


def _resolved(path: str) -> str:
    """The path the kernel would reach: '.', '..', '//' and symlinks resolved
    (symlinks of the part that exists). Every rule judges this, never the
    spelling: //etc, /./etc or a link to /etc are /etc."""
    return os.path.realpath('/' + path.lstrip('/'))


def _shared_conflict(path: str) -> str | None:
    """Which of the host's own directories path is, holds or lies under, or None."""
    for own in UNSHAREABLE:
        if path == own:
            return f'the host has its own {own}'
        if own.startswith(path.rstrip('/') + '/'):
            return f'it holds {own}, which the host has of its own'
        if own in ('/proc', '/sys', '/dev') and path.startswith(own + '/'):
            return f'the host has its own {own}'
    return None


def check_shared_paths(paths: Any, data_dir: str) -> list[str]:
    """Machine directories bound writable into the host at the same path
    (the controller's virtualenv or checkout, when it lives under /tmp, which
    the host has of its own): absolute, existing, resolved, sorted parents first."""
    if paths is None:
        return []
    if not isinstance(paths, list):
        raise NamespaceError(f'shared_paths must be a list of absolute directory paths, not {paths!r}')
    checked: list[str] = []
    for given in paths:
        if not isinstance(given, str) or not os.path.isabs(given) or unprintable(given):
            raise NamespaceError(f'shared_paths: {given!r} is not an absolute path without control characters')
        path = _resolved(given)
        spelled = '' if path == os.path.normpath(given) else f' (given as {given!r})'
        conflict = _shared_conflict(path)
        if conflict is None and (path == data_dir or path.startswith(data_dir + '/')):
            conflict = 'the host has its own data_dir (its copy-on-write layers)'
        if conflict:
            raise NamespaceError(
                f'shared_paths: {path!r} cannot be shared: {conflict}{spelled}',
                hint='Share a directory below /tmp or /run, or elsewhere, instead.',
            )
        if not os.path.isdir(path):
            raise NamespaceError(f'shared_paths: {path!r} is not a directory on this machine{spelled}', path=path)
        if path in checked:
            raise NamespaceError(f'shared_paths names {path!r} twice{spelled}')
        checked.append(path)
    return sorted(checked)


# What a data_dir must not be: directories of the system, whose entries are
# other programs' (absent of a host named like one of them, lists in
# /var/lib, was theirs to lose) ...
SYSTEM_DIRS = (
    '/',
    '/etc',
    '/var',
    '/var/lib',
    '/var/cache',
    '/var/log',
    '/var/tmp',
    '/var/spool',
    '/home',
    '/root',
    '/boot',
    '/dev',
    '/proc',
    '/sys',
    '/tmp',
    '/run',
    '/mnt',
    '/media',
    '/opt',
    '/srv',
)
# ... nor be in these, the machine's programs and kernel interfaces ...
SYSTEM_TREES = (
    '/usr',
    '/bin',
    '/sbin',
    '/lib',
    '/lib32',
    '/lib64',
    '/libx32',
    '/etc',
    '/boot',
    '/dev',
    '/proc',
    '/sys',
)
# ... nor in a pin directory or the labs' lock directory (a host directory
# there would be taken for a pin or a lock).
LOCK_DIR = '/run/nsfd-labs'
PIN_TREES = tuple(sorted(set(t.default_dir for t in NSTYPES.values()))) + (LOCK_DIR,)
# Kernel filesystems: nothing of a host can be kept there.
KERNEL_FS = {
    0x9FA0: 'proc',
    0x62656572: 'sysfs',
    0x27E0EB: 'cgroup',
    0x63677270: 'cgroup2',
    syscalls.NSFS_MAGIC: 'nsfs',
    0x64626720: 'debugfs',
    0x74726163: 'tracefs',
    0x73636673: 'securityfs',
    0xCAFE4A11: 'bpf',
    0x6165676C: 'pstore',
    0xDE5E81E4: 'efivarfs',
    0x62656570: 'configfs',
    0x1CD1: 'devpts',
    0x42494E4D: 'binfmt_misc',
    0x65735543: 'fusectl',
}


def _under(path: str, trees: Iterable[str]) -> str | None:
    return next((t for t in trees if path == t or path.startswith(t + '/')), None)


def filesystem_of(path: str) -> tuple[int, str]:
    """(f_type, that ancestor) of the filesystem of path's nearest existing ancestor."""
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    try:
        return syscalls.statfs_type(existing), existing
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot tell the filesystem of data_dir', path=existing)


def check_data_dir(data_dir: Any) -> str:
    check_pin_dir(data_dir, 'data_dir')  # absolute, printable, not the root
    given = _check_overlay_path(data_dir, 'data_dir')
    data_dir = _check_overlay_path(_resolved(given), 'data_dir')
    spelled = '' if data_dir == given else f' ({data_dir!r} once resolved)'
    own = f'must be a directory of its own, such as {DEFAULT_DATA_DIR}'
    if data_dir in SYSTEM_DIRS:
        raise NamespaceError(
            f'data_dir {given!r}{spelled} {own}: {data_dir} is a system directory, whose entries are other programs\''
        )
    inside = _under(data_dir, SYSTEM_TREES) or _under(data_dir, PIN_TREES)
    if inside:
        raise NamespaceError(f'data_dir {given!r}{spelled} {own}, not in {inside}')
    magic, existing = filesystem_of(data_dir)
    if magic in KERNEL_FS:
        raise NamespaceError(
            f'data_dir {given!r}{spelled} {own}: {existing} is on {KERNEL_FS[magic]}, a kernel filesystem',
            path=existing,
        )
    return data_dir


def _interface(value: Any, field: str) -> Interface:
    try:
        address = ipaddress.ip_interface(value if isinstance(value, str) else '')
    except ValueError:
        raise NamespaceError(f'{field} {value!r} must be an address with its prefix length, such as 10.77.0.1/24')
    if '/' not in value:
        raise NamespaceError(f'{field} {value!r} needs a prefix length (the lab subnet), such as 10.77.0.1/24')
    return _check_unicast(address, value, field)


def _check_unicast(address: Interface, value: str, field: str) -> Interface:
    """A lab has its own subnet of unicast addresses: a multicast, loopback or
    unspecified address is no host's or bridge's, and a scope (%eth0) names an
    interface of the machine, not of the lab."""
    if '%' in value:
        raise NamespaceError(
            f'{field} {value!r} has a scope (%...): a lab address is the same on every interface; leave the scope out'
        )
    for kind in ('multicast', 'loopback', 'unspecified'):
        if getattr(address.ip, 'is_' + kind):
            raise NamespaceError(
                f'{field} {value!r} is a {kind} address, which no host or bridge of a lab can have: use a unicast '
                'address of a private subnet, such as 10.77.0.1/24'
            )
    return address


def _check_gateway(given: Any, address: Any, network: Network) -> Interface:
    """lab.gateway as given: a usable unicast address of the lab subnet (that of
    lab.address, as given in address), with no prefix length or the subnet's."""
    first, last = usable_hosts(network)
    ip, _slash, prefix = str(given).partition('/')
    parsed: Interface | None
    try:
        parsed = ipaddress.ip_interface(f'{ip}/{prefix or network.prefixlen}')
    except ValueError:
        parsed = None
    if (
        parsed is None
        or not isinstance(given, str)
        or parsed.ip not in network
        or not int(first) <= int(parsed.ip) <= int(last)
    ):
        raise NamespaceError(
            f'lab.gateway {given!r} must be a usable address of the lab subnet {network} (of lab.address {address!r})'
        )
    gateway = parsed
    _check_unicast(gateway, given, 'lab.gateway')
    # the bridge has one subnet with its hosts: another prefix is refused, never cut to fit
    if gateway.network.prefixlen != network.prefixlen:
        raise NamespaceError(
            f'lab.gateway {given!r} has prefix length {gateway.network.prefixlen}, and the lab subnet of '
            f'lab.address {address!r} has {network.prefixlen}: '
            f'give the gateway without a prefix length or with /{network.prefixlen}'
        )
    return gateway


def check_lab(lab: Any) -> Lab | None:
    if lab is None:
        return None
    if not isinstance(lab, dict):
        raise NamespaceError(f'lab must be a dictionary with the keys {", ".join(LAB_KEYS)}, not {lab!r}')
    unknown = sorted(set(lab) - set(LAB_KEYS))
    if unknown:
        raise NamespaceError(f'lab has unknown key(s) {", ".join(map(repr, unknown))}; it takes {", ".join(LAB_KEYS)}')
    name = check_name(lab.get('name') or DEFAULT_LAB, 'lab.name')
    bridge = check_ifname(lab.get('bridge') or DEFAULT_BRIDGE, 'lab.bridge')
    interface = check_ifname(lab.get('interface') or DEFAULT_INTERFACE, 'lab.interface')
    if lab.get('address') is None:
        raise NamespaceError('lab.address is required with lab: the host\'s address and prefix, such as 10.77.0.1/24')
    address = _interface(lab['address'], 'lab.address')
    network = address.network
    if network.num_addresses < 2:
        raise NamespaceError(
            f'lab.address {lab["address"]!r} is a subnet of one address, with none left for the lab bridge: use the '
            'prefix length of the lab subnet, such as /24'
        )
    first, last = usable_hosts(network)
    if not int(first) <= int(address.ip) <= int(last):
        raise NamespaceError(
            f'lab.address {lab["address"]!r} is not a usable host address of {network} '
            '(the network or broadcast address)'
        )
    if lab.get('gateway') is None:
        gateway = ipaddress.ip_interface(f'{last}/{network.prefixlen}')
    else:
        gateway = _check_gateway(lab['gateway'], lab['address'], network)
    if gateway.ip == address.ip:
        raise NamespaceError(
            f'lab.address {lab["address"]!r} is the lab bridge\'s own address (the gateway {gateway.ip}); '
            'choose another one'
        )
    return Lab(name, bridge, address, interface, gateway)


def build(
    name: Any = None,
    state: str = 'started',
    hostname: Any = None,
    root: Any = OVERLAY,
    data_dir: Any = DEFAULT_DATA_DIR,
    lab: Any = None,
    shared_paths: Any = None,
) -> HostSpec:
    if state not in STATES:
        raise NamespaceError(f'state {state!r} must be one of {", ".join(STATES)}')
    check_name(name)
    check_hostname(name, 'name')
    hostname = check_hostname(name if hostname is None else hostname, 'hostname')
    data_dir = check_data_dir(data_dir or DEFAULT_DATA_DIR)
    if state == 'absent':
        # absent needs no more than where the host is: its record says the rest.
        return HostSpec(name, state, hostname, root, data_dir, None)
    return HostSpec(
        name,
        state,
        hostname,
        check_root(root or OVERLAY),
        data_dir,
        check_lab(lab),
        check_shared_paths(shared_paths, data_dir),
    )
