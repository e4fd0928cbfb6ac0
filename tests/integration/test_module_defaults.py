"""The action groups of meta/runtime.yml: module_defaults for
group/nsfd.namespaces.pins and group/nsfd.namespaces.hosts sets an option for
every module of the group (a playbook, in the sandbox), and each group holds
exactly the modules that take its option (Ansible gives every module of a
group each option set for it: a module without it would fail)."""

import ast
import os
import subprocess

import yaml
from playbook import REPO, ansible_playbook

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'playbooks', 'module_defaults.yml')
MODULES = os.path.join(REPO, 'plugins', 'modules')
FRAGMENTS = os.path.join(REPO, 'plugins', 'doc_fragments')
# each group and the option its modules share
GROUP_OPTION = {'pins': 'pin_dir', 'hosts': 'data_dir'}


def _documentation(path, name='DOCUMENTATION'):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) == name:
            return yaml.safe_load(node.value.value)
    return {}


def _options(module):
    doc = _documentation(os.path.join(MODULES, module + '.py'))
    options = set(doc.get('options') or {})
    for fragment in doc.get('extends_documentation_fragment') or []:
        if fragment.startswith('nsfd.namespaces.'):
            name, _dot, variable = fragment[len('nsfd.namespaces.') :].partition('.')
            options |= set(
                (
                    _documentation(os.path.join(FRAGMENTS, name + '.py'), (variable or 'DOCUMENTATION').upper()) or {}
                ).get('options')
                or {}
            )
    return options


def test_each_group_holds_exactly_the_modules_that_take_its_option():
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as handle:
        groups = yaml.safe_load(handle)['action_groups']
    assert set(groups) == set(GROUP_OPTION)
    modules = sorted(name[:-3] for name in os.listdir(MODULES) if name.endswith('.py') and not name.startswith('_'))
    for group, option in GROUP_OPTION.items():
        assert sorted(groups[group]) == sorted(m for m in modules if option in _options(m)), group


def test_module_defaults_set_the_option_for_every_module_of_the_group(tmp_path):
    hosts = tmp_path / 'hosts'
    hosts.mkdir()
    # overlayfs takes no overlay as the hosts' upper layer (the sandbox's /tmp may be one)
    subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', str(hosts)], check=True)
    result = ansible_playbook(tmp_path, PLAYBOOK, '-e', f'out_dir={tmp_path}', timeout=600)
    assert result.returncode == 0, f'{result.stdout[-8000:]}\n{result.stderr[-3000:]}'
    assert '[WARNING]' not in result.stdout + result.stderr, result.stdout + result.stderr
