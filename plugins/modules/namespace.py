#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: namespace
short_description: Create, pin, attach and remove named Linux namespaces of any type
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Makes sure a named namespace is pinned (present) or unpinned (absent).
  - A pin is a bind mount of a namespace file (C(/proc/PID/ns/TYPE)) on a file in a pin directory; it keeps the
    namespace alive with no process inside. Network namespace pins live in C(/run/netns), so C(ip netns),
    C(nsenter --net=PATH) and C(lsns) see them.
  - Presence is decided by what the kernel reports about the path (an nsfs mount of the right namespace type,
    with its device and inode), never by the name alone. An empty file left behind by a crash (a stale pin) is
    repaired on C(state=present) and removed on C(state=absent), but only in a pin directory (see O(pin_dir)).
  - Anything else at the pin path that is not a pin is never touched. Outside the pin directories it belongs to
    another program (dpkg's lock, C(/etc/.pwd.lock)) - C(state=present) fails naming it, C(state=absent) leaves it
    alone with a warning and reports no change. Inside a pin directory both fail.
  - All eight namespace types are supported. Several types under one name are created by a single C(unshare),
    so they belong together like the namespaces of one container.
  - The module process itself never leaves its own namespaces; a helper child does the C(unshare).
  - Creation and removal are serialised per pin directory with C(flock), the lock C(ip netns add) takes too.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nsfd.namespaces.pin_dir
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  name:
    description:
      - Name of the namespace, the file name of its pin in each type's pin directory.
      - Must not be empty, C(.) or C(..), contain C(/), NUL or control characters, start with C(-), or exceed
        255 bytes. A numeric name is a name, never a process id.
      - Required unless O(path) is given; then it defaults to the file name of O(path).
    type: str
  type:
    description:
      - The namespace type, or a list of types pinned together under one name.
      - For C(pid), the module starts a minimal init (holder) process inside the new namespace, since a pid
        namespace dies with its first process; removal ends it.
      - The holder waits for the module's word that the namespaces are pinned; if the module dies first (killed,
        out of memory), the holder exits and takes the unpinned namespaces with it.
      - A holder of this name whose pid namespace is pinned nowhere (an orphan, as an interrupted older version
        left them) is ended by C(state=absent), and by C(state=present) when nothing else runs inside it.
    type: list
    elements: str
    choices: [net, uts, ipc, mnt, pid, user, cgroup, time]
    default: [net]
  state:
    description:
      - V(present) creates the namespace, or pins the one given by O(source_pid) or O(source_path).
      - V(absent) unmounts and removes the pins. The namespace itself lives on while processes are inside;
        their pids are returned as RV(pids_remaining). What it removes is decided again under the pin directory
        locks, so a create of the same name running at the same time leaves nothing half removed.
    type: str
    choices: [present, absent]
    default: present
  path:
    description:
      - Explicit path of the pin file, instead of O(name) in the pin directory. Only with a single type.
    type: path
  source_pid:
    description:
      - Pin the namespaces of this running process instead of creating new ones, like C(ip netns attach).
    type: int
  source_path:
    description:
      - Pin the namespace behind this path (another pin, or C(/proc/PID/ns/TYPE)) instead of creating one.
        Only with a single type.
    type: path
  force:
    description:
      - When the pin exists but holds another namespace than O(source_pid) or O(source_path), re-pin it to the
        source instead of failing.
      - When an existing namespace has other O(uid_map), O(gid_map) or O(time_offsets) than requested (they
        cannot change after creation), re-create it instead of failing.
      - When the path holds a pin of another namespace type, replace it.
    type: bool
    default: false
  hostname:
    description:
      - Host name inside the C(uts) namespace. Set at creation and corrected on later runs when it differs.
    type: str
  domainname:
    description:
      - NIS domain name inside the C(uts) namespace. Set at creation and corrected on later runs.
    type: str
  uid_map:
    description:
      - User id map of a new C(user) namespace, as lines C(inside outside count) or dicts with those keys.
      - Written before any process enters the namespace; an existing namespace with another map fails unless
        O(force=true).
      - Without a map the namespace has no mapped ids (like C(unshare --user) without C(--map-root-user)).
    type: list
    elements: raw
  gid_map:
    description:
      - Group id map of a new C(user) namespace, in the same form as O(uid_map).
    type: list
    elements: raw
  time_offsets:
    description:
      - Clock offsets of a new C(time) namespace, in seconds (may be negative or fractional), or as
        C("SECONDS NANOSECONDS"). Keys are C(monotonic) and C(boottime).
      - Written before any process enters the namespace; they cannot change later.
    type: dict
notes:
  - Needs root (C(CAP_SYS_ADMIN)); run the task with C(become=true) on hosts where Ansible connects as another user.
  - C(/run) is a tmpfs, so pins do not survive a reboot; re-run the task at boot to rebuild them.
  - A mount namespace is created private (like C(unshare --mount)), and copies of other pins are dropped from it so
    it does not keep other namespaces alive.
seealso:
  - module: nsfd.namespaces.namespace_info
  - name: ip-netns(8)
    description: The iproute2 tool whose pin conventions this module follows.
    link: https://man7.org/linux/man-pages/man8/ip-netns.8.html
  - name: namespaces(7)
    description: Overview of Linux namespaces.
    link: https://man7.org/linux/man-pages/man7/namespaces.7.html
'''

EXAMPLES = r'''
- name: Create the network namespace blue (seen by ip netns list)
  nsfd.namespaces.namespace:
    name: blue

- name: A virtual server - net, uts and ipc namespaces created together, with a hostname
  nsfd.namespaces.namespace:
    name: web1
    type: [net, uts, ipc]
    hostname: web1.example.net

- name: A pid namespace, kept alive by a minimal init process
  nsfd.namespaces.namespace:
    name: batch
    type: pid

- name: A user namespace mapping root inside to 100000 outside
  nsfd.namespaces.namespace:
    name: sandbox
    type: user
    uid_map: ["0 100000 65536"]
    gid_map:
      - inside: 0
        outside: 100000
        count: 65536

- name: A time namespace whose monotonic clock runs one day ahead
  nsfd.namespaces.namespace:
    name: tomorrow
    type: time
    time_offsets:
      monotonic: 86400

- name: Pin the network namespace of a running process, like ip netns attach
  nsfd.namespaces.namespace:
    name: app
    source_pid: "{{ app_pid }}"

- name: Pin a namespace given by a path somewhere else
  nsfd.namespaces.namespace:
    name: copy-of-blue
    source_path: /run/netns/blue

- name: Remove a namespace, and show who is still inside
  nsfd.namespaces.namespace:
    name: blue
    state: absent
  register: removed

- name: Report processes that keep it alive
  ansible.builtin.debug:
    msg: "Still inside: {{ removed.pids_remaining }}"
  when: removed.pids_remaining | length > 0

- name: End a pid namespace, and an orphan holder of that name left by an interrupted older run
  nsfd.namespaces.namespace:
    name: batch
    type: pid
    state: absent
'''

RETURN = r'''
pins:
  description:
    - One entry per namespace type. In check mode, pins that would be created have a null inode.
    - With O(state=absent), the pins as they were before removal.
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: The namespace type.
      type: str
      sample: net
    path:
      description: The pin path.
      type: str
      sample: /run/netns/blue
    inode:
      description: The namespace inode, as in C(ls -i), C(lsns) and C(readlink /proc/PID/ns/TYPE).
      type: int
      sample: 4026532281
    dev:
      description: The device number of the nsfs filesystem; with RV(pins[].inode) it identifies the namespace.
      type: int
      sample: 4
actions:
  description:
    - What was done, or in check mode what would be done, in words.
    - Includes ending orphan holders of this name (pid namespaces pinned nowhere), with their pids.
  returned: always
  type: list
  elements: str
  sample: ["create net namespace and pin it at /run/netns/blue"]
pids_remaining:
  description:
    - Processes still inside the removed namespaces, which keep them alive until they exit.
  returned: when O(state=absent)
  type: list
  elements: int
  sample: [4242]
'''

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPE_NAMES
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import run
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec as spec_util


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str'),
            type=dict(type='list', elements='str', choices=TYPE_NAMES, default=['net']),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            pin_dir=dict(type='path'),
            path=dict(type='path'),
            source_pid=dict(type='int'),
            source_path=dict(type='path'),
            force=dict(type='bool', default=False),
            hostname=dict(type='str'),
            domainname=dict(type='str'),
            uid_map=dict(type='list', elements='raw'),
            gid_map=dict(type='list', elements='raw'),
            time_offsets=dict(type='dict'),
        ),
        # name or path, and which options exclude each other: pins/spec.py says, for every caller
        supports_check_mode=True,
    )
    params = module.params

    def operation() -> engine.Result:
        present = params['state'] == 'present'
        if not present and (params['source_pid'] is not None or params['source_path'] is not None):
            raise NamespaceError('source_pid and source_path only apply to state=present')
        # what a namespace is created with: state=absent takes none of it
        created = ('hostname', 'domainname', 'uid_map', 'gid_map', 'time_offsets')
        located = ('name', 'pin_dir', 'path', 'source_pid', 'source_path', 'force')
        options: dict[str, Any] = {key: params[key] for key in located}
        options.update((key, params[key] if present else None) for key in created)
        spec = spec_util.build(types=params['type'], **options)
        if present:
            return engine.ensure_present(spec, check_mode=module.check_mode)
        return engine.ensure_absent(spec, check_mode=module.check_mode)

    run(module, operation)


if __name__ == '__main__':
    main()
