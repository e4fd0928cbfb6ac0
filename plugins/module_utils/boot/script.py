# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""namespaces.sh: the POSIX sh script that builds the declared network
namespaces with iproute2 alone, at boot and at every later run.

It converges instead of replaying: a unit restart, or a boot where some of
the namespaces or links exist already, keeps what is there and builds the
rest. So each item that iproute2 cannot add twice (a namespace, its nsid, a
link) is added only when missing, a pin file with no namespace mounted on it
(stale, left by a crash) is replaced, and everything else is idempotent by
itself (`addr replace`, `route replace`, `link set`, `sysctl -w`). Each item
is attempted even when an earlier one failed (`ip -force -batch` within a
namespace), and the exit status is 0 only when all of them succeeded.
A link that holds something on the host (a vxlan's VNI, a veth's host end)
is retried for a few seconds while that is still taken: a namespace deleted
just before the script runs is freed by the kernel only a moment later.
Once all is built, every link end declared up is checked to be up (after
udev has settled, where it runs), set up again with a line in the log if
something took it down meanwhile, and the script fails naming it if it
stays down: the unit never reports success with a tenant offline.

iproute2 batch lines split on blanks and treat `#` as a comment, and the
script is parsed by sh, so every name that goes into it must be plain:
checked before anything is written.
"""

from __future__ import annotations

import re
from shlex import quote
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.options import BOOT_PATH, bridge_next_to
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.rtnetlink import MAIN_TABLE
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import flooding
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.vxlan import describe

if TYPE_CHECKING:
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.options import BootOptions

PLAIN = re.compile(r'^[A-Za-z0-9_.@+-]+\Z')
HEADER = '# Managed by nsfd.namespaces (netns_persist): changes here are overwritten.'
PIN_DIR = '/run/netns'  # where `ip netns` pins, fixed in iproute2

# Functions the items below call. `pinned` reads /proc/self/mountinfo, so it
# tells a live pin (an nsfs mount) from a stale file without another tool.
PRELUDE = r'''rc=0
fail() { echo "nsfd-netns: $*" >&2; rc=1; }

# pinned NAME: a network namespace is mounted on $pins/NAME
pinned() {
    while IFS= read -r line; do
        case $line in *" $pins/$1 "*" - nsfs "*) return 0 ;; esac
    done </proc/self/mountinfo
    return 1
}

# netns NAME: the namespace exists afterwards; a stale pin is replaced
netns() {
    if [ -e "$pins/$1" ] || [ -L "$pins/$1" ]; then
        pinned "$1" && return 0
        echo "nsfd-netns: $pins/$1 is a stale pin (no namespace is mounted on it): replacing it" >&2
        "$ip" netns delete "$1" || return 1
    fi
    "$ip" netns add "$1"
}

# nsid NAME ID: the namespace has that id (the kernel sets one only once)
nsid() {
    # `ip netns list` says "NAME (id: ID)", or just NAME while it has none
    current=$("$ip" netns list | while read -r name id; do [ "$name" = "$1" ] && echo "$id"; done)
    current=${current#"(id: "}
    current=${current%")"}
    case $current in
        "$2") return 0 ;;
        "") "$ip" netns set "$1" "$2" ;;
        *) echo "nsfd-netns: namespace $1 has nsid $current, not $2: the kernel cannot change it;" \
                "delete the namespace (ip netns delete $1) and run this again to renumber it" >&2
           return 1 ;;
    esac
}

# has NETNS DEV: NETNS has a link DEV; host_has DEV: this namespace has
has() { "$ip" -n "$1" link show dev "$2" >/dev/null 2>&1; }
host_has() { "$ip" link show dev "$1" >/dev/null 2>&1; }

# settle CMD...: run CMD (adding a link that holds something on this host);
# while it fails because a name or VNI it needs is still taken, try again for
# up to 5 s. A namespace deleted a moment ago (the unit run right after a
# teardown) keeps its vxlan's VNI and its veths' host ends until the kernel
# has cleaned it up, which it does later, once nothing holds it any more.
settle() {
    tries=0
    while ! err=$(LC_ALL=C "$@" 2>&1); do
        case $err in
            *"exists"*|*"busy"*) tries=$((tries + 1)) ;;
            *) tries=$settle_tries ;;
        esac
        if [ "$tries" -ge "$settle_tries" ]; then
            printf '%s\n' "$err" >&2
            return 1
        fi
        sleep 0.25
    done
}
settle_tries=20

# up NETNS DEV: DEV is administratively up in NETNS (- for this namespace)
# once everything is built, else it is set up again and the log says so. A
# link set up by the batches can be taken down afterwards by what else runs
# at boot (udev applying a .link file to a new veth end, among others): one
# boot in five left a tenant's eth0 down with the unit reporting success.
up() {
    if [ "$1" = - ]; then where="this host" in=""; else where="namespace $1" in="-n $1"; fi
    tries=0
    while [ "$tries" -lt 10 ]; do
        # shellcheck disable=SC2086
        case $("$ip" $in -o link show dev "$2" 2>/dev/null) in
            *"<UP,"*|*",UP,"*|*",UP>"*|*"<UP>"*) return 0 ;;
            "") return 1 ;;
        esac
        echo "nsfd-netns: link $2 ($where) is down after it was set up: setting it up again" >&2
        # shellcheck disable=SC2086
        "$ip" $in link set dev "$2" up
        tries=$((tries + 1))
        sleep 0.2
    done
    return 1
}'''


def check_plain(decls: list[dict[str, Any]]) -> None:
    """Every namespace and interface name that goes into the boot files."""
    for index, decl in enumerate(decls):
        where = f'namespaces[{index}]'
        names = [(where + '.name', decl['name'])]
        for i, link in enumerate(decl['links']):
            at = f'{where}.links[{i}]'
            names += [(at + '.name', link['name']), (at + '.parent', link['parent']), (at + '.master', link['master'])]
            if link['vxlan']:
                names.append((at + '.underlay_dev', link['vxlan']['underlay_dev']))
            if link['peer']:
                names += [(at + '.peer.name', link['peer']['name']), (at + '.peer.master', link['peer']['master'])]
        for i, route in enumerate(decl['routes']):
            names.append((f'{where}.routes[{i}].dev', route['dev']))
        for path, value in names:
            # a leading - would be read as an option by ip
            if value is not None and (not PLAIN.match(value) or value.startswith('-')):
                raise NamespaceError(
                    f'{path}: {value!r} cannot go into the boot files (iproute2 batch, sh, systemd): only letters, '
                    'digits and _.@+-, not starting with -, are allowed',
                    name=decl['name'],
                    hint='Rename it, or do not persist (netns_persist: false). Nothing was changed.',
                )


def _end_lines(end: dict[str, Any], is_link: bool) -> list[str]:
    """Settings of one link end, already in the namespace being filled; each
    line can run again without error or change."""
    name = end['name']
    lines: list[str] = []
    if end['mtu'] is not None:
        lines.append(f'link set dev {name} mtu {end["mtu"]}')
    if is_link and end['address'] is not None:
        lines.append(f'link set dev {name} address {end["address"]}')
    if end['master'] is not None:
        lines.append(f'link set dev {name} master {end["master"]}')
    lines += [f'addr replace {address} dev {name}' for address in end['addresses']]
    lines.append(f'link set dev {name} {end["state"]}')
    return lines


def _route_line(route: dict[str, Any]) -> str:
    parts = ['route replace', str(route['dst'])]
    if route['via'] is not None:
        parts.append(f'via {route["via"]}')
    if route['dev'] is not None:
        parts.append(f'dev {route["dev"]}')
    if route['src'] is not None:
        parts.append(f'src {route["src"]}')
    if route['metric'] is not None:
        parts.append(f'metric {route["metric"]}')
    if route['table'] != MAIN_TABLE:
        parts.append(f'table {route["table"]}')
    parts.append('proto static')
    return ' '.join(parts)


def _batch(target: str, lines: list[str], what: str) -> list[str]:
    """Run lines with one `ip -force -batch`: every line is attempted."""
    if not lines:
        return []
    return (
        [f'"$ip"{target} -force -batch - <<\'NSFD_NETNS_BATCH\' || fail {quote(what + " (see above)")}']
        + lines
        + ['NSFD_NETNS_BATCH']
    )


def _cross_links(decl: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The links that cross into decl's namespace, each added when missing,
    and the settings of their host ends."""
    ns = decl['name']
    items: list[str] = []
    host_settings: list[str] = []
    for link in decl['links']:
        kind, peer, name = link['kind'], link['peer'], link['name']
        what = quote(f'namespace {ns}: cannot add {kind} link {name}')
        if kind == 'veth' and peer['netns']:
            items.append(
                f'has {ns} {name} && has {peer["netns"]} {peer["name"]} '
                f'|| settle "$ip" link add name {name} netns {ns} '
                f'type veth peer name {peer["name"]} netns {peer["netns"]} '
                f'|| fail {what}'
            )
        elif kind == 'veth':
            items.append(
                f'has {ns} {name} && host_has {peer["name"]} '
                f'|| settle "$ip" link add name {peer["name"]} type veth peer name {name} netns {ns} '
                f'|| fail {what}'
            )
            host_settings += _end_lines(peer, is_link=False)
        elif kind == 'vlan':
            items.append(
                f'has {ns} {name} '
                f'|| settle "$ip" link add link {link["parent"]} name {name} netns {ns} type vlan id {link["vlan_id"]} '
                f'|| fail {what}'
            )
        elif kind in ('macvlan', 'ipvlan'):
            items.append(
                f'has {ns} {name} '
                f'|| settle "$ip" link add link {link["parent"]} name {name} netns {ns} '
                f'type {kind} mode {link["mode"]} '
                f'|| fail {what}'
            )
        elif kind == 'vxlan':
            # created from here, so that the tunnel's UDP socket is on the host
            items.append(
                f'has {ns} {name} '
                f'|| settle "$ip" link add name {name} netns {ns} type vxlan {describe(link["vxlan"])} '
                f'|| fail {what}'
            )
        elif kind == 'physical':
            # moved in and renamed on an earlier run, or moved in only
            parent = link['parent']
            failed = quote(f'namespace {ns}: cannot move link {parent} in')
            items.append(
                f'has {ns} {name} || has {ns} {parent} || "$ip" link set dev {parent} netns {ns} || fail {failed}'
            )
    return items, host_settings


def _fill(decl: dict[str, Any], peers_here: list[dict[str, Any]]) -> list[str]:
    """Links made inside one namespace, then its settings in one batch, then
    its sysctls. peers_here are the veth ends other namespaces' links put in
    this one."""
    ns = decl['name']
    lines: list[str] = []
    for link in decl['links']:
        if link['kind'] == 'physical':
            parent, name = link['parent'], link['name']
            failed = quote(f'namespace {ns}: cannot rename {parent} to {name}')
            lines.append(f'has {ns} {name} || "$ip" -n {ns} link set dev {parent} name {name} || fail {failed}')
        elif link['kind'] in ('bridge', 'dummy'):
            kind, name = link['kind'], link['name']
            failed = quote(f'namespace {ns}: cannot add {kind} {name}')
            lines.append(f'has {ns} {name} || "$ip" -n {ns} link add name {name} type {kind} || fail {failed}')
    settings = ['link set lo up'] if decl['loopback'] else []
    # bridges first, so that their ports can be attached
    for link in sorted(decl['links'], key=lambda lk: lk['kind'] != 'bridge'):
        settings += _end_lines(link, is_link=True)
    for peer in peers_here:
        settings += _end_lines(peer, is_link=False)
    settings += [_route_line(route) for route in decl['routes']]
    lines += _batch(f' -n {ns}', settings, f'namespace {ns}: some settings failed')
    lines += _fdb_lines(decl)
    for path, value in sorted(decl['sysctls'].items()):
        # sysctl(8) takes the /-separated form, so keys of links with dots work
        setting = f'{path[len("/proc/sys/") :]}={value}'
        failed = quote(f'namespace {ns}: cannot set {setting}')
        lines.append(f'"$ip" netns exec {ns} "$sysctl" -q -w {quote(setting)} || fail {failed}')
    return lines


def _fdb_lines(decl: dict[str, Any]) -> list[str]:
    """The static fdb entries of decl's vxlan links: `append` adds one more
    destination of an all-zeros (or multicast) MAC and `replace` sets the
    one of a unicast MAC; both succeed when the entry is there already."""
    ns = decl['name']
    lines: list[str] = []
    for link in decl['links']:
        for entry in link['fdb'] or ():
            command = 'append' if flooding(entry['mac']) else 'replace'
            mac, dev, dst = entry['mac'], link['name'], entry['dst']
            failed = quote(f'namespace {ns}: cannot add fdb entry {mac} dst {dst} to {dev}')
            lines.append(f'"$bridge" -n {ns} fdb {command} {mac} dev {dev} dst {dst} self permanent || fail {failed}')
    return lines


def needs(decls: list[dict[str, Any]]) -> tuple[bool, bool]:
    """(sysctl, bridge): whether the script for decls runs sysctl, bridge."""
    return (any(decl['sysctls'] for decl in decls), any(link['fdb'] for decl in decls for link in decl['links']))


def _program_lines(options: BootOptions, bridge: bool) -> list[str]:
    """The script's PATH and its ip, sysctl (and bridge) variables: a
    configured path, or the program as sh finds it in BOOT_PATH (left as the
    bare name when missing, so that each use fails and says so)."""
    lines = [f'PATH={BOOT_PATH}', 'export PATH', 'tool() { command -v "$1" || echo "$1"; }']
    for var, configured in (('ip', options.ip_command), ('sysctl', options.sysctl_command)):
        value = quote(configured) if configured else f'$(tool {var})'
        lines.append(f'{var}={value}')
    if bridge:
        if options.ip_command:
            lines.append(f'bridge={quote(bridge_next_to(options.ip_command))}')
            lines.append('[ -x "$bridge" ] || bridge=$(tool bridge)')
        else:
            lines.append('bridge=$(tool bridge)')
    return lines


def _verify_lines(decls: list[dict[str, Any]], peers_in: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One `up` check per link end declared up, host ends of veths included."""
    lines: list[str] = []
    for decl in decls:
        ns = decl['name']
        ends = [(ns, link) for link in decl['links']] + [(ns, peer) for peer in peers_in.get(ns, [])]
        ends += [
            ('-', link['peer'])
            for link in decl['links']
            if link['kind'] == 'veth' and link['peer'] and not link['peer']['netns']
        ]
        for where, end in ends:
            if end['state'] == 'up':
                name = end['name']
                place = 'this host' if where == '-' else f'namespace {ns}'
                failed = quote(f'link {name} ({place}) is declared up and stays down')
                lines.append(f'up {where} {name} || fail {failed}')
    return lines


def render(decls: list[dict[str, Any]], options: BootOptions) -> str:
    """The script for the present namespaces in decls (check_plain'ed)."""
    peers_in: dict[str, list[dict[str, Any]]] = {}
    for decl in decls:
        for link in decl['links']:
            if link['peer'] and link['peer']['netns']:
                peers_in.setdefault(link['peer']['netns'], []).append(link['peer'])
    out = [
        '#!/bin/sh',
        HEADER,
        '# Builds the network namespaces declared for this host with iproute2: at boot,',
        f'# and again at any time (a restart of {options.unit_name}). What exists is kept,',
        '# a stale pin is replaced, what is missing is built; every item is attempted',
        '# even when an earlier one fails, and the exit status is 0 only when all succeeded.',
    ]
    out += _program_lines(options, needs(decls)[1])
    out += [f'pins={PIN_DIR}', PRELUDE, '', '# the namespaces, and their ids']
    for decl in decls:
        name, nsid = decl['name'], decl['nsid']
        failed = quote(f'cannot create namespace {name}')
        out.append(f'netns {name} || fail {failed}')
        if nsid is not None:
            failed = quote(f'namespace {name}: cannot set nsid {nsid}')
            out.append(f'nsid {name} {int(nsid)} || fail {failed}')  # int(): as %d printed it
    host_settings: list[str] = []
    out += ['', '# the links that cross into them, and their ends on this host']
    for decl in decls:
        items, settings = _cross_links(decl)
        out += items
        host_settings += settings
    out += _batch('', host_settings, 'host ends of veth links: some settings failed')
    for decl in decls:
        out += ['', f'# namespace {decl["name"]}'] + _fill(decl, peers_in.get(decl['name'], []))
    out += [
        '',
        '# what is declared up is up, once all is built (udev may have run meanwhile)',
        'command -v udevadm >/dev/null 2>&1 && udevadm settle --timeout=5 2>/dev/null',
    ]
    out += _verify_lines(decls, peers_in)
    out += ['', 'exit $rc']
    return '\n'.join(out) + '\n'
