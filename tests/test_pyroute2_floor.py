"""One pyroute2 floor: the oldest release the module tests pass with
(netns_socket.PYROUTE2_FLOOR, measured against older releases: 0.5.19, 0.6.1,
0.6.5 and 0.6.9 fail, 0.6.13, 0.7.1, 0.7.12, 0.8.1, 0.9.1 and 0.9.7 pass),
and every place that states the requirement says the same."""

import os
import re

import yaml

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import PYROUTE2_FLOOR

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENT = f'pyroute2>={PYROUTE2_FLOOR},<0.10'


def _read(*path):
    with open(os.path.join(REPO, *path)) as handle:
        return handle.read()


def test_requirements_txt_and_the_role_ask_for_the_floor():
    assert REQUIREMENT in _read('requirements.txt').splitlines()
    assert yaml.safe_load(_read('roles', 'netns', 'defaults', 'main.yml'))['netns_pyroute2_requirement'] == REQUIREMENT
    spec = yaml.safe_load(_read('roles', 'netns', 'meta', 'argument_specs.yml'))
    assert spec['argument_specs']['main']['options']['netns_pyroute2_requirement']['default'] == REQUIREMENT
    # the role uses the host's own pyroute2 from the same floor on
    assert yaml.safe_load(_read('roles', 'netns', 'vars', 'main.yml'))['netns_pyroute2_floor'] == PYROUTE2_FLOOR


def test_the_docs_state_the_floor():
    doc = _read('plugins', 'modules', 'netns_config.py')
    assert f'pyroute2 >= {PYROUTE2_FLOOR} on the managed host' in doc
    for path in (
        ('README.md',),
        ('docs', 'docsite', 'rst', 'quickstart.rst'),
        ('docs', 'docsite', 'rst', 'awx.rst'),
        ('roles', 'netns', 'README.md'),
    ):
        text = _read(*path)
        assert (
            f'pyroute2` {PYROUTE2_FLOOR} or later' in text
            or f'pyroute2`` {PYROUTE2_FLOOR} or later' in text
            or f'pyroute2 {PYROUTE2_FLOOR} or later' in text
            or f'({PYROUTE2_FLOOR} or later' in text
        ), path
        # no older statement of the requirement is left
        assert not re.search(r'pyroute2`{0,2} 0\.9\b(?!\.\d)', text), path
        assert 'pyroute2>=0.9' not in text, path
