# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: nsenter
short_description: Run tasks inside the namespaces of a process or a pinned host on the controller's machine
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
  - A target given by name (C(host1) or C(name:host1)) is entered through its pins in the per-type default
    directories (C(/run/netns/host1), C(/run/utsns/host1), C(/run/mntns/host1), ...), as
    M(nsfd.namespaces.namespace_host) pins its hosts. The pins are looked up again on every connection, so a
    host started again (C(state=rebooted)) is found by the same name.
options:
  remote_addr:
    description:
      - The target, as a process id (C(1234) or C(pid:1234)), or as the name its namespaces are pinned under
        (C(host1) or C(name:host1); every type in O(nsenter_types) must be pinned under that name).
      - A named target whose pins are missing, are not namespaces of the right type, or whose pid namespace has no
        process left (its init was killed) is unreachable, with a message naming the pin.
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
#     host1:
#       ansible_host: host1    # pinned by name, as nsfd.namespaces.namespace_host makes it
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
from typing import TYPE_CHECKING, cast

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import procscan
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import names, pinstate

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import IO, Any, Union

    # what Popen takes as stdin: a pipe or devnull constant, or an open file
    Stdin = Union[int, IO[bytes]]

display = Display()

FLAGS = {
    'mnt': '--mount',
    'uts': '--uts',
    'ipc': '--ipc',
    'net': '--net',
    'pid': '--pid',
    'cgroup': '--cgroup',
    'user': '--user',
    'time': '--time',
}


def parse_target(value: object) -> tuple[str, int] | tuple[str, str]:
    """('pid', 1234) for 1234 or pid:1234; ('name', 'host1') for host1 or name:host1."""
    text = str(value).strip()
    if text.startswith('pid:') or text.isdigit():
        digits = text[4:] if text.startswith('pid:') else text
        if digits.isdigit() and int(digits) >= 1:
            return 'pid', int(digits)
        raise AnsibleError(
            f'nsfd.namespaces.nsenter: ansible_host {value!r} is not a process id: expected 1234 or pid:1234 '
            '(or a pinned name, host1 or name:host1)'
        )
    name = text[5:] if text.startswith('name:') else text
    try:
        names.check_name(name, field='ansible_host')
    except NamespaceError as exc:
        raise AnsibleError(
            f'nsfd.namespaces.nsenter: {exc}; expected a process id (1234, pid:1234) or the name a host '
            'is pinned under (host1, name:host1)'
        )
    return 'name', name


def process_alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except (OSError, IndexError):
        return False


def pinned_host(name: str, types: Sequence[str]) -> tuple[dict[str, str], None] | tuple[None, str]:
    """{type: pin path} of the host pinned as name, or why it cannot be entered.

    Returns (paths, problem): problem is None when every pin is a namespace of
    its type and, when a pid namespace is entered, a process still lives in it
    (a pid namespace whose init died can be pinned but never entered again).
    """
    paths: dict[str, str] = {}
    for nstype in types:
        path = os.path.join(TYPES[nstype].default_dir, name)
        try:
            fd, actual, st = pinstate.open_nsfs(path)
        except OSError as exc:
            # open_nsfs' OSErrors come from system calls, which always set errno
            return None, f'its {nstype} pin {path} cannot be opened: {os.strerror(cast(int, exc.errno))}'
        os.close(fd)
        if actual != nstype:
            what = 'not a namespace' if actual is None else f'a {actual} namespace'
            return None, f'its {nstype} pin {path} is {what}'
        paths[nstype] = path
        if nstype == 'pid' and not procscan.pids_in('pid', st.st_ino):
            return None, f'its pid namespace (pin {path}) has no process left: its init is gone'
    return paths, None


class Connection(ConnectionBase):
    """Local execution through nsenter into a target process's (or a pinned host's) namespaces."""

    transport = 'nsfd.namespaces.nsenter'
    has_pipelining = True
    _connected: bool  # ConnectionBase's, declared for mypy (it cannot infer it there)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._target_id: int | str | None = None  # a pid, or a pinned name when self._pins is set
        self._pins: dict[str, str] | None = None
        self._label: str | None = None

    def _types(self) -> list[str]:
        types = self.get_option('nsenter_types')
        unknown = [t for t in types if t not in FLAGS]
        if unknown:
            raise AnsibleError(
                f'nsfd.namespaces.nsenter: unknown namespace types {", ".join(unknown)}; '
                f'allowed: {", ".join(sorted(FLAGS))}'
            )
        return [t for t in FLAGS if t in types]

    def _target(self) -> tuple[int | str, dict[str, str] | None, str]:
        kind, target = parse_target(self.get_option('remote_addr'))
        if kind == 'name':
            pins, problem = pinned_host(cast(str, target), self._types())  # kind 'name': a str
            if problem:
                raise AnsibleConnectionFailure(
                    f'nsfd.namespaces.nsenter: host {target} (ansible_host {self._play_context.remote_addr}) '
                    f'cannot be entered: {problem}; start it with '
                    'nsfd.namespaces.namespace_host (state=started) or fix ansible_host'
                )
            return target, pins, f'host {target}'
        if not process_alive(cast(int, target)):  # kind 'pid': an int
            raise AnsibleConnectionFailure(
                f'nsfd.namespaces.nsenter: target process {target} (ansible_host {self._play_context.remote_addr}) '
                'is gone; start it again or fix ansible_host'
            )
        return target, None, f'process {target}'

    def _connect(self) -> Connection:
        if not self._connected:
            # looked up on every connection: a host started again is found by its pins
            self._target_id, self._pins, self._label = self._target()
            display.vvv(f'NSENTER: target {self._label}, namespaces {",".join(self._types())}')
            self._connected = True
        return self

    def _alive(self) -> bool:
        if self._pins is not None:
            return pinned_host(cast(str, self._target_id), self._types())[1] is None  # pinned: a name
        return process_alive(cast(int, self._target_id))  # not pinned: a pid

    def _gone(self) -> AnsibleConnectionFailure:
        # only called once connected, when _label is set
        what = self._label if self._pins is not None else 'target ' + cast(str, self._label)
        return AnsibleConnectionFailure(
            f'nsfd.namespaces.nsenter: {what} (ansible_host {self._play_context.remote_addr}) is gone'
        )

    def _nsenter(self, argv: list[str]) -> list[str]:
        command = [self.get_option('nsenter_exe')]
        if self._pins is not None:
            command += [f'{FLAGS[t]}={self._pins[t]}' for t in self._types()]
        else:
            command += ['--target', str(self._target_id)] + [FLAGS[t] for t in self._types()]
        return command + ['--'] + argv

    def _run(
        self, argv: list[str], in_data: bytes | None = None, stdin: Stdin | None = None
    ) -> tuple[int, bytes, bytes]:
        if stdin is None:
            stdin = subprocess.PIPE if in_data is not None else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(self._nsenter(argv), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as exc:
            raise AnsibleConnectionFailure(
                f'nsfd.namespaces.nsenter: cannot run {self.get_option("nsenter_exe")}: {exc}'
            )
        stdout, stderr = proc.communicate(in_data)
        if proc.returncode != 0 and not self._alive():
            raise self._gone()
        return proc.returncode, stdout, stderr

    def exec_command(self, cmd: str, in_data: bytes | None = None, sudoable: bool = True) -> tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        display.vvv(f'NSENTER EXEC {cmd}', host=self._label)
        executable = self._play_context.executable or '/bin/sh'
        return self._run([executable, '-c', cmd], in_data=in_data)

    def put_file(self, in_path: str, out_path: str) -> None:
        super().put_file(in_path, out_path)
        display.vvv(f'NSENTER PUT {in_path} TO {out_path}', host=self._label)
        if not os.path.exists(in_path):
            raise AnsibleError(f'file or module does not exist: {in_path}')
        with open(in_path, 'rb') as source:
            # the path is an argument ($1), never part of the script
            rc, stdout, stderr = self._run(['/bin/sh', '-c', 'cat > "$1"', 'sh', out_path], stdin=source)
        if rc != 0:
            raise AnsibleError(
                f'failed to transfer {in_path} to {out_path} in {self._label}: '
                f'{stderr.decode("utf-8", "replace").strip()}'
            )

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        display.vvv(f'NSENTER FETCH {in_path} TO {out_path}', host=self._label)
        rc, stdout, stderr = self._run(['cat', '--', in_path])
        if rc != 0:
            raise AnsibleError(
                f'failed to fetch {in_path} from {self._label}: {stderr.decode("utf-8", "replace").strip()}'
            )
        with open(out_path, 'wb') as target:
            target.write(stdout)

    def close(self) -> None:
        self._connected = False
