# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of netns_config's whole input, before anything is touched.

Every error names the item's path (namespaces[3].links[0].peer.name).
The result is normalised: addresses as ipaddress interfaces, MACs in lower
case, routes with their family, sysctl keys as /proc/sys paths.
"""

from __future__ import annotations

import ipaddress
import json
import numbers
import os
import re
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import ifname as ifnames
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem, unprintable

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from typing import Any, NoReturn, TypeVar, Union

    Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
    Interface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
    Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
    T = TypeVar('T')

LOCAL_TABLE = 255  # the kernel fills it with local and broadcast routes itself
KINDS = ('veth', 'dummy', 'bridge', 'vlan', 'macvlan', 'ipvlan', 'physical', 'vxlan')
NEEDS_PARENT = ('vlan', 'macvlan', 'ipvlan', 'physical')
MACVLAN_MODES = ('private', 'vepa', 'bridge', 'passthru', 'source')
IPVLAN_MODES = ('l2', 'l3', 'l3s')
MAC = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z')  # \Z: '$' would take a trailing newline
# Addresses as text of digits, dots and colons only: ipaddress also takes an
# IPv6 scope id ('fe80::1%eth0', any text after '%', newlines included) and
# integers, neither of which a link address, a route or the boot script can hold.
ADDRESS_TEXT = re.compile(r'^[0-9A-Fa-f.:]+(/[0-9.]{1,15})?\Z')  # a prefix length or an IPv4 netmask
SYSCTL_KEY = re.compile(r'^[A-Za-z0-9_.:/@-]+\Z')
LINK_KEYS = {
    'name',
    'kind',
    'state',
    'mtu',
    'address',
    'master',
    'addresses',
    'peer',
    'parent',
    'vlan_id',
    'mode',
    'vni',
    'local',
    'underlay_dev',
    'port',
    'learning',
    'fdb',
    'segment',
}
VXLAN_KEYS = ('vni', 'local', 'underlay_dev', 'port', 'learning', 'fdb')
VXLAN_PORT = 4789  # IANA's; the kernel's own default (8472) predates it, so the port is always sent
FDB_KEYS = {'mac', 'dst'}
PEER_KEYS = {'name', 'netns', 'addresses', 'state', 'mtu', 'master'}
ROUTE_KEYS = {'dst', 'via', 'dev', 'metric', 'table', 'src'}
NS_KEYS = {'name', 'state', 'nsid', 'loopback', 'links', 'routes', 'sysctls', 'files', 'services'}
SERVICE_KEYS = {'name', 'restart', 'writable_etc', 'bind_etc'}
SERVICE_DEFAULTS = {'restart': False, 'writable_etc': False, 'bind_etc': True}


def fail(path: str, message: str) -> NoReturn:
    raise NamespaceError(f'{path}: {message}', hint='Nothing was changed.')


def _dict(value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(path, f'must be a dict, not {type(value).__name__}')
    unknown = sorted(set(value) - allowed)
    if unknown:
        fail(path, f'unknown key(s) {", ".join(unknown)}; known: {", ".join(sorted(allowed))}')
    return value


def _mapping(value: Any, path: str) -> dict[Any, Any]:
    """A dict of user-chosen keys (sysctls, files); None is empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        fail(path, f'must be a dict, not {type(value).__name__}')
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        fail(path, 'must be a list')
    return value


def ifname(value: Any, path: str) -> str:
    why = ifnames.problem(value)
    if why:
        fail(path, why)
    return value


def _state(value: Any, path: str) -> str:
    if value is None:
        return 'up'
    if value not in ('up', 'down'):
        fail(path, f"must be 'up' or 'down', not {value!r}")
    return value


def _int(value: Any, path: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    # int() would truncate 1500.7 and accept True: only whole numbers, as
    # numbers or decimal strings (templating yields strings)
    if (
        isinstance(value, bool)
        or not isinstance(value, (numbers.Integral, float, str))
        or isinstance(value, float)
        and not value.is_integer()
    ):
        fail(path, f'must be a whole number, not {value!r}')
    try:
        number = int(value)
    except (TypeError, ValueError):
        fail(path, f'must be a whole number, not {value!r}')
    if not low <= number <= high:
        fail(path, f'must be between {low} and {high}, not {number}')
    return number


def _mac(value: Any, path: str) -> str | None:
    if value is None:
        return None
    text = str(value).lower()
    if not MAC.match(text):
        fail(path, f'must be a MAC address like 02:00:00:00:00:01, not {value!r}')
    # the kernel refuses both (EADDRNOTAVAIL): a link needs a unicast address
    if int(text[:2], 16) & 1 or text == '00:00:00:00:00:00':
        fail(path, f'must be a unicast MAC address (first octet even, not all zero), not {value!r}')
    return text


def _ip(parse: Callable[[str], T], value: Any, path: str, example: str) -> T:
    """parse(value) for an address written as plain text, or fail naming path and value."""
    if not isinstance(value, str) or not ADDRESS_TEXT.match(value):
        fail(path, f'must be an address such as {example} (digits, dots and colons; no scope id), not {value!r}')
    try:
        return parse(value)
    except ValueError as exc:
        fail(path, f'{exc} ({value!r})')


def _addresses(values: Any, path: str) -> list[Interface]:
    result: list[Interface] = []
    for index, value in enumerate(_list(values, path)):
        where = f'{path}[{index}]'
        if not isinstance(value, str) or '/' not in value:
            fail(where, f'must be an address with a prefix length (CIDR), such as 10.0.0.1/24, not {value!r}')
        address = _ip(ipaddress.ip_interface, value, where, '10.0.0.1/24')
        if address in result:
            fail(where, f'{address} is listed twice')
        if address.version == 6 and any(a.ip == address.ip for a in result):
            fail(where, f'{value!r}: the kernel holds an IPv6 address once per link, whatever its prefix length')
        result.append(address)
    return result


def _peer(value: Any, path: str, namespace_names: Collection[str]) -> dict[str, Any]:
    _dict(value, path, PEER_KEYS)
    if 'name' not in value:
        fail(path + '.name', 'is required')
    netns = value.get('netns')
    if netns is not None and netns not in namespace_names:
        fail(path + '.netns', f'names {netns!r}, which is not a namespace of this call (omit it for the host)')
    if value['name'] == 'lo':
        fail(path + '.name', f"{value['name']!r}: every network namespace has its own lo already")
    return {
        'name': ifname(value['name'], path + '.name'),
        'netns': netns,
        'addresses': _addresses(value.get('addresses'), path + '.addresses'),
        'state': _state(value.get('state'), path + '.state'),
        'mtu': _int(value.get('mtu'), path + '.mtu', 68, 65535),
        'master': ifname(value['master'], path + '.master') if value.get('master') is not None else None,
    }


def _link(value: Any, path: str, namespace_names: Collection[str]) -> dict[str, Any]:
    _dict(value, path, LINK_KEYS)
    for key in ('name', 'kind'):
        if key not in value:
            fail(f'{path}.{key}', 'is required')
    kind = value['kind']
    if kind not in KINDS:
        fail(path + '.kind', f'must be one of {", ".join(KINDS)}, not {kind!r}')
    link: dict[str, Any] = {
        'name': ifname(value['name'], path + '.name'),
        'kind': kind,
        'state': _state(value.get('state'), path + '.state'),
        'mtu': _int(value.get('mtu'), path + '.mtu', 68, 65535),
        'address': _mac(value.get('address'), path + '.address'),
        'master': ifname(value['master'], path + '.master') if value.get('master') is not None else None,
        'addresses': _addresses(value.get('addresses'), path + '.addresses'),
        'peer': None,
        'parent': None,
        'vlan_id': None,
        'mode': None,
        'vxlan': None,
        'fdb': None,
        'segment': _segment(value.get('segment'), path + '.segment'),
    }
    if kind == 'vxlan':
        link['vxlan'], link['fdb'] = _vxlan(value, path)
    else:
        for key in VXLAN_KEYS:
            if value.get(key) is not None:
                fail(f'{path}.{key}', 'only applies to vxlan links')
    if kind == 'veth':
        if value.get('peer') is None:
            fail(path + '.peer', 'is required for a veth link')
        link['peer'] = _peer(value['peer'], path + '.peer', namespace_names)
    elif value.get('peer') is not None:
        fail(path + '.peer', 'only applies to veth links')
    if kind in NEEDS_PARENT:
        if value.get('parent') is None:
            fail(path + '.parent', f'is required for a {kind} link (the host link it sits on)')
        link['parent'] = ifname(value['parent'], path + '.parent')
    elif value.get('parent') is not None:
        fail(path + '.parent', f'only applies to {", ".join(NEEDS_PARENT)} links')
    if kind == 'vlan':
        if value.get('vlan_id') is None:
            fail(path + '.vlan_id', 'is required for a vlan link')
        link['vlan_id'] = _int(value['vlan_id'], path + '.vlan_id', 1, 4094)
    elif value.get('vlan_id') is not None:
        fail(path + '.vlan_id', 'only applies to vlan links')
    if kind in ('macvlan', 'ipvlan'):
        modes = MACVLAN_MODES if kind == 'macvlan' else IPVLAN_MODES
        mode = value.get('mode') or ('bridge' if kind == 'macvlan' else 'l2')
        if mode not in modes:
            fail(path + '.mode', f'must be one of {", ".join(modes)}, not {mode!r}')
        link['mode'] = mode
    elif value.get('mode') is not None:
        fail(path + '.mode', 'only applies to macvlan and ipvlan links')
    return link


def _segment(value: Any, path: str) -> str | None:
    """The fleet segment a link is made for (the netns_segments filter sets
    it), or None: with a record, such a link is recorded and removed once no
    longer declared for that segment. It must be a name like the segment's."""
    if value is None:
        return None
    problem = name_problem(value)
    if problem:
        fail(path, f'{value!r} {problem}')
    return value


def _vxlan(value: dict[str, Any], path: str) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """({vni, local, underlay_dev, port, learning}, fdb entries or None when
    the key is not declared) of a vxlan link."""
    if value.get('vni') is None:
        fail(path + '.vni', 'is required for a vxlan link (the VXLAN network identifier, 1 to 16777215)')
    local = value.get('local')
    local = _ip(ipaddress.ip_address, local, path + '.local', '10.77.0.1') if local is not None else None
    if local is not None and (local.is_unspecified or local.is_multicast):
        # the kernel stores 0.0.0.0 as no local address (a rerun would see a change) and refuses multicast
        fail(path + '.local', f'must be a unicast address of this host, not {value["local"]!r}')
    learning = value.get('learning', True)
    if learning is None:
        learning = True
    if not isinstance(learning, bool):
        fail(path + '.learning', f'must be a boolean, not {learning!r}')
    port = value.get('port')
    config = {
        'vni': _int(value['vni'], path + '.vni', 1, 16777215),
        'local': local,
        'underlay_dev': ifname(value['underlay_dev'], path + '.underlay_dev')
        if value.get('underlay_dev') is not None
        else None,
        'port': VXLAN_PORT if port is None else _int(port, path + '.port', 1, 65535),
        'learning': learning,
    }
    if 'fdb' not in value or value['fdb'] is None:
        return config, None
    return config, _fdb(value['fdb'], path + '.fdb', local.version if local is not None else None)


def _fdb(values: Any, path: str, family: int | None) -> list[dict[str, Any]]:
    """Static forwarding entries: a unicast MAC has one destination (the
    kernel replaces it); the all-zeros or a multicast MAC may have several
    (the kernel appends them: head-end replication)."""
    entries: list[dict[str, Any]] = []
    for index, value in enumerate(_list(values, path)):
        where = f'{path}[{index}]'
        _dict(value, where, FDB_KEYS)
        for key in ('mac', 'dst'):
            if value.get(key) is None:
                fail(f'{where}.{key}', 'is required')
        mac = str(value['mac']).lower() if isinstance(value['mac'], str) else None
        if mac is None or not MAC.match(mac):
            fail(
                where + '.mac',
                f'must be a MAC address like 02:00:00:00:00:01 (00:00:00:00:00:00 floods to dst), not {value["mac"]!r}',
            )
        dst = _ip(ipaddress.ip_address, value['dst'], where + '.dst', '10.77.0.2')
        if dst.is_unspecified:
            fail(where + '.dst', f'must be the address of a remote tunnel end, not {value["dst"]!r}')
        if dst.version != (family or 4):
            fail(
                where + '.dst',
                f'{value["dst"]!r} is IPv{dst.version}, but the tunnel is IPv{family or 4} '
                f'({"its local address" if family else "no local address"}); an IPv6 underlay needs an IPv6 local',
            )
        entry = {'mac': mac, 'dst': dst}
        for i, other in enumerate(entries):
            if other == entry or other['mac'] == mac and not flooding(mac):
                why = '' if other == entry else f' with dst {other["dst"]}: a unicast MAC has one destination'
                fail(where, f'{mac} is already listed as {path}[{i}]{why}')
        entries.append(entry)
    return entries


def flooding(mac: str) -> bool:
    """Whether an fdb MAC takes several destinations: all zeros (the
    default entry, head-end replication) or a multicast MAC."""
    return mac == '00:00:00:00:00:00' or int(mac[:2], 16) & 1 == 1


def _route(value: Any, path: str, link_names: Collection[str]) -> dict[str, Any]:
    _dict(value, path, ROUTE_KEYS)
    if value.get('dst') is None:
        fail(path + '.dst', "is required (a CIDR, or 'default')")
    via = value.get('via')
    src = value.get('src')
    family = None
    via = _ip(ipaddress.ip_address, via, path + '.via', '10.0.0.1') if via is not None else None
    src = _ip(ipaddress.ip_address, src, path + '.src', '10.0.0.2') if src is not None else None
    for address in (via, src):
        if address is not None:
            if family and family != address.version:
                fail(path, 'mixes IPv4 and IPv6')
            family = address.version
    dst = value['dst']
    if dst == 'default':
        dst = ipaddress.ip_network('::/0' if family == 6 else '0.0.0.0/0')
    else:
        dst = _ip(lambda text: ipaddress.ip_network(text, strict=False), dst, path + '.dst', "10.1.0.0/16 or 'default'")
    if family and dst.version != family:
        fail(path, 'mixes IPv4 and IPv6')
    dev = value.get('dev')
    if dev is not None:
        ifname(dev, path + '.dev')
    if via is None and dev is None:
        fail(path, 'needs via or dev')
    return {
        'dst': dst,
        'via': via,
        'dev': dev,
        'src': src,
        'metric': _int(value.get('metric'), path + '.metric', 0, 4294967295),
        'table': _table(value.get('table'), path + '.table'),
    }


def _table(value: Any, path: str) -> int:
    table = _int(value, path, 1, 4294967295) or 254
    if table == LOCAL_TABLE:
        fail(path, f'must not be {table}, the local table the kernel keeps itself; use another table id')
    return table


def sysctl_path(key: Any, path: str) -> str:
    """net.ipv4.ip_forward or net/ipv4/conf/eth0.100/forwarding -> /proc/sys/... ."""
    if not isinstance(key, str) or not SYSCTL_KEY.match(key) or '..' in key.split('/'):
        fail(path, f'is not a sysctl key: {key!r}')
    parts = key.split('/') if '/' in key else key.split('.')
    if parts[0] != 'net':
        fail(path, f'only net.* keys are per network namespace; {key!r} would change the host')
    if len(parts) < 3 or '' in parts:
        fail(path, f'{key!r} is not a sysctl key but a group of them (like net.ipv4.ip_forward, net.core.somaxconn)')
    # the directories (net.ipv4.conf.all) are the same in every network
    # namespace, so this host's /proc/sys tells before anything is touched
    if os.path.isdir('/proc/sys/' + '/'.join(parts)):
        fail(path, f'{key!r} is a directory of sysctls, not one sysctl')
    return '/proc/sys/' + '/'.join(parts)


def _sysctl_value(value: Any, path: str) -> str:
    """The text written to the sysctl file: numbers, strings, booleans as 0/1."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) or not isinstance(value, (numbers.Integral, str)):
        fail(path, f'must be a string or a whole number, not {value!r}')
    text = ' '.join(str(value).split())
    if not text or unprintable(text):
        fail(path, f'must be a non-empty value without control characters, not {value!r}')
    return text


def _services(values: Any, path: str, namespace: str) -> list[dict[str, Any]]:
    """[{name, restart, writable_etc, bind_etc}]: a unit name stands for {name: UNIT}. The unit name's
    systemd rules are checked where the drop-in is written (boot/services.py), before anything is touched."""
    where = f'{path} (namespace {namespace!r})'
    if values is None:
        return []
    if not isinstance(values, list):
        fail(where, f'must be a list of services, not {_json(values)}')
    services = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            value = {'name': value}
        if not (
            isinstance(value, dict)
            and isinstance(value.get('name'), str)
            and value['name']
            and set(value) <= SERVICE_KEYS
        ):
            fail(
                f'{path}[{index}] (namespace {namespace!r})',
                f'service {_json(value)} is neither a unit name nor a mapping with a name and only the keys '
                f'{", ".join(sorted(SERVICE_KEYS))}',
            )
        service = dict(SERVICE_DEFAULTS, name=value['name'])
        for key in SERVICE_DEFAULTS:
            if key in value:
                if not isinstance(value[key], bool):
                    fail(
                        f'{path}[{index}].{key} (namespace {namespace!r})',
                        f'must be a boolean, not {_json(value[key])}',
                    )
                service[key] = value[key]
        services.append(service)
    return services


def _json(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _check_services(decls: list[dict[str, Any]]) -> None:
    """A service runs in one network namespace: declared in two (or twice), it is refused."""
    seen: dict[str, str] = {}
    for decl in decls:
        if decl['state'] != 'present':
            continue
        for service in decl['services']:
            if service['name'] in seen:
                fail(
                    'namespaces',
                    f'service {service["name"]!r} is declared in {seen[service["name"]]!r} and in {decl["name"]!r}: '
                    'a service runs in one namespace only',
                )
            seen[service['name']] = decl['name']


def _files(values: Any, path: str) -> dict[str, str]:
    result: dict[str, str] = {}
    keys: dict[str, Any] = {}
    for rel, content in sorted(_mapping(values, path).items(), key=lambda kv: str(kv[0])):
        where = f'{path}[{rel!r}]'
        norm = os.path.normpath(rel) if isinstance(rel, str) else ''
        if not norm or os.path.isabs(norm) or norm.split('/')[0] == '..' or norm == '.':
            fail(where, f'must be a relative path inside /etc/netns/NAME, not {rel!r}')
        if unprintable(norm.replace(' ', '')):
            fail(where, f'file name {rel!r} may not contain NUL or other control characters')
        if not isinstance(content, str):
            fail(where, f'content must be a string, not {type(content).__name__!r}')
        if norm in result:
            fail(where, f'{keys[norm]!r} and {rel!r} name the same file')
        result[norm], keys[norm] = content, rel
    for norm in result:
        # a file that is also the directory of another cannot be written
        parent = os.path.dirname(norm)
        while parent:
            if parent in result:
                fail(f'{path}[{parent!r}]', f'is a file, and also the directory of {norm!r}')
            parent = os.path.dirname(parent)
    return result


def validate(namespaces: Any) -> list[dict[str, Any]]:
    """Validate and normalise the whole list. Raises NamespaceError."""
    items = _list(namespaces, 'namespaces')
    # every name first: a peer may name a namespace declared after its own
    names = _names(items)
    result = [_namespace(item, f'namespaces[{index}]', names) for index, item in enumerate(items)]
    _check_services(result)
    if len(set(n['nsid'] for n in result if n['nsid'] is not None)) != len(
        [n for n in result if n['nsid'] is not None]
    ):
        fail('namespaces', 'two namespaces ask for the same nsid')
    _check_peers(result)
    _check_vnis(result)
    return result


def _names(items: list[Any]) -> list[str]:
    names: list[str] = []
    for index, item in enumerate(items):
        where = f'namespaces[{index}]'
        _dict(item, where, NS_KEYS)
        name = item.get('name')
        if name is None:
            fail(where + '.name', 'is required')
        problem = name_problem(name)
        if not problem and unprintable(name):
            problem = 'must not contain control characters'
        if problem:
            fail(where + '.name', f'{name!r} {problem}')
        if name in names:
            fail(where + '.name', f'{name!r} is listed twice')
        names.append(name)
    return names


def _namespace(item: dict[str, Any], where: str, names: Collection[str]) -> dict[str, Any]:
    """One namespace's declaration, normalised."""
    state = item.get('state') or 'present'
    if state not in ('present', 'absent'):
        fail(where + '.state', "must be 'present' or 'absent'")
    loopback = item.get('loopback', True)
    if not isinstance(loopback, bool):
        fail(where + '.loopback', 'must be a boolean')
    links = [_link(v, f'{where}.links[{i}]', names) for i, v in enumerate(_list(item.get('links'), where + '.links'))]
    seen = _check_links(links, where, item['name'])
    sysctls: dict[str, str] = {}
    for key, value in sorted(_mapping(item.get('sysctls'), where + '.sysctls').items(), key=lambda kv: str(kv[0])):
        spath = sysctl_path(key, f'{where}.sysctls[{key!r}]')
        sysctls[spath] = _sysctl_value(value, f'{where}.sysctls[{key!r}]')
    routes = [
        _route(v, f'{where}.routes[{i}]', seen) for i, v in enumerate(_list(item.get('routes'), where + '.routes'))
    ]
    _check_route_identities(routes, where)
    return {
        'name': item['name'],
        'state': state,
        'nsid': _int(item.get('nsid'), where + '.nsid', 0, 2147483647),
        'loopback': loopback,
        'links': links,
        'routes': routes,
        'sysctls': sysctls,
        'files': _files(item.get('files'), where + '.files'),
        'services': _services(item.get('services'), where + '.services', item['name']),
    }


def _check_links(links: list[dict[str, Any]], where: str, namespace: str) -> set[str]:
    """The links of one namespace among themselves. Returns their names."""
    seen: set[str] = set()
    for i, link in enumerate(links):
        if link['name'] in seen or link['name'] == 'lo':
            fail(f'{where}.links[{i}].name', f'{link["name"]!r} is declared twice (or is lo)')
        seen.add(link['name'])
    for i, link in enumerate(links):
        if link['master'] is not None and not any(
            lk['name'] == link['master'] and lk['kind'] == 'bridge' for lk in links
        ):
            fail(
                f'{where}.links[{i}].master',
                f'{link["master"]!r} is not a bridge declared in this namespace',
            )
        if link['master'] == link['name']:
            fail(
                f'{where}.links[{i}].master',
                f'{link["master"]!r} is the link itself; a bridge cannot be its own port',
            )
        peer = link['peer']
        if peer and peer['netns'] == namespace:
            fail(f'{where}.links[{i}].peer.netns', 'is the namespace itself')
    return seen


def _check_vnis(decls: list[dict[str, Any]]) -> None:
    """Every vxlan socket of the call is on this host, where the kernel takes
    a VNI once per UDP port and address family (EEXIST for the second)."""
    seen: dict[tuple[int, int, int], str] = {}
    for index, decl in enumerate(decls):
        for i, link in enumerate(decl['links'] if decl['state'] == 'present' else ()):
            if link['vxlan'] is None:
                continue
            vxlan = link['vxlan']
            key = (vxlan['vni'], vxlan['port'], vxlan['local'].version if vxlan['local'] is not None else 4)
            where = f'namespaces[{index}].links[{i}].vni'
            if key in seen:
                vni, port, version = key
                fail(
                    where,
                    f'VNI {vni} on UDP port {port} (IPv{version}) is already declared by {seen[key]}; the kernel takes '
                    'a VNI once per port on a host',
                )
            seen[key] = where


def _check_route_identities(routes: list[dict[str, Any]], where: str) -> None:
    """Two routes the kernel cannot tell apart (same table, destination and
    metric; an IPv6 metric of 0 or none is 1024) would replace each other on
    every run."""
    seen: dict[tuple[int, Network, int], int] = {}
    for i, route in enumerate(routes):
        metric = route['metric'] or (1024 if route['dst'].version == 6 else 0)
        key = (route['table'], route['dst'], metric)
        if key in seen:
            fail(
                f'{where}.routes[{i}]',
                f'is the same route as routes[{seen[key]}] to the kernel (table {route["table"]}, '
                f'dst {route["dst"]}, metric {metric}); give one another metric or table',
            )
        seen[key] = i


def _check_peers(decls: list[dict[str, Any]]) -> None:
    """A veth's far end must land in a namespace that stays, under a name
    nothing else there claims: otherwise the second creation fails with
    EEXIST (or takes the other declaration's link) after the first is done."""
    absent = set(d['name'] for d in decls if d['state'] == 'absent')
    by_name = dict((d['name'], d) for d in decls)
    # (namespace name or None for the host, link name) -> who declares it
    claimed: dict[tuple[str | None, str], str] = {}
    for index, decl in enumerate(decls):
        if decl['state'] == 'absent':
            continue
        for i, link in enumerate(decl['links']):
            claimed[(decl['name'], link['name'])] = f'namespaces[{index}].links[{i}].name'
    for index, decl in enumerate(decls):
        if decl['state'] == 'absent':
            continue
        for i, link in enumerate(decl['links']):
            peer = link['peer']
            if not peer:
                continue
            where = f'namespaces[{index}].links[{i}].peer'
            if peer['netns'] in absent:
                fail(
                    where + '.netns',
                    f'{peer["netns"]!r} is declared absent in this call; a veth end cannot be put there',
                )
            if (
                peer['netns']
                and peer['master'] is not None
                and not any(
                    lk['name'] == peer['master'] and lk['kind'] == 'bridge' for lk in by_name[peer['netns']]['links']
                )
            ):
                fail(
                    where + '.master',
                    f"{peer['master']!r} is not a bridge declared in namespace '{peer['netns']}'",
                )
            key = (peer['netns'], peer['name'])
            if key in claimed:
                place = f"namespace '{peer['netns']}'" if peer['netns'] else 'the host'
                fail(where + '.name', f'{peer["name"]!r} in {place} is already declared by {claimed[key]}')
            claimed[key] = where + '.name'


def usable_hosts(network: Network) -> tuple[Address, Address]:
    """The first and last address of a subnet that a host may have: not the
    network address, nor IPv4's broadcast address, except in /31, /32, /127
    and /128, where every address is a host's (RFC 3021)."""
    if network.prefixlen >= network.max_prefixlen - 1:
        return network[0], network[-1]
    return network[1], network[-1] - (0 if network.version == 6 else 1)
