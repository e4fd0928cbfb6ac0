# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vxlan links and their static forwarding (fdb) entries.

A vxlan device is created by the host's socket with the target namespace's
fd (IFLA_NET_NS_FD): the kernel opens the tunnel's UDP socket in the
namespace of the request and puts only the device into the target. So the
underlay (local address, underlay device) is the host's, and no device of
that name ever exists on the host.

The kernel cannot change a vxlan's VNI, port or addresses on a live device
everywhere, so a declared attribute that differs replaces the device (its
fdb entries go with it and are added again).
"""

from __future__ import annotations

import errno
import functools
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import Action, change
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import flooding

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import Side
    from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import Address, FdbEntry, LinkInfo

NUD_PERMANENT = 0x80
NTF_SELF = 0x02
# what the kernel's vxlan adds to a frame (outer IP, UDP, VXLAN and Ethernet
# headers): its largest MTU is the underlay device's minus this (without an
# underlay device it takes up to 65535)
HEADROOM = {4: 50, 6: 70}


def describe(vxlan: dict[str, Any]) -> str:
    """The creation parameters as `ip link` would show them."""
    parts = [f'id {vxlan["vni"]}']
    if vxlan['local'] is not None:
        parts.append(f'local {vxlan["local"]}')
    if vxlan['underlay_dev'] is not None:
        parts.append(f'dev {vxlan["underlay_dev"]}')
    parts.append(f'dstport {vxlan["port"]}')
    if not vxlan['learning']:
        parts.append('nolearning')
    return ' '.join(parts)


def check_underlay(link: dict[str, Any], ns: Side, host: Side, host_ends: Collection[str] = ()) -> None:
    """The underlay device is a link of the host (the namespace this module
    runs in), or a host end of a veth the call declares (host_ends): fail
    before anything is done in the namespace otherwise."""
    dev = link['vxlan']['underlay_dev']
    if dev is not None and dev not in host.state.links and dev not in host_ends:
        raise NamespaceError(
            f'vxlan {link["name"]} in {ns.label}: its underlay_dev {dev!r} is no link on the host '
            '(the network namespace netns_config runs in)',
            hint='Nothing was changed in this namespace. Name an existing host link, or omit underlay_dev.',
        )
    _check_mtu(link, ns, host)
    holder = _vni_holder(link['vxlan'], host)
    if holder is not None:
        raise NamespaceError(
            f'vxlan {link["name"]} in {ns.label}: VNI {link["vxlan"]["vni"]} on UDP port {link["vxlan"]["port"]} '
            f'is already taken on the host by its vxlan {holder}',
            hint='Nothing was changed in this namespace. Give one of them another vni or port.',
        )


def _check_mtu(link: dict[str, Any], ns: Side, host: Side) -> None:
    """A declared MTU the underlay cannot carry: the kernel refuses it with
    EINVAL, but only once the device exists."""
    vxlan, mtu = link['vxlan'], link['mtu']
    dev = vxlan['underlay_dev']
    carried = host.state.links.get(dev, {}).get('mtu') if dev is not None else None
    if mtu is None or carried is None or ns.state.links.get(link['name'], {}).get('mtu') == mtu:
        # no MTU declared or to set, no underlay device, or the underlay is a veth end this call creates
        return
    family = _family(vxlan['local'])
    largest = carried - HEADROOM[family]
    if mtu > largest:
        raise NamespaceError(
            f'vxlan {link["name"]} in {ns.label}: mtu {mtu} is more than its underlay {dev} carries: at most {largest} '
            f'({carried} - {HEADROOM[family]} bytes of IPv{family} encapsulation)',
            hint=f'Nothing was changed in this namespace. Declare an mtu of at most {largest}, omit it (the '
            'kernel derives it), or raise the underlay MTU.',
        )


def _family(local: Address | None) -> int:
    return local.version if local is not None else 4


def _vni_holder(vxlan: dict[str, Any], host: Side) -> str | None:
    """The host's own vxlan link that holds the VNI on the same port and
    family (the kernel refuses a second one with EEXIST), or None."""
    for name, have in sorted(host.state.links.items()):
        other = have.get('vxlan')
        if (
            other
            and other['vni'] == vxlan['vni']
            and other['port'] == vxlan['port']
            and _family(other['local']) == _family(vxlan['local'])
        ):
            return name
    return None


def differences(link: dict[str, Any], current: LinkInfo, host: Side) -> list[str]:
    """What of the declared vxlan the existing device does not have, as
    short texts (empty: it is the declared one). Only what is declared is
    compared: an omitted local or underlay_dev takes any."""
    want, have = link['vxlan'], current.get('vxlan') or {}
    found = []
    if current.get('link_netnsid') is None:
        found.append('its UDP socket is in the namespace itself, not on the host')
    for key, label in (('vni', 'id'), ('port', 'dstport')):
        if have.get(key) != want[key]:
            found.append(f'{label} {have.get(key)}, not {want[key]}')
    if have.get('learning') is not None and have['learning'] != want['learning']:
        found.append(f'learning {("on" if have["learning"] else "off")}, not {("on" if want["learning"] else "off")}')
    if want['local'] is not None and have.get('local') != want['local']:
        found.append(f'local {(have.get("local") or "none")}, not {want["local"]}')
    if want['underlay_dev'] is not None:
        underlay = host.state.links.get(want['underlay_dev'], {}).get('index')
        if have.get('underlay') != underlay:
            found.append(f'another underlay device than {want["underlay_dev"]}')
    return found


def create(link: dict[str, Any], ns: Side, host: Side) -> Action:
    """The action creating the device: a request over the host's socket,
    carrying the target namespace's fd."""
    vxlan, name = link['vxlan'], link['name']
    text = f'create vxlan {name} ({describe(vxlan)}) in {ns.label}, its tunnel on the host'

    def run() -> None:
        extra: dict[str, Any] = {
            'vxlan_id': vxlan['vni'],
            'vxlan_port': vxlan['port'],
            'vxlan_learning': int(vxlan['learning']),
        }
        if vxlan['local'] is not None:
            extra['vxlan_local6' if vxlan['local'].version == 6 else 'vxlan_local'] = str(vxlan['local'])
        if vxlan['underlay_dev'] is not None:
            extra['vxlan_link'] = host.index(vxlan['underlay_dev'])
        try:
            host.ipr.link('add', ifname=name, kind='vxlan', net_ns_fd=ns.fd, **extra)
        except Exception as exc:  # noqa: B902 - pyroute2's NetlinkError, not imported here
            if getattr(exc, 'code', None) != errno.EEXIST:
                raise
            # the name is free in the namespace (planned as missing): the VNI is what is taken, by a vxlan the
            # host cannot list, in another namespace whose tunnel socket is on the host
            raise NamespaceError(
                f'vxlan {name} in {ns.label}: VNI {vxlan["vni"]} on UDP port {vxlan["port"]} is already taken on the '
                'host, by a vxlan in another network namespace whose tunnel is on the host',
                errno=errno.EEXIST,
                hint='Give one of them another vni or port (ip -d link show type vxlan, in each '
                'namespace, lists them).',
            )

    return Action(text, run, change=change('link', name, None, {'kind': 'vxlan', 'vni': vxlan['vni']}))


def replace(link: dict[str, Any], ns: Side, host: Side, found: list[str]) -> Action:
    """Delete the device so that it is created again as declared."""
    name = link['name']
    text = f'delete vxlan {name} in {ns.label} to create it as declared ({"; ".join(found)})'

    def run() -> None:
        ns.ipr.link('del', index=ns.index(name))
        ns.forget(name)

    return Action(
        text,
        run,
        change=change('link', name, {'kind': 'vxlan', 'differs': '; '.join(found)}, None),
    )


def fdb_actions(ns: Side, link: dict[str, Any], have: list[FdbEntry]) -> list[Action]:
    """Add the declared entries that are missing and delete the static ones
    no longer declared (a declared fdb list is the whole list: a host that
    leaves a segment disappears from the others' entries). A unicast MAC
    pointing elsewhere is replaced in place."""
    name, wanted = link['name'], link['fdb']
    actions = []
    for entry in wanted:
        if entry in have:
            continue
        moved = [e for e in have if e['mac'] == entry['mac'] and not flooding(entry['mac'])]
        if moved:
            text = (
                f'change fdb entry {entry["mac"]} on {name} in {ns.label}: dst {entry["dst"]}, not {_where(moved[0])}'
            )
            actions.append(
                Action(
                    text,
                    functools.partial(_fdb, ns, 'replace', name, entry),
                    change=change('fdb', name, _entry(moved[0]), _entry(entry)),
                )
            )
        else:
            text = f'add fdb entry {entry["mac"]} dst {entry["dst"]} to {name} in {ns.label}'
            command = 'append' if flooding(entry['mac']) else 'replace'
            actions.append(
                Action(
                    text,
                    functools.partial(_fdb, ns, command, name, entry),
                    change=change('fdb', name, None, _entry(entry)),
                )
            )
    for entry in have:
        if entry in wanted or any(e['mac'] == entry['mac'] and not flooding(e['mac']) for e in wanted):
            continue
        text = f'delete fdb entry {entry["mac"]} dst {_where(entry)} from {name} in {ns.label} (not declared)'
        actions.append(
            Action(
                text, functools.partial(_fdb, ns, 'del', name, entry), change=change('fdb', name, _entry(entry), None)
            )
        )
    return actions


def _entry(entry: FdbEntry) -> dict[str, Any]:
    """An fdb entry as the before or after of a change."""
    data = {'mac': entry['mac'], 'dst': str(entry['dst'])}
    data.update((key, entry[key]) for key in ('port', 'vni') if key in entry)
    return data


def _where(entry: FdbEntry) -> str:
    """An entry's destination as `bridge fdb` shows it: with the port and
    VNI of one made by hand to differ from the device's."""
    return ' '.join([str(entry['dst'])] + [f'{key} {entry[key]}' for key in ('port', 'vni') if key in entry])


def _fdb(ns: Side, command: str, name: str, entry: FdbEntry) -> None:
    """A static entry of the vxlan device itself (NTF_SELF, permanent):
    append adds one more destination to an all-zeros or multicast MAC,
    replace sets the one destination of a unicast MAC. A port or VNI (of an
    entry being deleted) must be sent for the kernel to find that one."""
    extra = dict((key, entry[key]) for key in ('port', 'vni') if key in entry)
    ns.ipr.fdb(
        command,
        ifindex=ns.index(name),
        lladdr=entry['mac'],
        dst=str(entry['dst']),
        state=NUD_PERMANENT,
        flags=NTF_SELF,
        **extra,
    )
