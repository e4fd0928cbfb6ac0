# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: netns_drift
short_description: What differs from the netns role's declaration on each host, as data a CI job gates on
version_added: 0.3.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Takes C(hostvars) and a list of hosts on which the P(nsfd.namespaces.netns#role) role ran in check mode, and
    returns one report of every change its P(nsfd.namespaces.netns_config#module) call would make there (links,
    addresses, routes, sysctls, files, the fdb entries of segments, services, boot files), from each host's
    registered result (RV(nsfd.namespaces.netns_config#module:namespaces[].details)).
  - The host of a declared namespace made by the P(nsfd.namespaces.namespaces#inventory) inventory plugin
    (C(netns_source=declared)) is left out - the role runs on its parent. A host without a result (unreachable, or
    failed before the module ran), with a skipped one (check mode before pyroute2 is installed) or a failed one has
    that status and counts as an error.
  - The C(nsfd.namespaces.drift_report) playbook uses it; P(nsfd.namespaces.netns_drift_table#filter) renders the
    report for people.
options:
  _input:
    description: C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts to report on, usually C(ansible_play_hosts_all) of the play that ran the role.
    type: list
    elements: str
    required: true
  result_var:
    description: The variable holding each host's registered P(nsfd.namespaces.netns_config#module) result.
    type: str
    default: netns_result
'''

EXAMPLES = r'''
- name: The role in check mode on every router (a play with check_mode true), then
  ansible.builtin.set_fact:
    drift: "{{ hostvars | nsfd.namespaces.netns_drift(ansible_play_hosts_all) }}"
  run_once: true

- name: Fail a CI job on drift
  ansible.builtin.assert:
    that: not drift.drift and not drift.errors
  run_once: true
'''

RETURN = r'''
_value:
  description: The report.
  type: dict
  contains:
    drift:
      description: Whether any host differs from its declaration.
      type: bool
    errors:
      description: Whether any host has no full result (its status is V(failed), V(skipped) or V(no result)).
      type: bool
    count:
      description: The number of changes.
      type: int
    hosts:
      description:
        - By host, C(status) (V(in sync), V(drift), V(failed), V(skipped) or V(no result)), C(changes) (how many)
          and C(msg) (why there is no full result).
      type: dict
    changes:
      description:
        - One entry per change, by host in the order given and then in the order the role would make them - C(host),
          C(namespace) (empty for the boot files), C(kind) (as in
          RV(nsfd.namespaces.netns_config#module:namespaces[].details), and V(service) and V(boot)), C(object),
          C(before), C(after) (null for absent) and C(change) (the module's words).
      type: list
      elements: dict
'''

from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.drift import report
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.hostvars import MemberVars
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ansible_collections.nsfd.namespaces.plugins.plugin_utils.drift import Report


def netns_drift(hostvars: Mapping[str, Any], hosts: Any, result_var: str = 'netns_result') -> Report:
    hosts = to_plain(hosts)
    if not isinstance(hosts, list):
        raise AnsibleFilterError(f'netns_drift: hosts must be a list of host names, not {type(hosts).__name__}')
    members = MemberVars(hostvars)
    results: list[tuple[str, Any]] = []
    for host in hosts:
        if host not in members:
            raise AnsibleFilterError(f'netns_drift: {host!r} is not a host of the inventory')
        variables = members[host]
        if variables.get('netns_source') == 'declared':
            continue  # a declared namespace's host of the inventory plugin: the role runs on its parent
        results.append((host, variables.get(result_var)))
    return report(results)


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {'netns_drift': netns_drift}
