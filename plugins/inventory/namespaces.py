# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: namespaces
short_description: Every network namespace a host - the netns role's declared ones on a fleet, or what is pinned here
version_added: 0.3.0
author:
  - nsfd maintainers (@nsfd)
description:
  - "Makes a host of each namespace, so that C(hosts: netns_red) runs every task (facts included) inside namespace
    C(red) on every host that has it."
  - "The C(declared) source is layered on the inventory already loaded, as C(ansible.builtin.constructed) is: list
    this plugin's configuration file after the other inventory sources (C(-i inventory.yml -i namespaces.yml)). For
    each host (or each host of O(parents)) it makes a host per namespace the P(nsfd.namespaces.netns#role) role
    declares present there: C(netns_namespaces), C(netns_namespaces_extra) and the namespaces of the host's
    C(netns_segments), expanded as the role expands them (the P(nsfd.namespaces.netns_segments#filter) filter), so
    the hosts are the role's namespaces, C(state: absent) ones excepted."
  - "A declared namespace's host is reached as its parent is: it gets the parent's variables named in
    O(parent_vars) (C(ansible_host), C(ansible_user), C(ansible_port), C(ansible_connection),
    C(ansible_python_interpreter)...; C(ansible_host) is the parent's inventory name when the parent has none),
    and C(ansible_become=true), C(ansible_become_method=nsfd.namespaces.netns) and C(ansible_become_user) the
    namespace, so the P(nsfd.namespaces.netns#become) plugin runs each module inside the namespace (C(/sys)
    remounted: facts describe the namespace's interfaces). A parent's C(netns_pin_dir) other than C(/run/netns)
    becomes C(ansible_netns_pin_dir)."
  - "Its variables: C(netns_source=declared), C(netns_parent) (the parent's inventory name), C(netns_name) (the
    namespace) and C(netns_declaration) (its item as the role hands it to P(nsfd.namespaces.netns_config#module),
    segment links included; a segment's VXLAN device shows the MTU it gets without gathered facts)."
  - "Groups: C(<group_prefix><namespace>) per namespace (C(netns_red)) and C(<group_prefix>on_<parent>) per parent
    (C(netns_on_router1)), with every character a group name cannot hold replaced by C(_)."
  - "Parents' variables are read as a play reads them: group_vars and host_vars (vars plugins, see
    O(use_vars_plugins)) and Jinja templates rendered for the parent with C(groups) and C(hostvars) (other hosts'
    variables, each rendered for its own host). A value that cannot be rendered, or a declaration the role would
    refuse (a bad segment, a namespace without a name), fails naming the host and variable with O(strict=true);
    otherwise that parent gets no namespace host, with a warning. Nothing is run on the hosts and no root is
    needed."
  - "The C(local) source makes a host of each name pinned on this machine, in the default pin directory of each
    type of O(local_types) (C(/run/netns), C(/run/utsns), C(/run/mntns)... as P(nsfd.namespaces.namespace#module)
    pins them), and of each running namespace host of O(data_dirs) (P(nsfd.namespaces.namespace_host#module)).
    It is named as pinned and reached with the P(nsfd.namespaces.nsenter#connection) connection by that name,
    entering the types pinned under it (C(ansible_nsenter_types)). A pin is judged as the modules judge it (an
    nsfs mount of its type, by the kernel): a stale pin never becomes a host, nor a pid namespace without a
    process, nor a namespace host whose init is gone."
  - "Its variables: C(netns_source=local), C(netns_name), C(netns_types), C(netns_pins) and C(netns_inodes) (by
    type), and for a namespace host C(netns_host) (its C(hostname), C(data_dir), C(pid), C(root), C(address),
    C(interface)). Groups: C(<group_prefix>local), and C(<group_prefix>namespace_hosts) for namespace hosts."
  - "A host name the name template makes twice, or that the inventory already has, two namespaces whose group names
    are the same once sanitized (C(tenant-a), C(tenant_a)), a parent in O(parents) the inventory does not have, and
    a data dir that cannot be read fail the inventory, naming them."
options:
  plugin:
    description: The name of this plugin; the file must end in C(.yml) or C(.yaml).
    required: true
    choices: [nsfd.namespaces.namespaces]
    type: str
  sources:
    description:
      - Where the namespaces come from. C(declared) - the C(netns) role's variables of the inventory's hosts;
        C(local) - the pins of the machine running Ansible and the namespace hosts of O(data_dirs).
    type: list
    elements: str
    choices: [declared, local]
    default: [declared]
  parents:
    description:
      - The hosts whose declared namespaces become hosts, as inventory host or group names; a name the inventory
        does not have fails.
      - Empty - every host of the inventory.
    type: list
    elements: str
    default: []
  name_template:
    description:
      - The host name of a declared namespace, a Jinja template over the parent's variables and C(netns_parent),
        C(netns_name) and C(netns_declaration).
      - "Empty (the default) - C(PARENT_NAMESPACE) (C(router1_red)), as the template
        C({{ netns_parent }}_{{ netns_name }}) makes it: a name Ansible takes everywhere a host name goes:
        C(/) would make C(host_vars/router1/red.yml) a file in a directory of the parent's and split the fact
        cache's and C(fetch)'s per-host paths, C(.) would make C(inventory_hostname_short) the parent's name, and
        C(:) and C(,) separate host patterns."
    type: str
    default: ''
  group_prefix:
    description: The prefix of the groups this plugin makes.
    type: str
    default: netns_
  parent_vars:
    description:
      - The parent's variables a declared namespace's host gets, rendered for the parent, when the parent has them.
    type: list
    elements: str
    default: [ansible_host, ansible_port, ansible_user, ansible_connection, ansible_python_interpreter,
              ansible_ssh_host, ansible_ssh_port, ansible_ssh_user, ansible_password, ansible_ssh_pass,
              ansible_private_key_file, ansible_ssh_private_key_file, ansible_ssh_common_args,
              ansible_ssh_extra_args, ansible_ssh_args, ansible_nsenter_types, ansible_nsenter_exe,
              ansible_netns_python, ansible_netns_sudo, ansible_netns_etc_files]
  use_vars_plugins:
    description:
      - Read the parents' (and the new hosts') variables of vars plugins too, such as C(host_vars/) and
        C(group_vars/) beside the inventory, where C(netns_namespaces) usually is.
      - Unlike C(ansible.builtin.constructed), on by default.
    type: bool
    default: true
  local_types:
    description: The namespace types whose default pin directories the C(local) source reads.
    type: list
    elements: str
    choices: [user, mnt, uts, ipc, net, pid, cgroup, time]
    default: [user, mnt, uts, ipc, net, pid, cgroup, time]
  local_pins:
    description:
      - Whether the C(local) source makes hosts of pinned names; C(false) - only of the namespace hosts of
        O(data_dirs).
    type: bool
    default: true
  data_dirs:
    description:
      - Data directories of P(nsfd.namespaces.namespace_host#module) whose running hosts the C(local) source makes
        hosts of (in group C(<group_prefix>namespace_hosts), with C(netns_host)).
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.constructed
notes:
  - The C(local) source reads the pins of the machine running Ansible only; a name whose pins lie elsewhere cannot
    be entered by the nsenter connection.
  - A C(local) host of a network namespace pin alone (C(ip netns add blue)) enters that namespace only, keeping the
    controller's mount namespace and C(/sys); commands such as C(ip) see the namespace, C(setup) facts about
    interfaces do not.
seealso:
  - plugin: nsfd.namespaces.netns
    plugin_type: become
  - plugin: nsfd.namespaces.nsenter
    plugin_type: connection
  - plugin: ansible.builtin.constructed
    plugin_type: inventory
'''

EXAMPLES = r'''
# namespaces.yml, listed after the fleet's inventory:
#   ansible-inventory -i inventory.yml -i namespaces.yml --graph
#   ansible-playbook -i inventory.yml -i namespaces.yml tenants.yml
plugin: nsfd.namespaces.namespaces

---
# Only the routers' namespaces, named red.router1, grouped by tenant too
plugin: nsfd.namespaces.namespaces
parents: [routers]
name_template: "{{ netns_name }}.{{ netns_parent }}"
keyed_groups:
  - key: netns_declaration.links | default([]) | map(attribute='kind') | unique
    prefix: with
strict: true

---
# What is pinned on this machine and the namespace hosts of a lab, reached with nsenter
plugin: nsfd.namespaces.namespaces
sources: [local]
data_dirs: [/var/lib/nsfd-hosts]
compose:
  ansible_python_interpreter: "'/usr/bin/python3'"

# tenants.yml: a play inside namespace red on every router that has it
# - hosts: netns_red
#   tasks:
#     - name: red's own interfaces, as facts
#       ansible.builtin.setup:
#         gather_subset: [network]
#     - name: A command inside red
#       ansible.builtin.command: ip -o link
#       changed_when: false
'''

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.template import trust_as_template
from ansible.utils.vars import combine_vars
from ansible.vars.hostvars import HostVarsVars
from ansible.vars.plugins import get_vars_from_inventory_sources

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.hostvars import MemberVars
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.namespace_inventory import (
    DECLARATION_VARS,
    HostTable,
    InventoryProblem,
    declared_host_vars,
    declared_namespaces,
    default_host_name,
    group_name,
    local_namespaces,
)
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader

    # what a parent declares: its namespace items by name, its PARENT_VARS and its netns_pin_dir
    ParentNamespaces = tuple[list[tuple[str, dict[str, Any]]], dict[str, Any], Any]

DEFAULT_NAME_TEMPLATE = '{{ netns_parent }}_{{ netns_name }}'  # what the empty name_template means


class _InventoryHostVars(Mapping):
    """hostvars for the templates of parents' variables: each host's variables, rendered for that host when read."""

    def __init__(self, plugin: InventoryModule) -> None:
        self._plugin = plugin

    def __getitem__(self, host: str) -> HostVarsVars:
        if host not in self._plugin.inventory.hosts:
            raise KeyError(host)
        return HostVarsVars(self._plugin.raw_variables(host), loader=self._plugin.loader, host=host)

    def __contains__(self, host: object) -> bool:
        return host in self._plugin.inventory.hosts

    def __iter__(self) -> Iterator[str]:
        return iter(self._plugin.inventory.hosts)

    def __len__(self) -> int:
        return len(self._plugin.inventory.hosts)

    def __deepcopy__(self, memo: dict[int, Any]) -> _InventoryHostVars:
        return self


class _Unrendered(Exception):
    def __init__(self, host: str, variable: str, error: str) -> None:
        super().__init__(f'host {host}: variable {variable} cannot be templated: {error}')


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = 'nsfd.namespaces.namespaces'

    def __init__(self) -> None:
        super().__init__()
        self._raw: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, list[str]] = {}
        self._sources: list[str] = []
        self._hostvars: _InventoryHostVars | None = None

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(('.yml', '.yaml'))

    # the variables of hosts, as a play sees them before any task
    def _inventory_vars(self, name: str) -> dict[str, Any]:
        host = self.inventory.get_host(name)
        variables = get_group_vars(host.get_groups())
        if self.get_option('use_vars_plugins'):
            variables = combine_vars(
                variables, get_vars_from_inventory_sources(self.loader, self._sources, host.get_groups(), 'all')
            )
        variables = combine_vars(variables, host.get_vars())
        if self.get_option('use_vars_plugins'):
            variables = combine_vars(
                variables, get_vars_from_inventory_sources(self.loader, self._sources, [host], 'all')
            )
        return variables

    def raw_variables(self, host: str) -> dict[str, Any]:
        """host's variables unrendered, with groups and hostvars, read once."""
        if host not in self._raw:
            variables = self._inventory_vars(host)
            variables['groups'] = self._groups
            variables['hostvars'] = self._hostvars
            self._raw[host] = variables
        return self._raw[host]

    def _render(self, host: str, variable: str, variables: Mapping[str, Any]) -> Any:
        try:
            return to_plain(self._compose(trust_as_template(variable), variables))
        except Exception as exc:  # what the templar raises varies across ansible-core releases
            raise _Unrendered(host, variable, to_native(exc))

    def parse(self, inventory: InventoryData, loader: DataLoader, path: str, cache: bool = False) -> None:
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        self._sources = getattr(inventory, 'processed_sources', [])
        self._groups = dict((name, [h.name for h in group.get_hosts()]) for name, group in inventory.groups.items())
        self._hostvars = _InventoryHostVars(self)
        prefix = self.get_option('group_prefix')
        table = HostTable(existing_hosts=inventory.hosts, existing_groups=inventory.groups)
        try:
            if 'declared' in self.get_option('sources'):
                self._declared(table, prefix)
            if 'local' in self.get_option('sources'):
                self._local(table, prefix)
        except InventoryProblem as exc:
            raise AnsibleParserError(f'{path}: {exc}')
        self._populate(table)

    def _parents(self) -> list[str]:
        wanted = self.get_option('parents')
        if not wanted:
            return list(self.inventory.hosts)
        parents: list[str] = []
        for name in wanted:
            if name in self.inventory.hosts:
                members = [name]
            elif name in self.inventory.groups:
                members = [h.name for h in self.inventory.groups[name].get_hosts()]
            else:
                raise InventoryProblem(
                    f'parent {name!r} is neither a host nor a group of the inventory loaded before this source; '
                    'define it there, and list this file after the inventory (-i inventory.yml -i namespaces.yml)'
                )
            parents.extend(m for m in members if m not in parents)
        return parents

    def _declared(self, table: HostTable, prefix: str) -> None:
        strict = self.get_option('strict')
        parents = self._parents()
        if not parents:
            self.display.warning(
                'nsfd.namespaces.namespaces: the inventory has no hosts to find declared namespaces '
                'on; list this source after the inventory (-i inventory.yml -i namespaces.yml)'
            )
        template = self.get_option('name_template')
        for parent in parents:
            try:
                found = self._parent_namespaces(parent)
            except (_Unrendered, InventoryProblem) as exc:
                if strict:
                    raise InventoryProblem(str(exc))
                self.display.warning(f'nsfd.namespaces.namespaces: no namespace host of {parent}: {exc}')
                continue
            if found is None:
                continue
            items, reached, pin_dir = found
            parent_group = table.group('parent', parent, group_name(prefix + 'on_', parent))
            for name, item in items:
                variables = declared_host_vars(parent, name, item, reached, pin_dir=pin_dir)
                host = self._host_name(template, parent, name, item)
                table.add(
                    host,
                    variables,
                    [table.group('namespace', name, group_name(prefix, name)), parent_group],
                    f'namespace {name!r} of host {parent}',
                )

    def _parent_namespaces(self, parent: str) -> ParentNamespaces | None:
        """(items, reached, pin_dir) of parent, None when it declares no namespace."""
        variables = self.raw_variables(parent)
        if not any(variables.get(v) for v in ('netns_namespaces', 'netns_namespaces_extra', 'netns_segments')):
            return None
        declared = dict((v, self._render(parent, v, variables)) for v in DECLARATION_VARS if v in variables)
        # parse() made self._hostvars before any parent is read
        items = declared_namespaces(parent, declared, MemberVars(cast(_InventoryHostVars, self._hostvars)))
        if not items:
            return None
        reached = dict(
            (v, self._render(parent, v, variables)) for v in self.get_option('parent_vars') if v in variables
        )
        return items, reached, declared.get('netns_pin_dir')

    def _host_name(self, template: str, parent: str, name: str, item: dict[str, Any]) -> str:
        if not template or template == DEFAULT_NAME_TEMPLATE:
            return default_host_name(parent, name)
        variables = combine_vars(
            self.raw_variables(parent), {'netns_parent': parent, 'netns_name': name, 'netns_declaration': item}
        )
        self.templar.available_variables = variables
        try:
            return to_plain(self.templar.template(trust_as_template(template)))
        except Exception as exc:  # what the templar raises varies across ansible-core releases
            raise InventoryProblem(
                f'name_template {template!r} cannot be templated for namespace {name!r} of host {parent}: '
                f'{to_native(exc)}'
            )

    def _local(self, table: HostTable, prefix: str) -> None:
        data_dirs = self.get_option('data_dirs')
        try:
            found = local_namespaces(self.get_option('local_types'), data_dirs, pins=self.get_option('local_pins'))
        except (OSError, AnsibleError) as exc:
            raise InventoryProblem(f'the pins of this machine cannot be read: {to_native(exc)}')
        for name, variables in found:
            groups = [table.group('source', 'local', group_name(prefix, 'local'))]
            if 'netns_host' in variables:
                groups.append(table.group('source', 'namespace_hosts', group_name(prefix, 'namespace_hosts')))
            table.add(name, variables, groups, f'the local namespace {name!r}')

    def _populate(self, table: HostTable) -> None:
        strict = self.get_option('strict')
        for name, host in table.hosts.items():
            for group in host['groups']:
                self.inventory.add_group(group)
            self.inventory.add_host(name, group=host['groups'][0])
            for group in host['groups'][1:]:
                self.inventory.add_child(group, name)
            for key, value in host['vars'].items():
                self.inventory.set_variable(name, key, value)
        for name in table.hosts:
            variables = self._inventory_vars(name)
            self._set_composite_vars(self.get_option('compose'), variables, name, strict=strict)
            variables = self._inventory_vars(name)
            self._add_host_to_composed_groups(
                self.get_option('groups'), variables, name, strict=strict, fetch_hostvars=False
            )
            self._add_host_to_keyed_groups(
                self.get_option('keyed_groups'), variables, name, strict=strict, fetch_hostvars=False
            )
