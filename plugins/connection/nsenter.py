# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: nsenter
short_description: Run tasks inside the namespaces of a process on the controller's machine
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Treats a process on the machine running Ansible as a host, and runs every task inside its namespaces with
    util-linux C(nsenter) - a container started by any runtime, a systemd-nspawn machine, or a simulated host.
  - Commands, file uploads and downloads all happen inside the target's mount namespace, so paths (Ansible's
    temporary directory included) are the target's.
  - Pipelining is supported.
  - A target process that has exited makes the host unreachable, with a message naming the process.
options:
  remote_addr:
    description:
      - The target process id, as C(1234) or C(pid:1234).
    default: inventory_hostname
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_nsenter_pid
  nsenter_types:
    description:
      - The namespace types to enter. C(user) is entered only when listed.
      - Without C(mnt), files are copied on the controller's own filesystem.
    type: list
    elements: str
    default: [mnt, uts, ipc, net, pid, cgroup]
    vars:
      - name: ansible_nsenter_types
    env:
      - name: ANSIBLE_NSENTER_TYPES
    ini:
      - section: nsfd_nsenter_connection
        key: types
  nsenter_exe:
    description: The C(nsenter) program to use.
    type: str
    default: nsenter
    vars:
      - name: ansible_nsenter_exe
    env:
      - name: ANSIBLE_NSENTER_EXE
notes:
  - Runs as the user running Ansible, which must be allowed to enter the target's namespaces (normally root).
seealso:
  - module: nsfd.namespaces.namespace_exec
  - name: nsenter(1)
    description: The util-linux program this plugin drives.
    link: https://man7.org/linux/man-pages/man1/nsenter.1.html
'''

EXAMPLES = r'''
# inventory.yml: two "hosts" that are processes on this machine
# all:
#   hosts:
#     web:
#       ansible_host: "pid:4242"
#     db:
#       ansible_host: 4343
#       ansible_nsenter_types: [mnt, uts, net, pid]
#   vars:
#     ansible_connection: nsfd.namespaces.nsenter

- name: Configure a container from the host, without anything installed in it but Python
  hosts: web
  tasks:
    - name: The container's own hostname and interfaces
      ansible.builtin.setup:
        gather_subset: [network]

    - name: A file inside the container's filesystem
      ansible.builtin.copy:
        content: "hello\n"
        dest: /etc/motd
        mode: "0644"
'''

import os
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()

FLAGS = {'mnt': '--mount', 'uts': '--uts', 'ipc': '--ipc', 'net': '--net', 'pid': '--pid',
         'cgroup': '--cgroup', 'user': '--user', 'time': '--time'}


def parse_pid(value):
    text = str(value).strip()
    if text.startswith('pid:'):
        text = text[4:]
    if not text.isdigit() or int(text) < 1:
        raise AnsibleError('nsfd.namespaces.nsenter: ansible_host must be a process id (1234 or pid:1234), not %r'
                           % (value,))
    return int(text)


def process_alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except (OSError, IndexError):
        return False


class Connection(ConnectionBase):
    """Local execution through nsenter into a target process's namespaces."""

    transport = 'nsfd.namespaces.nsenter'
    has_pipelining = True

    def __init__(self, *args, **kwargs):
        super(Connection, self).__init__(*args, **kwargs)
        self._pid = None

    def _target(self):
        pid = parse_pid(self.get_option('remote_addr'))
        if not process_alive(pid):
            raise AnsibleConnectionFailure('nsfd.namespaces.nsenter: target process %d (ansible_host %s) is gone; '
                                           'start it again or fix ansible_host' % (pid, self._play_context.remote_addr))
        return pid

    def _connect(self):
        if not self._connected:
            self._pid = self._target()
            display.vvv('NSENTER: target pid %d, namespaces %s' % (self._pid, ','.join(self.get_option('nsenter_types'))))
            self._connected = True
        return self

    def _nsenter(self, argv):
        types = self.get_option('nsenter_types')
        unknown = [t for t in types if t not in FLAGS]
        if unknown:
            raise AnsibleError('nsfd.namespaces.nsenter: unknown namespace types %s' % ', '.join(unknown))
        command = [self.get_option('nsenter_exe'), '--target', str(self._pid)]
        command += [FLAGS[t] for t in FLAGS if t in types]
        return command + ['--'] + argv

    def _run(self, argv, in_data=None, stdin=None):
        if stdin is None:
            stdin = subprocess.PIPE if in_data is not None else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(self._nsenter(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise AnsibleConnectionFailure('nsfd.namespaces.nsenter: cannot run %s: %s'
                                           % (self.get_option('nsenter_exe'), exc))
        stdout, stderr = proc.communicate(in_data)
        if proc.returncode != 0 and not process_alive(self._pid):
            raise AnsibleConnectionFailure('nsfd.namespaces.nsenter: target process %d (ansible_host %s) is gone'
                                           % (self._pid, self._play_context.remote_addr))
        return proc.returncode, stdout, stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv('NSENTER EXEC %s' % cmd, host=str(self._pid))
        executable = self._play_context.executable or '/bin/sh'
        return self._run([executable, '-c', cmd], in_data=in_data)

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv('NSENTER PUT %s TO %s' % (in_path, out_path), host=str(self._pid))
        if not os.path.exists(in_path):
            raise AnsibleError('file or module does not exist: %s' % in_path)
        with open(in_path, 'rb') as source:
            # the path is an argument ($1), never part of the script
            rc, stdout, stderr = self._run(['/bin/sh', '-c', 'cat > "$1"', 'sh', out_path], stdin=source)
        if rc != 0:
            raise AnsibleError('failed to transfer %s to %s in process %d: %s'
                               % (in_path, out_path, self._pid, stderr.decode('utf-8', 'replace').strip()))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv('NSENTER FETCH %s TO %s' % (in_path, out_path), host=str(self._pid))
        rc, stdout, stderr = self._run(['cat', '--', in_path])
        if rc != 0:
            raise AnsibleError('failed to fetch %s from process %d: %s'
                               % (in_path, self._pid, stderr.decode('utf-8', 'replace').strip()))
        with open(out_path, 'wb') as target:
            target.write(stdout)

    def close(self):
        self._connected = False
