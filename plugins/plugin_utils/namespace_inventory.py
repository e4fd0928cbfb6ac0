# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hosts the nsfd.namespaces.namespaces inventory plugin makes, as plain data.

Declared: a host per namespace the netns role declares present on a parent
host (netns_namespaces, netns_namespaces_extra and the parent's segments, by
the role's own expansion), reached as the parent is, with the netns become
plugin entering the namespace. Local: a host per name pinned on this machine
(stale pins never), and the running namespace hosts of data directories,
reached with the nsenter connection by name.

Nothing here templates: the plugin hands in values already rendered.
"""

from __future__ import annotations

import errno
import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

from ansible.inventory.group import to_safe_group_name

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine as host_engine
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES, ordered
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.listing import list_namespaces
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.fleet import expand_for_host

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import TypedDict

    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.listing import NamespaceEntry
    from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.fleet import HostVars

    class TableHost(TypedDict):
        """A host of HostTable: its variables and its groups, the first the one it is added to."""

        vars: dict[str, Any]
        groups: list[str]


BECOME_METHOD = 'nsfd.namespaces.netns'
NSENTER = 'nsfd.namespaces.nsenter'
NETNS_PIN_DIR = TYPES['net'].default_dir

# The parent's variables that say how it is reached; a namespace host gets
# each the parent has, as the parent's value (templated for the parent)
PARENT_VARS = (
    'ansible_host',
    'ansible_port',
    'ansible_user',
    'ansible_connection',
    'ansible_python_interpreter',
    'ansible_ssh_host',
    'ansible_ssh_port',
    'ansible_ssh_user',
    'ansible_password',
    'ansible_ssh_pass',
    'ansible_private_key_file',
    'ansible_ssh_private_key_file',
    'ansible_ssh_common_args',
    'ansible_ssh_extra_args',
    'ansible_ssh_args',
    'ansible_nsenter_types',
    'ansible_nsenter_exe',
    'ansible_netns_python',
    'ansible_netns_sudo',
    'ansible_netns_etc_files',
)
# What the role reads of a parent to know its namespaces
DECLARATION_VARS = (
    'netns_namespaces',
    'netns_namespaces_extra',
    'netns_segments',
    'netns_underlay_address_var',
    'netns_underlay_device',
    'netns_pin_dir',
)


class InventoryProblem(Exception):
    """A mistake in the inventory or the plugin's configuration, said in one message."""


def group_name(prefix: str, name: str) -> str:
    """An Ansible group name: prefix + name with every character a variable name cannot hold replaced by '_'."""
    return to_safe_group_name(f'{prefix}{name}', force=True, silent=True)


def default_host_name(parent: str, name: str) -> str:
    """PARENT_NAMESPACE: a name Ansible takes everywhere a host name goes.

    Not PARENT/NAME: a '/' makes host_vars/PARENT/NAME.yml a directory of the
    parent's, and splits the fact cache's and fetch's per-host paths. Not
    PARENT.NAME: inventory_hostname_short would be the parent's name. Not ':'
    or ',': they separate host patterns.
    """
    return f'{parent}_{name}'


def _as_list(value: Any, what: str, parent: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InventoryProblem(f'host {parent}: {what} must be a list, not {type(value).__name__}')
    return value


def declared_namespaces(
    parent: str, declared: Mapping[str, Any], member_vars: HostVars | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """[(name, item)] of the namespaces the netns role makes present on parent, in the role's order.

    declared: the parent's DECLARATION_VARS, rendered (missing ones: the
    role's defaults). member_vars: the segment members' variables, as the
    netns_segments filter reads hostvars (plugin_utils.hostvars.MemberVars).
    """
    namespaces = _as_list(declared.get('netns_namespaces'), 'netns_namespaces', parent) + _as_list(
        declared.get('netns_namespaces_extra'), 'netns_namespaces_extra', parent
    )
    segments = _as_list(declared.get('netns_segments'), 'netns_segments', parent)
    if segments:
        try:
            namespaces = expand_for_host(
                segments,
                parent,
                member_vars if member_vars is not None else {},
                namespaces=namespaces,
                underlay_var=declared.get('netns_underlay_address_var') or 'ansible_host',
                underlay_device=declared.get('netns_underlay_device') or None,
            )
        except NamespaceError as exc:
            raise InventoryProblem(f'host {parent}: {exc}')
    found: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for index, item in enumerate(namespaces):
        if not isinstance(item, dict):
            raise InventoryProblem(
                f'host {parent}: namespace #{index + 1} of netns_namespaces + netns_namespaces_extra is not a '
                f'mapping: {item!r}'
            )
        name = item.get('name')
        problem = name_problem(name)
        if problem:
            raise InventoryProblem(f'host {parent}: namespace #{index + 1}: name {name!r} {problem}')
        if item.get('state', 'present') != 'present':
            continue  # the role removes it: nothing to reach
        if name in found:
            raise InventoryProblem(
                f'host {parent}: namespace {name!r} is declared twice in netns_namespaces + netns_namespaces_extra'
            )
        found[cast(str, name)] = item  # name_problem() refuses anything but a str
    return list(found.items())


def declared_host_vars(
    parent: str, name: str, item: dict[str, Any], reached: Mapping[str, Any], pin_dir: str | None = None
) -> dict[str, Any]:
    """The variables of the host of namespace name on parent.

    reached: the parent's PARENT_VARS it has (rendered). ansible_host is the
    parent's, or its inventory name when it has none (as Ansible reaches it).
    """
    variables = dict(reached)
    if variables.get('ansible_host') in (None, '') and variables.get('ansible_ssh_host') in (None, ''):
        variables['ansible_host'] = parent
    variables.update(
        {
            'ansible_become': True,
            'ansible_become_method': BECOME_METHOD,
            'ansible_become_user': name,
            'netns_source': 'declared',
            'netns_parent': parent,
            'netns_name': name,
            'netns_declaration': item,
        }
    )
    if pin_dir and os.path.normpath(pin_dir) != NETNS_PIN_DIR:
        variables['ansible_netns_pin_dir'] = pin_dir
    return variables


class HostTable:
    """The hosts and groups the plugin adds, checked before any is added:
    a host name made twice or already in the inventory, and two names that
    make one group, fail naming both."""

    def __init__(self, existing_hosts: Iterable[str] = (), existing_groups: Iterable[str] = ()) -> None:
        self.hosts: OrderedDict[str, TableHost] = OrderedDict()  # name: {'vars': {...}, 'groups': [...]}
        self._origin: dict[str, str] = {}  # host name: what made it
        self._existing = set(existing_hosts)
        self._existing_groups = set(existing_groups)
        self._group_origin: dict[str, tuple[str, str]] = {}  # group: (kind, raw name)

    def group(self, kind: str, raw: str, name: str) -> str:
        """name (already sanitized) as the group of raw (a namespace, a parent...): one raw per group."""
        if name in self._existing and name not in self._existing_groups:
            raise InventoryProblem(
                f'group {name} (of {kind} {raw!r}) is the name of a host of the inventory; choose another group_prefix'
            )
        known = self._group_origin.setdefault(name, (kind, raw))
        if known != (kind, raw):
            raise InventoryProblem(
                f'group {name} would hold both {known[0]} {known[1]!r} and {kind} {raw!r}: '
                'their names differ only in characters '
                'a group name cannot hold (or the prefixes collide); rename one or choose another '
                'group_prefix'
            )
        return name

    def add(self, name: object, variables: dict[str, Any], groups: Iterable[str], origin: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InventoryProblem(
                f'the host name of {origin} is {name!r}: the name template must give a non-empty string'
            )
        if name in self.hosts:
            raise InventoryProblem(
                f'host name {name!r} is made twice: for {self._origin[name]} and for {origin}; '
                'make the name template tell them apart'
            )
        if name in self._existing:
            raise InventoryProblem(
                f'host name {name!r} of {origin} is already a host of the inventory; choose another name template'
            )
        if name in self._group_origin:
            raise InventoryProblem(f'host name {name!r} of {origin} is also a group this plugin makes')
        self._origin[name] = origin
        self.hosts[name] = {'vars': variables, 'groups': list(groups)}


def _readable_dir(path: str) -> None:
    try:
        os.listdir(path)
    except OSError as exc:
        code = cast(int, exc.errno)  # os.listdir's errors always carry one
        if code == errno.ENOENT:
            why = 'it does not exist'
        elif code == errno.ENOTDIR:
            why = 'it is not a directory'
        else:
            why = os.strerror(code)
        raise InventoryProblem(
            f'data dir {path} cannot be read: {why} (errno {errno.errorcode.get(code, code)}); '
            'give the data_dir the namespace hosts were started with'
        )


def namespace_hosts(data_dirs: Iterable[str]) -> OrderedDict[str, dict[str, Any]]:
    """{name: host} of the namespace hosts recorded in data_dirs (as namespace_host_info lists them)."""
    hosts: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for data_dir in data_dirs:
        _readable_dir(data_dir)
        try:
            listed = host_engine.info(data_dir)
        except (NamespaceError, OSError) as exc:
            raise InventoryProblem(f'data dir {data_dir} cannot be read: {exc}')
        for host in listed:
            if host['name'] in hosts:
                raise InventoryProblem(
                    f'namespace host {host["name"]!r} is in two data dirs: '
                    f'{hosts[host["name"]]["data_dir"]} and {data_dir}'
                )
            hosts[host['name']] = host
    return hosts


def local_namespaces(
    types: Iterable[str], data_dirs: Iterable[str] = (), pins: bool = True
) -> list[tuple[str, dict[str, Any]]]:
    """[(name, variables)] of what is pinned on this machine in the default pin directories
    (stale pins never) and of the running namespace hosts of data_dirs, by name."""
    recorded = namespace_hosts(data_dirs)
    wanted = ordered(types)
    pinned: OrderedDict[str, OrderedDict[str, NamespaceEntry]] = OrderedDict()
    # the nsenter connection enters a name through the default pin directories only
    for entry in list_namespaces(wanted)[0] if (pins or recorded) else []:
        if entry['name'] is None or entry['stale']:
            continue
        pinned.setdefault(entry['name'], OrderedDict())[entry['type']] = entry
    result: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(set(pinned) | set(recorded)):
        host = recorded.get(name)
        if host is not None and (not host['running'] or host.get('damaged')):
            continue  # its init is gone: nothing can be entered
        if host is None and not pins:
            continue
        entries = pinned.get(name)
        if not entries:
            continue  # recorded, but nothing of it is pinned (any more)
        variables: dict[str, Any] = {
            'ansible_host': name,
            'ansible_connection': NSENTER,
            'ansible_nsenter_types': list(entries),
            'netns_source': 'local',
            'netns_name': name,
            'netns_types': list(entries),
            'netns_pins': dict((t, e['path']) for t, e in entries.items()),
            'netns_inodes': dict((t, e['inode']) for t, e in entries.items()),
        }
        if host is not None:
            fields = ('hostname', 'data_dir', 'pid', 'root', 'address', 'interface')
            variables['netns_host'] = dict((k, host[k]) for k in fields)
        result.append((name, variables))
    return result
