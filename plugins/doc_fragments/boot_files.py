# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment(object):
    # The boot file options: netns_persist takes them at its top level
    # (DOCUMENTATION), netns_config as the suboptions of `boot` (BOOT_OPTION).
    # Fragments must be literal strings (ansible-test reads them without
    # running them), so the two blocks sit side by side here and
    # tests/unit/plugins/doc_fragments/test_boot_files.py keeps them equal to
    # each other and to the argument spec in module_utils/boot/persist.py.
    DOCUMENTATION = r'''
options:
  state:
    description:
      - V(absent) disables the unit and removes it and the boot files. The namespaces themselves are left alone.
    type: str
    choices: [present, absent]
    default: present
  boot_dir:
    description: Directory of C(host.batch) and C(namespaces.sh).
    type: path
    default: /etc/nsfd-netns
  unit_dir:
    description: Directory of the systemd unit.
    type: path
    default: /etc/systemd/system
  unit_name:
    description: File name of the systemd unit.
    type: str
    default: nsfd-netns.service
  ip_command:
    description: Absolute path of C(ip) (iproute2) on the host.
    type: path
    default: /usr/sbin/ip
  sysctl_command:
    description: Absolute path of C(sysctl) (procps) on the host.
    type: path
    default: /usr/sbin/sysctl
  wanted_by:
    description: Targets that pull the unit in (the C(WantedBy=) of its C([Install]) section).
    type: list
    elements: str
    default: [multi-user.target, network-online.target]
'''

    BOOT_OPTION = r'''
options:
  boot:
    description:
      - Also write (or remove) the files that rebuild the declared namespaces at boot without Ansible, exactly as
        M(nsfd.namespaces.netns_persist) does with the same options, in this one module call.
      - They are written before any namespace is touched, so a name that cannot go into them fails the task with
        nothing changed.
      - Omitted, boot files are left as they are.
    type: dict
    suboptions:

      state:
        description:
          - V(absent) disables the unit and removes it and the boot files. The namespaces themselves are left alone.
        type: str
        choices: [present, absent]
        default: present
      boot_dir:
        description: Directory of C(host.batch) and C(namespaces.sh).
        type: path
        default: /etc/nsfd-netns
      unit_dir:
        description: Directory of the systemd unit.
        type: path
        default: /etc/systemd/system
      unit_name:
        description: File name of the systemd unit.
        type: str
        default: nsfd-netns.service
      ip_command:
        description: Absolute path of C(ip) (iproute2) on the host.
        type: path
        default: /usr/sbin/ip
      sysctl_command:
        description: Absolute path of C(sysctl) (procps) on the host.
        type: path
        default: /usr/sbin/sysctl
      wanted_by:
        description: Targets that pull the unit in (the C(WantedBy=) of its C([Install]) section).
        type: list
        elements: str
        default: [multi-user.target, network-online.target]
'''
