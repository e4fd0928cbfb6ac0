"""The boot file options are documented once: the fragment's two literal
blocks (top level for netns_persist, `boot` suboptions for netns_config) say
the same, and agree with the argument spec the modules use."""

import yaml

from ansible_collections.nsfd.namespaces.plugins.doc_fragments.boot_files import ModuleDocFragment
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.persist import OPTION_SPEC


def _top_level():
    return yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']


def test_both_blocks_document_the_same_options():
    boot = yaml.safe_load(ModuleDocFragment.BOOT_OPTION)['options']['boot']
    assert boot['type'] == 'dict'
    assert boot['suboptions'] == _top_level()


def test_the_documentation_matches_the_argument_spec():
    documented = _top_level()
    assert sorted(documented) == sorted(OPTION_SPEC)
    for name, spec in OPTION_SPEC.items():
        doc = documented[name]
        for key in ('type', 'default', 'choices', 'elements'):
            assert doc.get(key) == spec.get(key), (name, key)
