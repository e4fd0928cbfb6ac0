# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: netns_declaration
short_description: Check the netns role's declaration of one host and split it for netns_config and netns_service
version_added: 0.2.0
author:
  - nsfd maintainers (@nsfd)
description:
  - What the P(nsfd.namespaces.netns#role) role runs first on every host, in one step on the controller.
  - Takes the host's declared namespaces (C(netns_namespaces + netns_namespaces_extra)), merges in the fleet's
    segments it is a member of (as P(nsfd.namespaces.netns_segments#filter) does), and returns the
    O(nsfd.namespaces.netns_config#module:namespaces) list without the role's own C(services) key, with the services
    to run inside the namespaces.
  - A C(services) entry is a unit name or a mapping with C(name) and optionally C(restart), C(writable_etc) and
    C(bind_etc); anything else, or one service in two namespaces, fails naming the namespace and the value.
  - Values may be built with Jinja (filters, tests, lookups, C(omit)); each is read once, as the plain value it
    renders to. Only the segment members' underlay variables are read from O(hostvars).
options:
  _input:
    description: The host's declared namespaces (the role's C(netns_namespaces) schema, with C(services)).
    type: list
    elements: dict
    required: true
  segments:
    description: The fleet's segments (the role's C(netns_segments)); see P(nsfd.namespaces.netns_segments#filter).
    type: list
    elements: dict
    default: []
  host:
    description: The host to build the declaration for (C(inventory_hostname)); needed with O(segments).
    type: str
    default: ''
  hostvars:
    description: The inventory's variables by host (C(hostvars)), where the members' underlay addresses come from.
    type: dict
    default: {}
  underlay_var:
    description: The host variable that holds a member's underlay address when C(netns_underlay_address) is not set.
    type: str
    default: ansible_host
  underlay_device:
    description: The host's underlay device; empty to find it in O(facts).
    type: str
    default: ''
  facts:
    description: The host's gathered network facts (C(ansible_facts)), to find the underlay device.
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: The namespaces and services of this host, segments merged
  ansible.builtin.set_fact:
    declaration: >-
      {{ netns_namespaces | nsfd.namespaces.netns_declaration(segments=netns_segments, host=inventory_hostname,
         hostvars=hostvars) }}

- name: Converge them
  nsfd.namespaces.netns_config:
    namespaces: "{{ declaration.namespaces }}"
'''

RETURN = r'''
_value:
  description: The host's declaration.
  type: dict
  contains:
    namespaces:
      description: The O(nsfd.namespaces.netns_config#module:namespaces) list.
      type: list
      elements: dict
    services:
      description: "The services, as C([{name, namespace, restart?, writable_etc?, bind_etc?}])."
      type: list
      elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.declaration import host_declaration
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.hostvars import MemberVars
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain


def netns_declaration(namespaces, segments=None, host='', hostvars=None, underlay_var='ansible_host',
                      underlay_device='', facts=None):
    try:
        return host_declaration(to_plain(namespaces) or [], to_plain(segments) or [], to_plain(host),
                                MemberVars(hostvars or {}), underlay_var=to_plain(underlay_var),
                                underlay_device=to_plain(underlay_device) or None, facts=facts)
    except NamespaceError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {'netns_declaration': netns_declaration}
