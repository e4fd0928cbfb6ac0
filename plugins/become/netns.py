# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: netns
short_description: Run tasks inside a named network namespace
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - With C(become_user) naming a network namespace, the task's module runs inside C(/run/netns/NAME) (or the
    pin directory in O(netns_pin_dir)) on the managed host, over any connection.
  - The module's process behaves as under C(ip netns exec) - its own mount namespace with C(/sys) remounted, so
    interface facts and C(/sys/class/net) describe the namespace, and the files of C(/etc/netns/NAME/) bind-mounted
    over C(/etc).
  - The host needs only Python 3; a small standard-library launcher is sent with the command. It enters the
    namespace with C(setns) and the type C(CLONE_NEWNET), so a pin of another type is refused by the kernel.
  - A missing namespace fails the task with a message naming it.
options:
  netns_name:
    description:
      - Name of the network namespace to run the task in, given with the C(become_user) keyword or variable.
      - The option has its own name so that Ansible does not take the namespace for a user to hand its
        temporary files to.
    required: true
    vars:
      - name: ansible_become_user
    env:
      - name: ANSIBLE_BECOME_USER
    keyword:
      - name: become_user
  netns_pin_dir:
    description: Directory holding the network namespace pins.
    type: path
    default: /run/netns
    vars:
      - name: ansible_netns_pin_dir
    env:
      - name: ANSIBLE_NETNS_PIN_DIR
    ini:
      - section: nsfd_netns_become_plugin
        key: pin_dir
  netns_python:
    description:
      - Python interpreter on the managed host that runs the launcher (3.7 or later).
    type: str
    default: python3
    vars:
      - name: ansible_netns_python
    env:
      - name: ANSIBLE_NETNS_PYTHON
    ini:
      - section: nsfd_netns_become_plugin
        key: python
  netns_etc_files:
    description: Bind-mount the files of C(/etc/netns/NAME/) over C(/etc), as C(ip netns exec) does.
    type: bool
    default: true
    vars:
      - name: ansible_netns_etc_files
    env:
      - name: ANSIBLE_NETNS_ETC_FILES
  netns_sudo:
    description:
      - Prefix the command with C(sudo -n), for a remote user that is not root but may run sudo without a password.
    type: bool
    default: false
    vars:
      - name: ansible_netns_sudo
    env:
      - name: ANSIBLE_NETNS_SUDO
notes:
  - Entering a network namespace needs C(CAP_SYS_ADMIN); connect as root or set O(netns_sudo=true).
seealso:
  - module: nsfd.namespaces.namespace_exec
  - module: nsfd.namespaces.namespace
'''

EXAMPLES = r'''
- name: Tasks inside the network namespace blue
  hosts: routers
  become: true
  become_method: nsfd.namespaces.netns
  become_user: blue
  tasks:
    - name: The namespace's interfaces, as facts
      ansible.builtin.setup:
        gather_subset: [network]

    - name: A service listening inside blue answers
      ansible.builtin.wait_for:
        port: 8080
        timeout: 10

    - name: Plain commands run inside too
      ansible.builtin.command: ip -j route
      changed_when: false

- name: One task in a namespace, as a non-root user with sudo
  hosts: routers
  tasks:
    - name: Health check from inside tenant-a
      ansible.builtin.uri:
        url: http://10.0.0.1:8080/health
      become: true
      become_method: nsfd.namespaces.netns
      become_user: tenant-a
      vars:
        ansible_netns_sudo: true
'''

import pkgutil
import shlex
from typing import TYPE_CHECKING, cast

from ansible.errors import AnsibleError
from ansible.plugins.become import BecomeBase

from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem

if TYPE_CHECKING:
    from ansible.plugins.shell import ShellBase

_LAUNCHER: list[str] = []


def launcher_source() -> str:
    """The standalone launcher's code, read once from this collection."""
    if not _LAUNCHER:
        data = pkgutil.get_data('ansible_collections.nsfd.namespaces.plugins.module_utils.execute', 'launch.py')
        # None only for a loader without get_data; the collection's files are on disk
        _LAUNCHER.append(cast(bytes, data).decode('utf-8'))
    return _LAUNCHER[0]


class BecomeModule(BecomeBase):
    name = 'nsfd.namespaces.netns'

    def build_become_command(self, cmd: str, shell: ShellBase) -> str:
        super().build_become_command(cmd, shell)
        if not cmd:
            return cmd
        namespace = self.get_option('netns_name')
        problem = name_problem(namespace) if namespace is not None else 'is not set'
        if problem:
            raise AnsibleError(
                f'nsfd.namespaces.netns: become_user (the network namespace name) {namespace!r} {problem}'
            )
        argv = [
            self.get_option('netns_python'),
            '-c',
            launcher_source(),
            '--netns-dir',
            self.get_option('netns_pin_dir'),
            '--name',
            namespace,
        ]
        if not self.get_option('netns_etc_files'):
            argv.append('--no-etc')
        if self.get_option('netns_sudo'):
            argv = ['sudo', '-n'] + argv
        wrapped = ' '.join(shlex.quote(part) for part in argv)
        return f'{wrapped} -- {self._build_success_command(cmd, shell)}'
