#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: namespace_exec
short_description: Run a command inside pinned Linux namespaces
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Runs one command inside existing namespaces, given by name, by pin path or by a process, like
    C(ip netns exec) and C(nsenter). The command's process enters them with C(setns) on each pin, passing its
    type, so the kernel refuses a pin of the wrong type; the module process itself never leaves its own namespaces.
  - Each pin is checked first to be an nsfs mount of the expected type. A missing or stale pin fails the task;
    this module never creates a namespace.
  - In a network namespace the command behaves as under C(ip netns exec) - it gets its own mount namespace with
    C(/sys) remounted, so C(/sys/class/net) shows the namespace's links, and each file in C(/etc/netns/NAME/) is
    bind-mounted over its C(/etc) counterpart (onto the target of a symlink such as a systemd-resolved
    C(/etc/resolv.conf)).
  - Like M(ansible.builtin.command), a non-zero return code fails the task, and the command is not run through a
    shell.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nsfd.namespaces.pin_dir
attributes:
  check_mode:
    support: full
    details: The command is not run; the result says whether it would be (honouring O(creates) and O(removes)).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  namespace:
    description:
      - Name of the namespace to enter, looked up in the pin directory of each of O(types).
      - Exactly one of O(namespace), O(path), O(pid) and O(all) is required.
    type: str
  types:
    description:
      - Which namespace types to enter with O(namespace) or O(pid).
    type: list
    elements: str
    choices: [net, uts, ipc, mnt, pid, user, cgroup, time]
    default: [net]
  path:
    description:
      - One or more pin paths to enter; the type of each is read from the kernel.
      - With a network namespace given by path, no C(/etc/netns) files are applied (there is no name).
    type: list
    elements: path
  pid:
    description:
      - Enter the namespaces (O(types)) of this running process.
    type: int
  all:
    description:
      - Run the command in every pinned network namespace, one after the other, like C(ip -all netns exec).
        It goes on after a failure and fails at the end if any command failed.
    type: bool
    default: false
  argv:
    description:
      - The command as a list of arguments. No shell is involved, so spaces, quotes, C(;) and command substitutions
        are literal.
      - Exactly one of O(argv) and O(cmd) is required.
    type: list
    elements: str
  cmd:
    description:
      - The command as a string, split into arguments like M(ansible.builtin.command) does (no shell).
    type: str
  chdir:
    description:
      - Change into this directory before running the command (inside the entered mount namespace, if any).
    type: path
  stdin:
    description:
      - Text to feed to the command's standard input.
    type: str
  stdin_add_newline:
    description:
      - Whether to append a newline to O(stdin).
    type: bool
    default: true
  creates:
    description:
      - A path or glob; when it matches, the command is not run. Checked inside the target's mount namespace when
        C(mnt) is entered, otherwise on the host.
    type: path
  removes:
    description:
      - A path or glob; when it matches nothing, the command is not run. Checked like O(creates).
    type: path
  etc_files:
    description:
      - Apply the files of C(/etc/netns/NAME/) over C(/etc) when entering a network namespace by name.
    type: bool
    default: true
notes:
  - Needs root to enter namespaces.
seealso:
  - module: nsfd.namespaces.namespace
  - module: ansible.builtin.command
  - name: The nsfd.namespaces.netns become plugin
    description: Run any task inside a network namespace.
    link: https://github.com/nsfd/namespaces/blob/main/plugins/become/netns.py
'''

EXAMPLES = r'''
- name: Addresses inside the network namespace blue
  nsfd.namespaces.namespace_exec:
    namespace: blue
    argv: [ip, -j, addr]
  register: blue_addr

- name: A shell pipeline needs an explicit shell
  nsfd.namespaces.namespace_exec:
    namespace: blue
    argv: [sh, -c, "ss -ltn | wc -l"]

- name: Enter the uts and net namespaces of a virtual server
  nsfd.namespaces.namespace_exec:
    namespace: web1
    types: [uts, net]
    cmd: hostname

- name: Run inside the pid namespace batch, with input
  nsfd.namespaces.namespace_exec:
    namespace: batch
    types: [pid]
    argv: [sh, -c, 'read line; echo "$line from pid $$"']
    stdin: hello

- name: Enter a namespace by its pin path
  nsfd.namespaces.namespace_exec:
    path: [/run/netns/blue]
    cmd: ip route

- name: Enter the namespaces of a running process (a container, say)
  nsfd.namespaces.namespace_exec:
    pid: "{{ container_pid }}"
    types: [mnt, uts, net]
    cmd: cat /etc/os-release

- name: In every network namespace, like ip -all netns exec
  nsfd.namespaces.namespace_exec:
    all: true
    cmd: ip -br link
  register: everywhere

- name: Only once
  nsfd.namespaces.namespace_exec:
    namespace: blue
    argv: [sh, -c, "echo done > /var/lib/blue-init"]
    creates: /var/lib/blue-init
'''

RETURN = r'''
rc:
  description: The command's exit status (negative N when killed by signal N).
  returned: when the command ran
  type: int
  sample: 0
stdout:
  description: Standard output, without the final newline.
  returned: when the command ran
  type: str
stderr:
  description: Standard error, without the final newline.
  returned: when the command ran
  type: str
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when the command ran
  type: list
  elements: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when the command ran
  type: list
  elements: str
cmd:
  description: The command as run, a list of arguments.
  returned: always
  type: list
  elements: str
  sample: [ip, -j, addr]
start:
  description: When the command started.
  returned: when the command ran
  type: str
  sample: '2026-11-23 04:30:00.123456'
end:
  description: When the command ended.
  returned: when the command ran
  type: str
  sample: '2026-11-23 04:30:00.234567'
delta:
  description: How long it ran.
  returned: when the command ran
  type: str
  sample: '0:00:00.111111'
entered:
  description: The namespaces the command ran in (or would run in, in check mode).
  returned: unless O(all=true), where each of RV(results) has its own
  type: list
  elements: dict
  contains:
    type:
      description: Namespace type.
      type: str
      sample: net
    path:
      description: The pin (or C(/proc/PID/ns/TYPE)) path entered.
      type: str
      sample: /run/netns/blue
    inode:
      description: The namespace inode.
      type: int
      sample: 4026532281
msg:
  description: Why the command did not run (O(creates) or O(removes)), or where it would run (check mode).
  returned: when the command did not run
  type: str
  sample: would run in blue (check mode)
results:
  description: With O(all=true), one result per pinned network namespace, in name order.
  returned: when O(all=true)
  type: list
  elements: dict
  contains:
    namespace:
      description: The network namespace's name.
      type: str
      sample: blue
    changed:
      description: Whether the command ran there.
      type: bool
    rc:
      description: The exit status there.
      type: int
    stdout:
      description: Standard output there.
      type: str
    stderr:
      description: Standard error there.
      type: str
    stdout_lines:
      description: RV(results[].stdout) split into lines.
      type: list
      elements: str
    stderr_lines:
      description: RV(results[].stderr) split into lines.
      type: list
      elements: str
    cmd:
      description: The command as run.
      type: list
      elements: str
    start:
      description: When the command started there.
      type: str
    end:
      description: When the command ended there.
      type: str
    delta:
      description: How long it ran there.
      type: str
    entered:
      description: The namespace entered, as in RV(entered).
      type: list
      elements: dict
    msg:
      description: Why the command did not run there (O(creates) or O(removes)), or that it would run (check mode).
      type: str
    skipped:
      description: True when O(creates) or O(removes) kept the command from running there.
      type: bool
'''

import glob
import shlex
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nsfd.namespaces.plugins.module_utils.execute import command
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nsexec import call_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPE_NAMES
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import call_or_fail


def _matches(target: command.Target, pattern: str) -> bool:
    if 'mnt' in target.fds:
        return call_in({'mnt': target.fds['mnt']}, lambda p: bool(glob.glob(p)), pattern)
    return bool(glob.glob(pattern))


def _skip_reason(target: command.Target, params: dict[str, Any]) -> str | None:
    if params['creates'] and _matches(target, params['creates']):
        return f'{params["creates"]} exists, so the command was not run'
    if params['removes'] and not _matches(target, params['removes']):
        return f'{params["removes"]} does not exist, so the command was not run'
    return None


def _run_one(
    module: AnsibleModule, params: dict[str, Any], argv: list[str], stdin: str | None, **where: Any
) -> dict[str, Any]:
    target = command.resolve(**where)
    try:
        skip = _skip_reason(target, params)
        if skip:
            return {'changed': False, 'skipped': True, 'msg': skip, 'cmd': argv, 'rc': 0, 'entered': target.entered}
        if module.check_mode:
            return {
                'changed': True,
                'msg': f'would run in {target.label} (check mode)',
                'cmd': argv,
                'entered': target.entered,
            }
        result = command.run(target, argv, stdin=stdin, chdir=params['chdir'], etc_files=params['etc_files'])
        result['changed'] = True
        return result
    finally:
        target.close()


def _run_everywhere(module: AnsibleModule, params: dict[str, Any], argv: list[str], stdin: str | None) -> None:
    """all: true: the command in every pinned network namespace, a result
    each; exits the module, failing it when the command failed in any."""

    def run_in_each() -> list[dict[str, Any]]:
        return [
            dict(
                _run_one(module, params, argv, stdin, namespace=name, types=['net'], pin_dir=params['pin_dir']),
                namespace=name,
            )
            for name in command.pinned_netns_names(params['pin_dir'])
        ]

    results = call_or_fail(module, run_in_each, cmd=argv)
    for one in results:
        for warning in one.pop('warnings', []):
            module.warn(f'{one["namespace"]}: {warning}')
    failed = [r['namespace'] for r in results if r.get('rc', 0) != 0]
    output = {'changed': any(r['changed'] for r in results), 'results': results, 'cmd': argv}
    if failed:
        module.fail_json(msg=f'the command failed in {", ".join(failed)}', **output)
    module.exit_json(**output)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            namespace=dict(type='str'),
            types=dict(type='list', elements='str', choices=TYPE_NAMES, default=['net']),
            path=dict(type='list', elements='path'),
            pid=dict(type='int'),
            all=dict(type='bool', default=False),
            pin_dir=dict(type='path'),
            argv=dict(type='list', elements='str'),
            cmd=dict(type='str'),
            chdir=dict(type='path'),
            stdin=dict(type='str'),
            stdin_add_newline=dict(type='bool', default=True),
            creates=dict(type='path'),
            removes=dict(type='path'),
            etc_files=dict(type='bool', default=True),
        ),
        mutually_exclusive=[('namespace', 'path', 'pid', 'all'), ('argv', 'cmd')],
        required_one_of=[('namespace', 'path', 'pid', 'all'), ('argv', 'cmd')],
        supports_check_mode=True,
    )
    params = module.params
    argv = params['argv'] if params['argv'] is not None else shlex.split(params['cmd'])
    if not argv or not argv[0]:
        module.fail_json(msg='no command given: argv or cmd must name a program')
    stdin = params['stdin']
    if stdin is not None and params['stdin_add_newline']:
        stdin += '\n'
    if params['all']:
        _run_everywhere(module, params, argv, stdin)
    result = call_or_fail(
        module,
        lambda: _run_one(
            module,
            params,
            argv,
            stdin,
            namespace=params['namespace'],
            types=params['types'],
            pin_dir=params['pin_dir'],
            paths=params['path'],
            pid=params['pid'],
        ),
        cmd=argv,
    )
    for warning in result.pop('warnings', []):
        module.warn(warning)
    if result.get('rc', 0) != 0:
        module.fail_json(msg='non-zero return code', **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
