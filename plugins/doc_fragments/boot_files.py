# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


from __future__ import annotations


class ModuleDocFragment:
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
    description:
      - Directory of C(namespaces.sh).
      - An absolute, normalised path (no C(//), C(/./), C(/../) or trailing C(/)), not C(/), of letters, digits and
        C(/_.+@:,-) only, since the unit's C(ExecStart=) names it and systemd would expand C(%) and C($), unescape
        C(\) and split at blanks and quotes. Anything else fails before any change, in both states.
    type: path
    default: /etc/nsfd-netns
  unit_dir:
    description:
      - Directory of the systemd unit.
      - An absolute, normalised path without control characters, not C(/).
    type: path
    default: /etc/systemd/system
  unit_name:
    description:
      - File name of the systemd unit, following systemd's unit name rules, checked before any change in both states.
      - It ends in C(.service), has at most 255 characters, letters, digits and C(:_.\-) and at most one C(@)
        followed by an instance (C(name@instance.service); a template C(name@.service) is refused). No C(/), so the
        unit stays in C(unit_dir).
      - An existing file of that name that this collection did not write (its first lines lack the C(Managed by
        nsfd.namespaces) header) is neither overwritten nor removed; the task fails instead.
    type: str
    default: nsfd-netns.service
  ip_command:
    description:
      - Absolute, normalised path of C(ip) (iproute2) on the host, without control characters.
      - It only goes into C(namespaces.sh), quoted for sh.
      - Unset (or empty), C(namespaces.sh) finds C(ip) as sh does (C(command -v)) with
        C(PATH=/usr/sbin:/usr/bin:/sbin:/bin), so a merged C(/usr) (C(/usr/sbin/ip)) and Debian 11's unmerged one
        (C(/bin/ip)) both work.
      - C(bridge) (iproute2), which adds the C(fdb) entries of vxlan links, is run from the same directory when it is
        there, otherwise found in that C(PATH) (Debian has C(/bin/ip) but C(/sbin/bridge)).
      - When the boot files are written (C(state=present)), the task fails, naming the option and the path, with
        nothing written, when the configured program is no executable file on the host, or an unset one (and
        C(bridge) when vxlan C(fdb) entries are declared) is not in that C(PATH).
    type: path
  sysctl_command:
    description:
      - Absolute, normalised path of C(sysctl) (procps) on the host, without control characters.
      - It only goes into C(namespaces.sh), quoted for sh.
      - Unset (or empty), found like C(ip_command) (C(/usr/sbin/sysctl), or C(/sbin/sysctl) on Debian 11), and
        checked the same way when the declaration sets sysctls; a configured one is always checked.
    type: path
  wanted_by:
    description:
      - Targets (or services) that pull the unit in (the C(WantedBy=) of its C([Install]) section); the unit is
        enabled with a link in each one's C(.wants) directory under C(unit_dir).
      - Each is a systemd unit name ending in C(.target) or C(.service), by the same rules as C(unit_name), so no
        C(/), blank or control character can move a link out of C(unit_dir) or add a line to the unit.
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
      - The boot script pins in C(/run/netns), as iproute2 does, so with O(boot.state=present) a O(pin_dir) other
        than C(/run/netns) is refused before anything is written.
    type: dict
    suboptions:

      state:
        description:
          - V(absent) disables the unit and removes it and the boot files. The namespaces themselves are left alone.
        type: str
        choices: [present, absent]
        default: present
      boot_dir:
        description:
          - Directory of C(namespaces.sh).
          - An absolute, normalised path (no C(//), C(/./), C(/../) or trailing C(/)), not C(/), of letters, digits and
            C(/_.+@:,-) only, since the unit's C(ExecStart=) names it and systemd would expand C(%) and C($), unescape
            C(\) and split at blanks and quotes. Anything else fails before any change, in both states.
        type: path
        default: /etc/nsfd-netns
      unit_dir:
        description:
          - Directory of the systemd unit.
          - An absolute, normalised path without control characters, not C(/).
        type: path
        default: /etc/systemd/system
      unit_name:
        description:
          - File name of the systemd unit, following systemd's unit name rules, checked before any change in both
            states.
          - It ends in C(.service), has at most 255 characters, letters, digits and C(:_.\-) and at most one C(@)
            followed by an instance (C(name@instance.service); a template C(name@.service) is refused). No C(/), so the
            unit stays in C(unit_dir).
          - An existing file of that name that this collection did not write (its first lines lack the C(Managed by
            nsfd.namespaces) header) is neither overwritten nor removed; the task fails instead.
        type: str
        default: nsfd-netns.service
      ip_command:
        description:
          - Absolute, normalised path of C(ip) (iproute2) on the host, without control characters.
          - It only goes into C(namespaces.sh), quoted for sh.
          - Unset (or empty), C(namespaces.sh) finds C(ip) as sh does (C(command -v)) with
            C(PATH=/usr/sbin:/usr/bin:/sbin:/bin), so a merged C(/usr) (C(/usr/sbin/ip)) and Debian 11's unmerged one
            (C(/bin/ip)) both work.
          - C(bridge) (iproute2), which adds the C(fdb) entries of vxlan links, is run from the same directory when it
            is there, otherwise found in that C(PATH) (Debian has C(/bin/ip) but C(/sbin/bridge)).
          - When the boot files are written (C(state=present)), the task fails, naming the option and the path, with
            nothing written, when the configured program is no executable file on the host, or an unset one (and
            C(bridge) when vxlan C(fdb) entries are declared) is not in that C(PATH).
        type: path
      sysctl_command:
        description:
          - Absolute, normalised path of C(sysctl) (procps) on the host, without control characters.
          - It only goes into C(namespaces.sh), quoted for sh.
          - Unset (or empty), found like C(ip_command) (C(/usr/sbin/sysctl), or C(/sbin/sysctl) on Debian 11), and
            checked the same way when the declaration sets sysctls; a configured one is always checked.
        type: path
      wanted_by:
        description:
          - Targets (or services) that pull the unit in (the C(WantedBy=) of its C([Install]) section); the unit is
            enabled with a link in each one's C(.wants) directory under C(unit_dir).
          - Each is a systemd unit name ending in C(.target) or C(.service), by the same rules as C(unit_name), so no
            C(/), blank or control character can move a link out of C(unit_dir) or add a line to the unit.
        type: list
        elements: str
        default: [multi-user.target, network-online.target]
'''
