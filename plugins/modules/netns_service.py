#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netns_service
short_description: Run an existing systemd service inside a pinned network namespace, across reboots
version_added: 0.2.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Writes the drop-in C(UNIT_DIR/UNIT.d/50-nsfd-netns.conf) that makes systemd start O(unit) inside the network
    namespace pinned at C(PIN_DIR/NAMESPACE), the way C(ip netns exec NAMESPACE) runs a command, and removes it again
    with O(state=absent). The unit's own files are never changed.
  - C(NetworkNamespacePath=) joins the pin. systemd opens it when the service starts, and /run is empty after a
    reboot, so the drop-in also has C(Requires=) and C(After=) on O(boot_unit), the unit that rebuilds the pins at boot
    (the one M(nsfd.namespaces.netns_persist) and the P(nsfd.namespaces.netns#role) role write).
  - systemd applies no C(/etc/netns/NAMESPACE) file to a service that joins a namespace (systemd issue 28694), while
    C(ip netns exec) binds each of them over its C(/etc) counterpart. The drop-in does the same with one
    C(BindReadOnlyPaths=) line (C(BindPaths=) with O(writable_etc=true)) per entry of C(/etc/netns/NAMESPACE) present
    when the module runs. A file added there later needs another run (the P(nsfd.namespaces.netns#role) role runs it
    after writing the files); a file removed later is skipped when the service starts (each line begins with C(-)).
  - Refused before anything is written, with a message that says what to do, are the cases that cannot work,
    a unit that does not exist or is masked, a unit with C(PrivateNetwork=yes) (it would get a namespace of its own
    with only C(lo)), a drop-in applied after this one (a later name) that sets another C(NetworkNamespacePath=),
    a missing or stale pin (unless O(require_pin=false)), O(unit) equal to O(boot_unit), and names or paths that
    systemd would not take literally.
  - A drop-in of the same name that this module did not write (its first lines lack the "Managed by nsfd.namespaces"
    header) is neither overwritten nor removed.
  - After a change, and while systemd runs, C(systemctl daemon-reload) follows (systemd only sees a drop-in after
    one). It also follows when systemd has not loaded the drop-in as it is on disk (a run killed before its
    reload, or O(daemon_reload=false) earlier). The service itself is restarted only with O(restart=true).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the drop-in before and after.
  platform:
    platforms: posix
options:
  unit:
    description:
      - The service, for example C(unbound.service) or an instance C(openvpn-client@work.service). It must exist.
    type: str
    required: true
  namespace:
    description:
      - Name of the network namespace (its pin is C(PIN_DIR/NAMESPACE)); letters, digits and C(_.@+-), not starting
        with C(-).
    type: str
    required: true
  state:
    description:
      - V(present) writes or updates the drop-in, V(absent) removes it (only the one this module wrote).
    type: str
    choices: [present, absent]
    default: present
  pin_dir:
    description:
      - Directory of the network namespace pins; C(ip netns) and the boot unit use C(/run/netns).
    type: path
    default: /run/netns
  require_pin:
    description:
      - With O(state=present), fail unless the pin is a live network namespace now.
      - Set V(false) when the namespace only comes with the next boot (an image build); the service then fails to
        start until it exists.
    type: bool
    default: true
  boot_unit:
    description:
      - The unit that creates the pins at boot, which the service C(Requires=) and starts C(After=).
      - The empty string means none (the namespace is made some other way, and ordering is up to you).
    type: str
    default: nsfd-netns.service
  bind_etc:
    description:
      - Bind the entries of C(ETC_DIR/NAMESPACE) over C(/etc), as C(ip netns exec) does.
    type: bool
    default: true
  writable_etc:
    description:
      - Bind them writable (C(BindPaths=)) instead of read-only (C(BindReadOnlyPaths=)).
    type: bool
    default: false
  etc_dir:
    description:
      - Where the per-namespace files live (iproute2's convention is C(/etc/netns)).
    type: path
    default: /etc/netns
  unit_dir:
    description:
      - Directory of the drop-in directory C(UNIT.d). Also searched first for the unit when systemd is not running.
    type: path
    default: /etc/systemd/system
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) after the drop-in changed, while systemd runs.
    type: bool
    default: true
  restart:
    description:
      - Restart the service (O(state=present), also starting it when it was stopped) when the drop-in changed or when
        its main process runs outside the namespace (started before, or the namespace was made anew since).
      - With O(state=present), also start it when it should run and does not, by systemd's own rule, it is enabled
        but inactive, or it has failed (a restart that failed earlier leaves it so; the next run starts it again
        instead of reporting nothing to do). A stopped service that is not enabled is left stopped.
      - With O(state=absent), restart it when it runs and the drop-in was removed (C(systemctl try-restart)); a unit
        that no longer exists is left alone.
      - Only while systemd runs. Needs O(daemon_reload=true) (systemd restarts a service from the unit it loaded).
    type: bool
    default: false
notes:
  - Needs systemd 242 or later (C(NetworkNamespacePath=)).
  - The service gets a mount namespace of its own for the bind mounts (systemd 254 and later imply one with
    C(NetworkNamespacePath=) anyway), so mounts it makes are not seen by the host. The pins are made by the boot
    unit in the host's mount namespace, so they stay visible to C(ip netns) and to other services.
  - C(JoinsNamespaceOf=) is not used on purpose, it shares the network namespace of another unit but never its
    mount namespace, so no C(/etc/netns) file would apply.
  - When systemd is not running, the unit's files (O(unit_dir), then systemd's search path C(/etc/systemd/system),
    C(/run/systemd/system), C(/usr/local/lib/systemd/system), C(/usr/lib/systemd/system), C(/lib/systemd/system)) are
    read to find the unit and its C(PrivateNetwork=); RV(unit_source) says which way was used. Its drop-ins are read
    there as systemd reads them (systemd.unit(5)), from C(UNIT.d/), the template's C(NAME@.service.d/), each
    dash-prefix directory (C(web-.service.d/) for C(web-app.service)) and C(service.d/), a file hiding one of the same
    name in a lower-priority directory or a less specific one, and applied in name order. The same drop-ins are
    checked for a later C(NetworkNamespacePath=) also while systemd runs.
  - The P(nsfd.namespaces.netns#role) role runs this module for the C(services) of each declared namespace.
seealso:
  - module: nsfd.namespaces.netns_config
  - module: nsfd.namespaces.netns_persist
  - ref: ansible_collections.nsfd.namespaces.docsite.services
    description: Run a service inside a namespace, with the netns role or this module.
'''

EXAMPLES = r'''
- name: Run unbound inside tenant-a, with tenant-a's /etc/netns files, now and after every boot
  nsfd.namespaces.netns_service:
    unit: unbound.service
    namespace: tenant-a
    restart: true

- name: A service inside a namespace that a unit of your own creates
  nsfd.namespaces.netns_service:
    unit: wg-client.service
    namespace: vpn
    boot_unit: netns-vpn.service

- name: Back into the host's network namespace
  nsfd.namespaces.netns_service:
    unit: unbound.service
    namespace: tenant-a
    state: absent
    restart: true
'''

RETURN = r'''
dropin:
  description: Path of the drop-in.
  returned: always
  type: str
  sample: /etc/systemd/system/unbound.service.d/50-nsfd-netns.conf
pin:
  description: The pin the service joins.
  returned: always
  type: str
  sample: /run/netns/tenant-a
etc_files:
  description: The entries of C(ETC_DIR/NAMESPACE) the drop-in binds over C(/etc).
  returned: always
  type: list
  elements: str
  sample: [resolv.conf]
changes:
  description: What was (in check mode, would be) written, removed, reloaded or restarted, in words.
  returned: always
  type: list
  elements: str
  sample: ["write /etc/systemd/system/unbound.service.d/50-nsfd-netns.conf", "systemctl daemon-reload"]
systemd_running:
  description: Whether systemd runs on the host (C(/run/systemd/system) exists).
  returned: always
  type: bool
unit_source:
  description: How the unit was checked, C(systemctl) (systemd's effective properties) or C(unit files).
  returned: when O(state=present)
  type: str
  sample: systemctl
daemon_reloaded:
  description: Whether C(systemctl daemon-reload) ran.
  returned: always
  type: bool
restarted:
  description: Whether the service was restarted.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import service
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import call_or_fail


def main() -> None:
    module = AnsibleModule(argument_spec=service.OPTION_SPEC, supports_check_mode=True)
    output = call_or_fail(
        module,
        lambda: service.apply(module.params, check_mode=module.check_mode, diff=module._diff),
        os_action='cannot write the drop-in',
    )
    module.exit_json(**output)


if __name__ == '__main__':
    main()
