#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: namespace_host
short_description: Start, reboot and remove namespace hosts (light containers made of pinned namespaces)
version_added: 0.2.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Makes a named I(namespace host) on the machine the task runs on, an init process that is pid 1 of its own pid
    namespace, in new mnt, uts, ipc, pid, net and cgroup namespaces, with a hostname, a private C(/run) and C(/tmp),
    its own C(/proc) and C(/sys), and either copy-on-write C(/etc) and C(/var) over the machine's own root
    (O(root=overlay)) or a distribution root tree (O(root) a path), entered with C(pivot_root).
  - Its namespaces are pinned by name in the default pin directories (C(/run/netns/NAME), C(/run/utsns/NAME),
    C(/run/ipcns/NAME), C(/run/mntns/NAME), C(/run/pidns/NAME), C(/run/cgroupns/NAME)), so C(ip netns),
    C(lsns), M(nsfd.namespaces.namespace_info), C(nsenter --net=/run/netns/NAME) and the
    P(nsfd.namespaces.nsenter#connection) connection plugin reach it.
  - The init runs in a session of its own and outlives the task. Everything started inside dies with it.
  - With O(lab), the host is cabled by a veth pair to a bridge in a lab network namespace (never the machine's own
    network namespace). O(lab.interface) inside the host gets O(lab.address); the bridge gets the subnet's last usable
    address (or O(lab.gateway)). The lab end of the pair is C(lab-) + the first 11 hex digits of the SHA-256 of the
    host's name (distinct for any two names, and within the 15 bytes of an interface name), with the alias
    C(nsfd.namespaces lab end); a link of that name without the alias, or no veth, is never deleted or taken for it.
  - O(lab.interface) has a locally administered MAC address derived from the lab's and the host's names, the same
    after O(state=rebooted), as a machine keeps its MAC; the lab end and a bridge the module creates have one too.
  - A lab is never the network namespace of a host (of any O(data_dir)); a O(lab.name) whose name also pins a uts, mnt
    or pid namespace is refused.
  - Runs on one lab are serialised, whatever their O(data_dir), by C(flock) on C(/run/nsfd-labs/LAB.lock); the address
    checks, the links made or removed and the removal of the lab after its last host do not interleave.
  - The host's record (O(data_dir)/NAME/host.json) holds the init's pid and its start time (so a reused pid is never
    taken for the host), the root, the address and the pins; the copy-on-write layers live beside it.
  - Idempotent. A second O(state=started) changes nothing. A host whose init is gone (killed) is started again, with
    its files, and reported as changed. A hostname changed inside the running host is set back (changed, same
    init). A host running with another O(hostname), O(root) or O(lab) than the task asks for fails with the
    difference; O(state=rebooted) applies it.
  - A run killed half-way (C(kill -9)), or a host directory in O(data_dir) removed by hand, leaves nothing the next
    run cannot take back - the host's record is written before its init starts, and an init of the host that no
    record holds (its marker, name and O(data_dir) on its command line, and its pins or the record's nonce in its
    environment) is ended on restart and on O(state=absent). An init of the same name and O(data_dir) path in
    another mount namespace (another container's own C(/var)) is not touched.
  - Bad names, a name already pinned by a namespace that is not a host, a lab address another host of O(data_dir) has
    or outside the lab's subnet, and a O(root) that is no root tree fail before anything is changed. A new host that
    fails half-way (a mount its init cannot make) is removed again completely, and the error quotes what failed.
  - The module removes only what it can prove it made. A host directory (O(data_dir)/NAME) is the host's when it holds
    the record C(host.json) or the marker C(.nsfd-host), which the module writes first thing when it makes the
    directory (or takes an empty one); O(state=absent) removes only the record, the marker and the copy-on-write
    layers there, and leaves, with a warning, whatever else someone put beside them. A non-empty directory of that
    name without either file is someone else's; O(state=started) fails naming it and O(state=absent) leaves it alone
    (no change, a warning).
  - A pin is the host's when it holds the namespace whose device and inode the record kept when the module pinned it
    (in this boot), or a namespace of a running init of the host. A namespace someone else pinned under the host's
    name (C(ip netns add NAME) after the host's init died) is never removed; O(state=started) fails saying the name
    is taken and O(state=absent) removes the rest of the host and leaves that pin, with a warning.
  - A damaged record (truncated, not JSON) makes O(state=started) fail and asks for O(state=absent), which ends the
    host's init (found by its command line), unpins the pins holding that init's namespaces, deletes its lab end,
    removes the lab when no host is left on it, and removes the module's files. Other hosts' damaged records do not
    fail a run of this host; M(nsfd.namespaces.namespace_host_info) lists them as damaged.
  - An error of the machine (a read-only or full filesystem, a path that is no directory) fails the task with a
    message naming the host, the path and the errno, never with a traceback.
  - Needs root. O(lab) needs the Python library C(pyroute2) on the machine; the init needs C(/bin/sh) and
    util-linux C(mount), C(pivot_root) and C(umount) there.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Plans from what the machine shows and changes nothing.
  diff_mode:
    support: full
    details: The host before and after, as in RV(host).
  platform:
    platforms: posix
options:
  name:
    description:
      - The host's name, used for its pins, its record and, by default, its hostname.
      - 1 to 64 letters, digits, C(-) and C(.), starting and ending with a letter or digit (a valid pin name and
        hostname).
    type: str
    required: true
  state:
    description:
      - V(started) starts the host when it is not running (a killed init is started again) and pins and cables it.
      - V(rebooted) always changes; it kills the init and everything inside and starts the host again with its
        persistent files (the copy-on-write layers in O(data_dir)) and the task's settings; a new pid.
      - V(absent) leaves nothing of the host behind (no process, lab end, mount, pin or file it made); the lab
        network namespace goes too when no host is cabled to it any more. What the module cannot prove it made (see
        the description) stays, with a warning.
    type: str
    choices: [started, rebooted, absent]
    default: started
  hostname:
    description:
      - The host's hostname (its uts namespace). Default is O(name).
    type: str
  root:
    description:
      - V(overlay) is the machine's own root with copy-on-write C(/etc) and C(/var).
      - The kernel stacks at most two overlayfs levels. Where the machine's C(/etc) or C(/var) is an overlay over an
        overlay already (a sandbox inside a container) and laid over the same directory, as sandboxes do, the host's
        layers go over that overlay's own layers instead (the same files, one level less deep); otherwise the start
        fails saying so, and a O(root) tree on a filesystem that is not overlayfs works at any depth.
      - An absolute path is a distribution root tree (it must hold C(/usr/bin) and C(/etc)), for example the stock
        Debian tree C(scripts/debian-root) builds. It is the read-only lower layer of an overlay whose upper layer is
        kept in O(data_dir), so the whole root survives O(state=rebooted) and the tree itself is never written.
      - Neither O(root) nor O(data_dir) may contain C(,), C(:) or a backslash (overlayfs separators in its mount
        options).
    type: str
    default: overlay
  data_dir:
    description:
      - Where the hosts' persistent files live, one directory per host (O(data_dir)/NAME), kept across
        O(state=rebooted), removed by O(state=absent).
      - It must be on a filesystem overlayfs takes as an upper layer (ext4, xfs, btrfs, tmpfs; not overlayfs itself).
      - It must be a directory of its own. It is judged once resolved (C(//), C(.), C(..) and symlinks), and refused
        when it is a system directory (C(/), C(/etc), C(/var), C(/var/lib), C(/home), C(/root), C(/boot), C(/tmp),
        C(/run), C(/opt), C(/srv) and the like), lies in C(/usr), C(/etc), C(/proc), C(/sys), C(/dev), a pin
        directory (C(/run/netns) and its kin) or C(/run/nsfd-labs), or is on a kernel filesystem (proc, sysfs,
        cgroupfs, nsfs and the like). The host's record and pins name the resolved path.
    type: path
    default: /var/lib/nsfd-hosts
  shared_paths:
    description:
      - Directories of the machine bound into the host at the same path, for what the host must see although its
        own C(/tmp) and C(/run) (or its distribution root) hide it, such as a controller's virtualenv or a checkout
        under C(/tmp) used as C(ansible_python_interpreter).
      - They are writable, like the machine's own C(/usr) or C(/root) an overlay host shares (a write there is a
        write on the machine).
      - Absolute paths of existing directories; not C(/), C(/run), C(/tmp), C(/etc), C(/var), O(data_dir) or
        anything of C(/proc), C(/sys) and C(/dev).
      - Each is judged and bound once resolved (C(//etc), C(/./etc) and a symlink to C(/etc) are C(/etc)).
      - With a distribution O(root), the mount points are made inside the host's root (a symlink of the tree leads
        inside it, never onto the machine); a path the host cannot see once bound fails the start.
      - They are bound when the host starts; a change of the list needs O(state=rebooted).
    type: list
    elements: path
    default: []
  lab:
    description:
      - Cable the host to a lab bridge. Without it, the host has no network but C(lo).
    type: dict
    suboptions:
      name:
        description:
          - The lab network namespace, pinned at C(/run/netns/NAME) on the machine, created when missing.
          - When the last host of the lab is removed, the lab namespace goes only if this module created it (a
            network namespace that already existed stays, with only the bridge removed when this module made it).
        type: str
        default: nsfd-lab
      bridge:
        description:
          - The bridge in the lab namespace.
          - An interface name (1 to 15 bytes, no C(/), C(:) or blanks), not C(all), C(default) or C(lo), which the
            kernel keeps for itself; the same holds for O(lab.interface).
        type: str
        default: labbr0
      address:
        description:
          - The host's address with the prefix length of the lab subnet, such as V(10.77.0.1/24).
          - A unicast address without a scope (C(%eth0)); multicast, loopback and unspecified addresses are refused.
          - It must be a usable address of the subnet, not an address the lab bridge has, not another host's of
            O(data_dir) or of a running host of another data directory cabled to the same lab, and in the subnet
            the lab bridge already has.
        type: str
        required: true
      interface:
        description:
          - The host's end of the veth pair, inside the host.
        type: str
        default: eth0
      gateway:
        description:
          - The bridge's address in the lab subnet. Default is the subnet's last usable address (C(.254) in a C(/24)).
          - Without a prefix length, or with the one of O(lab.address); another is refused, never changed.
          - It must not be the address of another host of O(data_dir) in the lab.
        type: str
seealso:
  - module: nsfd.namespaces.namespace_host_info
  - plugin: nsfd.namespaces.nsenter
    plugin_type: connection
notes:
  - All hosts share the machine's kernel; kernel modules, sysctls outside the host's namespaces and the kernel
    version are the machine's.
'''

EXAMPLES = r'''
- name: A host over the machine's own root, on the lab nsfd-lab
  nsfd.namespaces.namespace_host:
    name: web1
    lab:
      address: 10.77.0.1/24

- name: Another one on the same lab (10.77.0.1 and 10.77.0.2 ping each other)
  nsfd.namespaces.namespace_host:
    name: web2
    lab:
      address: 10.77.0.2/24

- name: A host with its own Debian root
  nsfd.namespaces.namespace_host:
    name: deb1
    root: /var/cache/nsfd/debian-bookworm
    lab:
      name: nsfd-lab
      address: 10.77.0.11/24

- name: Reboot it (its files stay, every process starts anew)
  nsfd.namespaces.namespace_host:
    name: deb1
    root: /var/cache/nsfd/debian-bookworm
    lab:
      address: 10.77.0.11/24
    state: rebooted

- name: Remove it
  nsfd.namespaces.namespace_host:
    name: deb1
    state: absent
'''

RETURN = r'''
host:
  description:
    - The host. In check mode, what it would be (RV(host.pid) null when it would be started).
    - Null after O(state=absent).
  returned: success
  type: dict
  contains:
    name:
      description: The host's name.
      type: str
      sample: web1
    hostname:
      description: Its hostname.
      type: str
      sample: web1
    pid:
      description: The pid of its init, as the machine sees it.
      type: int
      sample: 4242
    root:
      description: V(overlay) or the distribution root tree.
      type: str
      sample: overlay
    data_dir:
      description: Where its persistent files are (in a directory named after it).
      type: str
      sample: /var/lib/nsfd-hosts
    shared_paths:
      description: The machine's directories bound into it.
      type: list
      elements: str
      sample: [/tmp/checkout/.venv]
    address:
      description: Its lab address with prefix length, or null without a lab.
      type: str
      sample: 10.77.0.1/24
    interface:
      description: Its lab interface, or null without a lab.
      type: str
      sample: eth0
    lab:
      description: The lab settings (name, bridge, address, interface, gateway), or null.
      type: dict
      sample: {name: nsfd-lab, bridge: labbr0, address: 10.77.0.1/24, interface: eth0, gateway: 10.77.0.254/24}
    pins:
      description: The pin path of each of its namespaces, by type.
      type: dict
      sample: {mnt: /run/mntns/web1, uts: /run/utsns/web1, ipc: /run/ipcns/web1, net: /run/netns/web1,
               pid: /run/pidns/web1, cgroup: /run/cgroupns/web1}
    running:
      description: Whether its init runs.
      type: bool
      sample: true
actions:
  description: What was done (or, in check mode, would be done).
  returned: always
  type: list
  elements: str
  sample: ['start the init of host web1 (overlay root)', 'pin its namespaces at /run/cgroupns/web1, ...']
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import run


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', choices=list(spec.STATES), default='started'),
            hostname=dict(type='str'),
            root=dict(type='str', default=spec.OVERLAY),
            data_dir=dict(type='path', default=spec.DEFAULT_DATA_DIR),
            shared_paths=dict(type='list', elements='path', default=[]),
            lab=dict(
                type='dict',
                options=dict(
                    name=dict(type='str', default=spec.DEFAULT_LAB),
                    bridge=dict(type='str', default=spec.DEFAULT_BRIDGE),
                    address=dict(type='str', required=True),
                    interface=dict(type='str', default=spec.DEFAULT_INTERFACE),
                    gateway=dict(type='str'),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run(
        module,
        lambda: engine.converge(
            # every option of the module is a keyword of spec.build()
            spec.build(**{key: params[key] for key in module.argument_spec}),
            check_mode=module.check_mode,
        ),
    )


if __name__ == '__main__':
    main()
