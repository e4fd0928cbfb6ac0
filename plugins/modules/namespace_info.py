#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: namespace_info
short_description: List pinned Linux namespaces, with their inodes, processes and nsids
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Lists the namespaces pinned in the pin directories (C(/run/netns) and the C(/run/*ns) directories of the other
    types), like C(ip netns list) and C(lsns) together.
  - A pin is reported only when the kernel shows an nsfs mount of the right type on it. An empty file left by a crash
    is reported with RV(namespaces[].stale=true) and a null inode, never as a namespace.
  - Only in a pin directory is an empty file a stale pin (see O(pin_dir)); files of other programs in a directory
    that is not a pin directory are not listed, and one warning says how many were skipped.
  - When C(pid) is among O(types), init (holder) processes this collection started whose pid namespace is pinned
    nowhere are returned as RV(orphan_holders), each with a warning saying how to end it.
  - Read-only; it never creates a namespace, a pin or a directory.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nsfd.namespaces.pin_dir
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details: It only reads, so there is nothing to show a difference of.
  platform:
    platforms: posix
options:
  types:
    description:
      - Namespace types to list. Default is all eight.
    type: list
    elements: str
    choices: [net, uts, ipc, mnt, pid, user, cgroup, time]
  names:
    description:
      - Only list pins with exactly these names (no substring or pattern match).
    type: list
    elements: str
  include_unpinned:
    description:
      - Also list namespaces that processes are in but that have no pin in the pin directories, like C(lsns).
        They have a null RV(namespaces[].name) and a C(/proc/PID/ns/TYPE) path.
      - Ignored when O(names) is given.
    type: bool
    default: false
notes:
  - Run as root to see the namespaces of every process.
seealso:
  - module: nsfd.namespaces.namespace
  - name: lsns(8)
    description: The util-linux tool that lists namespaces.
    link: https://man7.org/linux/man-pages/man8/lsns.8.html
'''

EXAMPLES = r'''
- name: List every pinned namespace
  nsfd.namespaces.namespace_info:
  register: ns

- name: Look at two network namespaces by exact name
  nsfd.namespaces.namespace_info:
    types: [net]
    names: [blue, red]
  register: netns

- name: Fail when a stale pin is left from a crash
  ansible.builtin.assert:
    that: netns.namespaces | selectattr('stale') | list | length == 0

- name: Fail when an interrupted run left a pid namespace holder that nothing pins
  ansible.builtin.assert:
    that: ns.orphan_holders | length == 0
    fail_msg: "End them with state=absent: {{ ns.orphan_holders | map(attribute='name') | list }}"

- name: List all network namespaces in use, pinned or not (like lsns -t net)
  nsfd.namespaces.namespace_info:
    types: [net]
    include_unpinned: true
'''

RETURN = r'''
namespaces:
  description: One entry per pin (and, with O(include_unpinned), per unpinned namespace).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The pin name, or null for an unpinned namespace.
      type: str
      sample: blue
    type:
      description: The namespace type.
      type: str
      sample: net
    path:
      description: The pin path, or C(/proc/PID/ns/TYPE) of the lowest pid for an unpinned namespace.
      type: str
      sample: /run/netns/blue
    inode:
      description: The namespace inode, or null for a stale pin.
      type: int
      sample: 4026532281
    stale:
      description:
        - True for a pin file with no namespace mounted on it, and for a pid namespace whose init has exited.
      type: bool
      sample: false
    pids:
      description: Processes in the namespace.
      type: list
      elements: int
      sample: [1234]
    nsid:
      description: For network namespaces, the nsid assigned in the caller's network namespace, else null.
      type: int
      sample: 0
orphan_holders:
  description:
    - Init (holder) processes of pid namespaces created by this collection that are pinned nowhere, in no mount
      namespace, and held by no other process. They keep their namespace set alive with nothing to reach it by a
      name. C(nsfd.namespaces.namespace) with the same O(names) and C(state=absent) ends them.
    - Empty unless C(pid) is among O(types).
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: The holder's process id.
      type: int
      sample: 4242
    name:
      description: The namespace name it was created for.
      type: str
      sample: batch
    pin:
      description: The pid pin path it was created for, or null for holders of older versions.
      type: str
      sample: /run/pidns/batch
    inode:
      description: The inode of its pid namespace.
      type: int
      sample: 4026532290
    pids:
      description: The processes inside its pid namespace, the holder included.
      type: list
      elements: int
      sample: [4242]
'''

from typing import TYPE_CHECKING

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPE_NAMES
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import call_or_fail
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.listing import list_namespaces, orphan_holders
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import check_types

if TYPE_CHECKING:
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.holder import Orphan
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.listing import NamespaceEntry


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            types=dict(type='list', elements='str', choices=TYPE_NAMES),
            names=dict(type='list', elements='str'),
            include_unpinned=dict(type='bool', default=False),
            pin_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def read() -> tuple[list[NamespaceEntry], list[Orphan], list[str]]:
        types = check_types(params['types'] or TYPE_NAMES, 'types')
        pin_dirs: dict[str, str] = {}
        if params['pin_dir']:
            if len(types) != 1:
                raise NamespaceError('pin_dir needs exactly one type in types')
            pin_dirs[types[0]] = params['pin_dir']
        namespaces, warnings = list_namespaces(
            types, names=params['names'], include_unpinned=params['include_unpinned'], pin_dirs=pin_dirs
        )
        orphans: list[Orphan] = []
        if 'pid' in types:
            orphans, more = orphan_holders()
            warnings = warnings + more
        return namespaces, orphans, warnings

    namespaces, orphans, warnings = call_or_fail(module, read, os_action='cannot read the namespaces')
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, namespaces=namespaces, orphan_holders=orphans)


if __name__ == '__main__':
    main()
