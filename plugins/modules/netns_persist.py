#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netns_persist
short_description: Make declared network namespaces come back after a reboot, without Ansible
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - C(/run) is a tmpfs, so a reboot removes every namespace pin and with it every network namespace and the links
    inside. From the same declaration as M(nsfd.namespaces.netns_config), this module writes what rebuilds them at
    boot with iproute2 alone.
  - C(BOOT_DIR/namespaces.sh), a POSIX shell script that adds the namespaces and their nsids, creates the links
    that cross into them (veth pairs to the host or between namespaces, vlan, macvlan and ipvlan links on host
    parents, physical links moved in, vxlan links whose tunnel socket stays on the host) with the settings of the
    host ends, and then per namespace its bridges and dummies, one C(ip -n NAME -force -batch) (lo, MTU, MAC,
    masters, addresses, link state, routes), the C(fdb) entries of its vxlan links with C(bridge -n NAME fdb
    append) (or C(replace) for a unicast MAC), and its sysctls with C(ip netns exec NAME sysctl -w).
  - The script converges rather than replays, so it can run again at any time (a restart of the unit, a boot where
    some namespaces exist already). A namespace, nsid or link is added only when missing, a stale pin (a file under
    C(/run/netns) with no namespace mounted on it) is replaced, addresses and routes use C(replace). Every item is
    attempted even when an earlier one fails, and the exit status is non-zero when any did not converge; the
    failures are logged on stderr (the journal), starting with C(nsfd-netns:).
  - A oneshot systemd unit, ordered before C(network-pre.target) and C(network-online.target), whose C(ExecStart)
    runs that script (it can be run by hand), enabled with symlinks in the C(.wants) directories of O(wanted_by),
    which is what C(systemctl enable) does; this also works while systemd is not running (an image build, a
    container).
  - A C(BOOT_DIR/host.batch) written by earlier versions is removed when the files are written again.
  - An existing unit or boot file that this module did not write is never overwritten or removed.
  - C(/etc/netns/NAME/) files are not rewritten at boot; they are on disk already.
  - Only namespaces declared with C(state=present) (the default) are persisted. Nothing is created or changed in the
    namespaces themselves; that is M(nsfd.namespaces.netns_config)'s job, which can also write these files in the
    same call (O(nsfd.namespaces.netns_config#module:boot)), as the P(nsfd.namespaces.netns#role) role does.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nsfd.namespaces.boot_files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows each boot file before and after.
  platform:
    platforms: posix
options:
  namespaces:
    description:
      - The declaration, exactly as given to O(nsfd.namespaces.netns_config#module:namespaces), validated the same way.
      - Namespace names, interface names and route devices must consist of letters, digits and C(_.@+-) and not start
        with C(-), since they go into iproute2 batch lines of a shell script; anything else fails before any change.
      - Required when O(state=present).
    type: list
    elements: dict
notes:
  - Run C(systemctl daemon-reload) after a change when systemd is running; RV(systemd_running) says whether it is.
seealso:
  - module: nsfd.namespaces.netns_config
'''

EXAMPLES = r'''
- name: Rebuild tenant-a and its veth to the host at every boot
  nsfd.namespaces.netns_persist:
    namespaces:
      - name: tenant-a
        links:
          - name: eth0
            kind: veth
            addresses: [10.200.1.2/24]
            peer: {name: ta-host, addresses: [10.200.1.1/24]}
        routes:
          - {dst: default, via: 10.200.1.1}
        sysctls:
          net.ipv4.ip_forward: 1
  register: boot

- name: Tell a running systemd
  ansible.builtin.systemd_service:
    daemon_reload: true
  when: boot.changed and boot.systemd_running

- name: Stop rebuilding them at boot
  nsfd.namespaces.netns_persist:
    state: absent
'''

RETURN = r'''
changes:
  description: What was (in check mode, would be) written, enabled or removed, in words.
  returned: always
  type: list
  elements: str
  sample:
    - write /etc/nsfd-netns/namespaces.sh
    - "enable nsfd-netns.service: link /etc/systemd/system/multi-user.target.wants/nsfd-netns.service"
files:
  description: The paths written, linked or removed.
  returned: always
  type: list
  elements: str
unit:
  description: Path of the systemd unit.
  returned: always
  type: str
  sample: /etc/systemd/system/nsfd-netns.service
systemd_running:
  description:
    Whether systemd runs on the host (C(/run/systemd/system) exists), so a daemon-reload is due after a change.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import persist
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import call_or_fail


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(namespaces=dict(type='list', elements='dict'), **persist.OPTION_SPEC),
        required_if=[('state', 'present', ['namespaces'])],
        supports_check_mode=True,
    )
    output = call_or_fail(
        module,
        lambda: persist.apply(
            module.params['namespaces'], module.params, check_mode=module.check_mode, diff=module._diff
        ),
        os_action='cannot write the boot files',
    )
    module.exit_json(**output)


if __name__ == '__main__':
    main()
