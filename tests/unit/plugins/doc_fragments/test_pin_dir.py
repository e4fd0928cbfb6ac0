"""The pin_dir fragment fits the modules that use it: the general text
(every type's default directory) for modules that take any namespace type,
the NETNS text (only /run/netns) for network-only modules."""

import os
import re

import yaml

from ansible_collections.nsfd.namespaces.plugins.doc_fragments.pin_dir import ModuleDocFragment

MODULES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules')
OTHER_TYPE_DIRS = [
    '/run/utsns',
    '/run/ipcns',
    '/run/mntns',
    '/run/pidns',
    '/run/userns',
    '/run/cgroupns',
    '/run/timens',
]


def _fragments(module):
    with open(os.path.join(MODULES, module + '.py')) as f:
        text = f.read()
    doc = yaml.safe_load(re.search(r"DOCUMENTATION = r'''(.*?)'''", text, re.S).group(1))
    return doc.get('extends_documentation_fragment', []), doc.get('options', {})


def _text(block):
    return ' '.join(yaml.safe_load(block)['options']['pin_dir']['description'])


def test_the_net_text_names_only_the_network_directory():
    text = _text(ModuleDocFragment.NETNS)
    assert '/run/netns' in text
    assert not [d for d in OTHER_TYPE_DIRS if d in text]


def test_the_general_text_names_every_type():
    text = _text(ModuleDocFragment.DOCUMENTATION)
    assert all(d in text for d in OTHER_TYPE_DIRS + ['/run/netns'])


def test_network_only_modules_document_pin_dir_for_network_namespaces_only():
    for module in ('netns_config', 'netns_service', 'netns_persist'):
        fragments, options = _fragments(module)
        assert 'nsfd.namespaces.pin_dir' not in fragments, module
        local = ' '.join(options.get('pin_dir', {}).get('description', []))
        assert not [d for d in OTHER_TYPE_DIRS if d in local], module
    assert 'nsfd.namespaces.pin_dir.netns' in _fragments('netns_config')[0]


def test_modules_of_every_type_use_the_general_text():
    for module in ('namespace', 'namespace_info', 'namespace_exec'):
        assert 'nsfd.namespaces.pin_dir' in _fragments(module)[0], module
