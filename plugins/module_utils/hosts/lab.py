# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab: a network namespace pinned by name (never the machine's own)
holding a bridge, and each host's veth pair to it, over netlink.

The lab namespace is made by the pins engine like any other. The lab
declares its links as netconfig does (the bridge; a host's veth with its
peer in the host) and netconfig's planner writes them (link_writes: the
same actions netns_config runs, pyroute2 imported only when a host has a
lab); the lab reports its own texts. Reads and deletions are its own.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import ipaddress
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import LOCK_DIR
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import netns_socket
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.rtnetlink import IFF_UP
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import CLEAR, LATE, LINKS, PEERS
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import Side, link_writes
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import NetState, read as read_state
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec as pinspec
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import ABSENT, PRESENT, inspect, location

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from pyroute2 import IPRoute
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
    from typing_extensions import TypeGuard

    from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.spec import Interface, Lab
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import Action
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import LinkInfo

# The alias of what the module made itself: lo of a lab namespace it created,
# a bridge it created. Only that goes with the last host; a network namespace
# (or bridge) the operator already had is theirs and stays.
MARK = 'nsfd.namespaces lab'
# The alias of each host's end in the lab: only a veth with it is a host's end
# (to delete, recable or count), never a bridge or link of the operator's
# that happens to have the name.
END_MARK = 'nsfd.namespaces lab end'
# One lock file per network namespace name (in LOCK_DIR), whatever the data_dir:
# hosts of several data directories share a lab, and the data_dir lock does not order them.


def pin_path(lab_name: str) -> str:
    return location(lab_name, 'net').path


def exists(lab_name: str) -> bool:
    return inspect(location(lab_name, 'net')).state == PRESENT


def host_pin(lab_name: str) -> str | None:
    """The path of another namespace pinned by the lab's name (a host pins all
    six, a lab only its network namespace), or None: such a network namespace
    is a host's, whatever its data_dir, and never a lab."""
    for nstype in ('uts', 'mnt', 'pid'):
        pin = location(lab_name, nstype)
        if inspect(pin).state != ABSENT:
            return pin.path
    return None


@contextmanager
def locked(names: Iterable[str]) -> Iterator[None]:
    """Hold flock(LOCK_EX) on the lock of each network namespace name (labs,
    and a starting host's own name, so a lab and a host cannot take one name
    at once), in sorted order so that overlapping sets cannot deadlock.

    Held from the address checks to the last link made or removed and the lab
    namespace's teardown: two runs of other data directories would otherwise
    both find an address free, or one would remove the lab the other is
    cabling to. The kernel drops a flock when its holder dies (kill -9)."""
    fds: list[int] = []
    try:
        if names:
            try:
                os.makedirs(LOCK_DIR, 0o700, exist_ok=True)
            except OSError as exc:
                raise NamespaceError.from_os_error(
                    exc,
                    'cannot create the lab lock directory',
                    path=LOCK_DIR,
                    hint=f'Remove whatever is at {LOCK_DIR}.',
                )
        for name in sorted(set(names)):
            path = os.path.join(LOCK_DIR, name + '.lock')
            try:
                fds.append(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
            except OSError as exc:
                raise NamespaceError.from_os_error(
                    exc, 'cannot open the lab lock', name=name, path=path, hint=f'Remove whatever is at {path}.'
                )
            fcntl.flock(fds[-1], fcntl.LOCK_EX)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)


def need_pyroute2(name: str) -> None:
    if not netns_socket.HAS_PYROUTE2:
        raise NamespaceError(
            'a host with a lab needs the Python library pyroute2 on the machine',
            name=name,
            hint='Install pyroute2 (pip install pyroute2), or leave lab out.',
        )
    too_old = netns_socket.pyroute2_too_old()
    if too_old:
        raise NamespaceError('a host with a lab needs a newer pyroute2', name=name, hint=too_old)


@contextmanager
def netlink(path: str, name: str) -> Iterator[IPRoute]:
    """An IPRoute socket in the network namespace pinned at path."""
    need_pyroute2(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot open the network namespace', name=name, path=path)
    try:
        ipr = netns_socket.ipr_in(fd)
    finally:
        os.close(fd)
    try:
        yield ipr
    finally:
        ipr.close()


@contextmanager
def _side(path: str, name: str, label: str) -> Iterator[Side]:
    """netconfig's Side of the network namespace pinned at path, with its
    state read (netlink() opens it alike)."""
    need_pyroute2(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot open the network namespace', name=name, path=path)
    side = Side(label, NetState(), fd=fd)
    try:
        with netns_socket.rtnl_in(fd) as sock:
            side.set_state(read_state(sock))
        yield side
    finally:
        side.close()
        os.close(fd)


def _declared(name: str, kind: str | None, **settings: Any) -> dict[str, Any]:
    """A link as netconfig.spec normalizes a declared one (up, nothing else
    set), with settings; alias is no netns_config option, the lab's own."""
    link: dict[str, Any] = dict.fromkeys(
        ('mtu', 'address', 'master', 'peer', 'parent', 'vlan_id', 'mode', 'vxlan', 'fdb', 'segment', 'alias')
    )
    link.update(name=name, kind=kind, state='up', addresses=[])
    link.update(settings)
    return link


def _run(actions: list[Action]) -> None:
    """Carry netconfig's actions out as netns_config does: phase by phase
    (a veth's far end after its links), in order within each."""
    for phase in (CLEAR, LINKS, PEERS, LATE):
        for action in actions:
            if action.phase == phase:
                action.run()


def _link(ipr: IPRoute, ifname: str) -> ifinfmsg | None:
    found = ipr.link_lookup(ifname=ifname)
    return ipr.get_links(found[0])[0] if found else None


def _kind(link: ifinfmsg) -> str:
    info = link.get_attr('IFLA_LINKINFO')
    return (info.get_attr('IFLA_INFO_KIND') if info else None) or 'device'


def _own_end(link: ifinfmsg | None) -> TypeGuard[ifinfmsg]:
    return link is not None and _kind(link) == 'veth' and link.get_attr('IFLA_IFALIAS') == END_MARK


def stable_mac(*parts: str) -> str:
    """A locally administered unicast MAC address derived from parts. A host's
    lab interface keeps it across reboots, as a machine keeps its MAC: with a
    random one per cable, every peer's neighbour entry pointed at a gone
    address until it went stale (some 40 s without traffic)."""
    digest = bytearray(hashlib.sha256('\0'.join(parts).encode('utf-8')).digest()[:6])
    digest[0] = (digest[0] & 0xFC) | 0x02
    return ':'.join(f'{b:02x}' for b in digest)


def _bridge(ipr: IPRoute, lab_name: str, bridge: str) -> ifinfmsg | None:
    """The lab's bridge, or None; a link of that name that is no bridge (a
    host's end, a dummy) is refused rather than used as one."""
    link = _link(ipr, bridge)
    if link is not None and _kind(link) != 'bridge':
        raise _not_a_bridge(lab_name, bridge, _kind(link))
    return link


def _bridge_info(state: NetState, lab_name: str, bridge: str) -> LinkInfo | None:
    """_bridge(), from the state netconfig read."""
    link = state.links.get(bridge)
    if link is not None and link['kind'] != 'bridge':
        raise _not_a_bridge(lab_name, bridge, link['kind'] or 'device')
    return link


def _not_a_bridge(lab_name: str, bridge: str, kind: str) -> NamespaceError:
    return NamespaceError(
        f'lab.bridge {bridge} in lab {lab_name} is a {kind}, not a bridge',
        name=lab_name,
        errno=errno.EEXIST,
        hint='Give the lab a bridge name no other link of the lab namespace has.',
    )


def _addresses(ipr: IPRoute, index: int) -> list[Interface]:
    return [
        ipaddress.ip_interface(f'{msg.get_attr("IFA_ADDRESS")}/{msg["prefixlen"]}') for msg in ipr.get_addr(index=index)
    ]


def bridge_addresses(lab: Lab) -> list[Interface]:
    """The lab bridge's addresses ([] when there is no lab yet)."""
    if not exists(lab.name):
        return []
    with netlink(pin_path(lab.name), lab.name) as ipr:
        bridge = _bridge(ipr, lab.name, lab.bridge)
        if bridge is None:
            return []
        return _addresses(ipr, bridge['index'])


def lab_actions(lab: Lab) -> list[str]:
    """What making the lab (namespace, bridge, gateway address) would do."""
    if not exists(lab.name):
        return [f'create lab network namespace {lab.name} with bridge {lab.bridge} ({lab.gateway})']
    with netlink(pin_path(lab.name), lab.name) as ipr:
        bridge = _bridge(ipr, lab.name, lab.bridge)
        if bridge is None:
            return [f'create bridge {lab.bridge} ({lab.gateway}) in lab {lab.name}']
        actions = []
        if lab.gateway not in _addresses(ipr, bridge['index']):
            actions.append(f'add {lab.gateway} to bridge {lab.bridge} in lab {lab.name}')
        if not bridge['flags'] & IFF_UP:
            actions.append(f'set bridge {lab.bridge} in lab {lab.name} up')
        return actions


def ensure(lab: Lab) -> list[str]:
    """Make the lab namespace, its bridge and gateway address; returns what it did."""
    actions = []
    made = not exists(lab.name)
    if made:
        engine.ensure_present(pinspec.build(name=lab.name, types='net'))
        actions.append(f'create lab network namespace {lab.name}')
    with _side(pin_path(lab.name), lab.name, f'lab {lab.name}') as side:
        bridge = _bridge_info(side.state, lab.name, lab.bridge)
        if bridge is None:
            actions.append(f'create bridge {lab.bridge} in lab {lab.name}')
        if bridge is None or lab.gateway not in side.state.addresses.get(lab.bridge, []):
            actions.append(f'add {lab.gateway} to bridge {lab.bridge}')
        if bridge is None or not bridge['up']:
            actions.append(f'set bridge {lab.bridge} up')
        # lo up, and marked when the lab namespace is the module's
        lo = _declared('lo', None, alias=MARK if made else None)
        _run(
            link_writes(lo, side, side, side.state.links['lo'])
            + link_writes(_bridge_decl(lab, bridge), side, side, bridge)
        )
    return actions


def _bridge_decl(lab: Lab, bridge: LinkInfo | None) -> dict[str, Any]:
    """The lab's bridge as netconfig declares a link: up with the gateway
    address; when the module creates it, with the module's mark and a MAC
    of its own (set, not learnt: a bridge takes the lowest address of its
    ports, so the gateway's MAC would change as hosts come and go). A
    bridge that is there keeps its MAC and alias."""
    if bridge is not None:
        return _declared(lab.bridge, 'bridge', addresses=[lab.gateway])
    return _declared(
        lab.bridge, 'bridge', addresses=[lab.gateway], address=stable_mac(lab.name, lab.bridge, 'bridge'), alias=MARK
    )


def cabled(lab: Lab, lab_end: str, host_net: str) -> bool:
    """Whether the host (its network namespace pinned at host_net) is cabled
    as declared: its end in the lab enslaved to the bridge and up, the peer
    in the host with the address and up."""
    if not exists(lab.name):
        return False
    with netlink(pin_path(lab.name), lab.name) as ipr:
        end, bridge = _link(ipr, lab_end), _link(ipr, lab.bridge)
        if (
            not _own_end(end)
            or bridge is None
            or end.get_attr('IFLA_MASTER') != bridge['index']
            or not end['flags'] & IFF_UP
        ):
            return False
        peer_index = end.get_attr('IFLA_LINK')
    with netlink(host_net, lab_end) as ipr:
        inner = _link(ipr, lab.interface)
        return (
            inner is not None
            and inner['index'] == peer_index
            and bool(inner['flags'] & IFF_UP)
            and lab.address in _addresses(ipr, inner['index'])
        )


def cable(lab: Lab, lab_end: str, host_net: str) -> None:
    """(Re)make the host's veth pair: lab_end on the bridge, lab.interface
    with lab.address in the host."""
    uncable(lab.name, lab_end)
    try:
        fd = os.open(host_net, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise NamespaceError.from_os_error(exc, 'cannot open the host\'s network namespace', path=host_net)
    host_side = Side(f'host {os.path.basename(host_net)}', NetState(), fd=fd)
    try:
        with netlink(host_net, lab_end) as ipr:
            # the host's lab interface is the module's: a veth of that name is
            # its old cable, whatever its lab end was called (lab-NAME before
            # the ends were hashed), and goes with its end
            inner = _link(ipr, lab.interface)
            if inner is not None and _kind(inner) == 'veth':
                ipr.link('del', index=inner['index'])
        with _side(pin_path(lab.name), lab.name, f'lab {lab.name}') as side:
            taken = side.state.links.get(lab_end)
            if taken is not None:
                raise NamespaceError(
                    f'link {lab_end} in lab {lab.name} is a {taken["kind"] or "device"} that is not the lab end of '
                    f'host {os.path.basename(host_net)}, and the host\'s end must have that name',
                    name=lab.name,
                    errno=errno.EEXIST,
                    hint=f'Rename or remove that link (ip -n {lab.name} link), or use another lab.',
                )
            create, *settings = link_writes(_end_decl(lab, lab_end, host_net), side, side, None, host_side)
            try:
                create.run()
            except OSError as exc:
                raise NamespaceError.from_os_error(
                    exc, f'cannot create the veth pair {lab_end} (lab) / {lab.interface} (host)', name=lab.name
                )
            _run(settings)
    finally:
        host_side.close()
        os.close(fd)


def _end_decl(lab: Lab, lab_end: str, host_net: str) -> dict[str, Any]:
    """The host's cable as netconfig declares a veth: lab_end, marked as a
    host's end, on the bridge and up; its peer lab.interface in the host's
    network namespace, up with lab.address. Both ends with MACs of their own
    (the lab end's too, so the bridge's forwarding entry stays right across
    reboots)."""
    peer = {
        'name': lab.interface,
        'netns': os.path.basename(host_net),
        'addresses': [lab.address],
        'state': 'up',
        'mtu': None,
        'master': None,
        'address': stable_mac(lab.name, lab_end, 'host'),
    }
    return _declared(
        lab_end, 'veth', address=stable_mac(lab.name, lab_end, 'lab'), alias=END_MARK, master=lab.bridge, peer=peer
    )


def uncable(lab_name: str, lab_end: str) -> bool:
    """Delete the host's lab end (its peer goes with it); True when there was
    one. A link of that name that is not a lab end stays."""
    if not exists(lab_name):
        return False
    with netlink(pin_path(lab_name), lab_name) as ipr:
        end = _link(ipr, lab_end)
        if not _own_end(end):
            return False
        try:
            ipr.link('del', index=end['index'])
        except OSError as exc:
            if exc.errno != errno.ENODEV:
                raise
    return True


def lab_of_end(lab_end: str) -> dict[str, str] | None:
    """The lab ({'name', 'bridge'}) whose bridge holds the marked lab end,
    looked for in every lab with a lock (each lab the module ever used), or
    None: what a damaged record no longer says."""
    if not netns_socket.HAS_PYROUTE2:
        return None
    try:
        names = sorted(n[: -len('.lock')] for n in os.listdir(LOCK_DIR) if n.endswith('.lock'))
    except OSError:
        return None
    for name in [n for n in names if exists(n)]:
        with netlink(pin_path(name), name) as ipr:
            end = _link(ipr, lab_end)
            master = end.get_attr('IFLA_MASTER') if _own_end(end) else None
            if master:
                return {'name': name, 'bridge': ipr.get_links(master)[0].get_attr('IFLA_IFNAME')}
    return None


def ports(lab: dict[str, Any]) -> list[str]:
    """The links enslaved to the lab bridge (other hosts' ends)."""
    with netlink(pin_path(lab['name']), lab['name']) as ipr:
        bridge = _link(ipr, lab['bridge'])
        if bridge is None:
            return []
        return [
            link.get_attr('IFLA_IFNAME') for link in ipr.get_links() if link.get_attr('IFLA_MASTER') == bridge['index']
        ]


def remove(lab: dict[str, Any], check_mode: bool = False) -> str | None:
    """Remove what the module made of the lab: the namespace when it created
    it (its bridge goes with it), else the bridge when it created that.
    Returns what it did (in check mode: would do), or None."""
    with netlink(pin_path(lab['name']), lab['name']) as ipr:
        lo, bridge = _link(ipr, 'lo'), _link(ipr, lab['bridge'])
        if lo is None or lo.get_attr('IFLA_IFALIAS') != MARK:
            if bridge is None or bridge.get_attr('IFLA_IFALIAS') != MARK:
                return None
            if not check_mode:
                ipr.link('del', index=bridge['index'])
            return (
                f'delete bridge {lab["bridge"]} from network namespace {lab["name"]} (no host is cabled to it any more)'
            )
    if not check_mode:
        engine.ensure_absent(pinspec.build(name=lab['name'], types='net'))
    return f'remove lab network namespace {lab["name"]} (no host is cabled to it any more)'
