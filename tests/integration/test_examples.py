"""Every module's EXAMPLES run as written, in the sandbox, and what each
example task returned matches the module's RETURN documentation.

The examples are the play's tasks verbatim; the test only supplies what an
operator's inventory would (the variables they use, processes to point at)
and the namespaces that an example assumes exist. Each task's result is
registered under a generated name (or the example's own) and checked against
RETURN by returndoc.
"""

import json
import os
import subprocess

import pytest
import yaml
from returndoc import module_docs, problems
from playbook import REPO, ansible_playbook

MODULES = os.path.join(REPO, 'plugins', 'modules')

# What each module's examples take for granted on the host.
PREREQUISITES = {
    'namespace_exec': [
        {'nsfd.namespaces.namespace': {'name': 'blue'}},
        {'nsfd.namespaces.namespace': {'name': 'web1', 'type': ['net', 'uts', 'ipc'], 'hostname': 'web1'}},
        {'nsfd.namespaces.namespace': {'name': 'batch', 'type': 'pid'}},
    ],
    'namespace_info': [
        {'nsfd.namespaces.namespace': {'name': 'blue'}},
    ],
    # the underlay device of the vxlan examples (a bridge stands in for a NIC)
    'netns_config': [
        {'ansible.builtin.command': 'ip link add eth0 type bridge', 'changed_when': True},
    ],
    'netns_service': [
        {'nsfd.namespaces.namespace': {'name': 'tenant-a', 'type': 'net'}},
        {'nsfd.namespaces.namespace': {'name': 'vpn', 'type': 'net'}},
        {
            'ansible.builtin.copy': {
                'dest': '/etc/systemd/system/{{ item }}',
                'mode': '0644',
                'content': '[Service]\nExecStart=/bin/sleep infinity\n',
            },
            'loop': ['unbound.service', 'wg-client.service'],
        },
    ],
    # The sandbox's /var is an overlay, which overlayfs refuses as an upper
    # layer: the default data_dir gets a tmpfs (in the sandbox's own mount
    # namespace). The machine's root, bound where the example's Debian tree
    # would be, stands in for a distribution root tree.
    'namespace_host': [
        {'ansible.builtin.file': {'path': '/var/lib/nsfd-hosts', 'state': 'directory', 'mode': '0755'}},
        {'ansible.builtin.command': 'mount -t tmpfs tmpfs /var/lib/nsfd-hosts'},
        {'ansible.builtin.file': {'path': '/var/cache/nsfd/debian-bookworm', 'state': 'directory', 'mode': '0755'}},
        {'ansible.builtin.command': 'mount --bind / /var/cache/nsfd/debian-bookworm'},
    ],
}


def _modules():
    return sorted(name[:-3] for name in os.listdir(MODULES) if name.endswith('.py') and not name.startswith('_'))


def _process_in_own_namespaces():
    """A stand-in for an application or a container: a process in its own
    mount, uts and network namespaces (the sandbox reaps it)."""
    return subprocess.Popen(['unshare', '--mount', '--uts', '--net', 'sleep', '600'])


def _registered(tasks):
    """The examples with every module task registered; returns (tasks, {register name: module})."""
    names = {}
    for index, task in enumerate(tasks):
        module = next((key for key in task if key.startswith('nsfd.namespaces.')), None)
        if module is None:
            continue
        task.setdefault('register', f'example_result_{index}')
        names[task['register']] = module.split('.')[-1]
    return tasks, names


@pytest.mark.parametrize('module', _modules())
def test_examples_run_as_written_and_return_what_is_documented(module, tmp_path):
    docs = module_docs(os.path.join(MODULES, module + '.py'))
    tasks, registered = _registered(docs['EXAMPLES'])
    assert registered, f'the EXAMPLES of {module} use no nsfd.namespaces module'
    app = _process_in_own_namespaces()
    results = tmp_path / 'results.json'
    pairs = ', '.join(f"'{name}': {name}" for name in registered)
    play = {
        'name': f'EXAMPLES of {module}',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': {'app_pid': app.pid, 'container_pid': app.pid},
        'pre_tasks': PREREQUISITES.get(module, []),
        'tasks': tasks
        + [
            {
                'ansible.builtin.copy': {
                    'content': f'{{{{ {{{pairs}}} | to_json }}}}',
                    'dest': str(results),
                    'mode': '0600',
                }
            }
        ],
    }
    playbook = tmp_path / 'examples.yml'
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    proc = ansible_playbook(tmp_path, playbook, timeout=600)
    assert proc.returncode == 0, f'the EXAMPLES of {module} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}'
    found = []
    for name, result in sorted(json.loads(results.read_text()).items()):
        if not result.get('skipped'):
            found += [
                f'{name} ({registered[name]}): {p}'
                for p in problems(result, module_docs(os.path.join(MODULES, registered[name] + '.py'))['RETURN'])
            ]
    assert not found, '\n'.join(found)
