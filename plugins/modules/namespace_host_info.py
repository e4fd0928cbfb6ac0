#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: namespace_host_info
short_description: List the namespace hosts of a data directory
version_added: 0.2.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Lists the namespace hosts made by M(nsfd.namespaces.namespace_host) whose records are in O(data_dir), with
    C(running) false for a host whose init is gone (killed, or its pid now belongs to another process;
    the record's start time tells them apart).
  - Read-only.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: It only reads.
  platform:
    platforms: posix
options:
  name:
    description:
      - Only this host. Default is every host of O(data_dir).
    type: str
  data_dir:
    description:
      - The data directory the hosts were made with (O(nsfd.namespaces.namespace_host#module:data_dir)).
    type: path
    default: /var/lib/nsfd-hosts
seealso:
  - module: nsfd.namespaces.namespace_host
'''

EXAMPLES = r'''
- name: Every namespace host
  nsfd.namespaces.namespace_host_info:
  register: found

- name: Hosts whose init is gone
  ansible.builtin.debug:
    msg: "{{ found.hosts | rejectattr('running') | map(attribute='name') }}"
'''

RETURN = r'''
hosts:
  description:
    - The hosts, sorted by name, as RV(nsfd.namespaces.namespace_host#module:host) describes them.
    - A host whose record is damaged (truncated, not JSON) is listed too, with C(damaged) saying why, the fields the
      record no longer tells null, and C(running) true while an init of the host runs;
      O(nsfd.namespaces.namespace_host#module:state=absent) removes it.
  returned: always
  type: list
  elements: dict
  sample:
    - name: web1
      hostname: web1
      pid: 4242
      root: overlay
      data_dir: /var/lib/nsfd-hosts
      address: 10.77.0.1/24
      interface: eth0
      lab: {name: nsfd-lab, bridge: labbr0, address: 10.77.0.1/24, interface: eth0, gateway: 10.77.0.254/24}
      shared_paths: []
      pins: {mnt: /run/mntns/web1, uts: /run/utsns/web1, ipc: /run/ipcns/web1, net: /run/netns/web1,
             pid: /run/pidns/web1, cgroup: /run/cgroupns/web1}
      running: true
'''

from typing import TYPE_CHECKING

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import call_or_fail

if TYPE_CHECKING:
    from typing import Any


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str'),
            data_dir=dict(type='path', default=spec.DEFAULT_DATA_DIR),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def read() -> list[dict[str, Any]]:
        data_dir = spec.check_data_dir(params['data_dir'])
        if params['name'] is not None:
            spec.check_name(params['name'])
            spec.check_hostname(params['name'], 'name')
        return engine.info(data_dir, params['name'])

    hosts = call_or_fail(module, read, os_action='cannot read the host records')
    module.exit_json(changed=False, hosts=hosts)


if __name__ == '__main__':
    main()
