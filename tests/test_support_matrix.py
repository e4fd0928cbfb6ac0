"""One support statement: noxfile.py's MATRIX is what make test runs, and
README, docs, meta/runtime.yml, the role's galaxy metadata and the
requirements files say the same."""

import ast
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*path):
    with open(os.path.join(REPO, *path)) as handle:
        return handle.read()


def _matrix():
    for node in ast.parse(_read('noxfile.py')).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'MATRIX':
            return ast.literal_eval(node.value)
    raise AssertionError('noxfile.py has no MATRIX')


def _bounds():
    cores = sorted(_matrix(), key=lambda v: tuple(int(p) for p in v.split('.')))
    major, minor = cores[-1].split('.')
    return cores, f'{major}.{int(minor) + 1}'


def _statement(cores):
    return f'ansible-core {", ".join(cores[:-1])} and {cores[-1]}'


def test_the_matrix_is_the_supported_ansible_core_each_with_a_supported_python():
    matrix = _matrix()
    assert list(matrix) == ['2.19', '2.20', '2.21']
    assert all(tuple(int(p) for p in py.split('.')) >= (3, 11) for py in matrix.values())


def test_meta_runtime_and_role_metadata_match():
    cores, after = _bounds()
    runtime = yaml.safe_load(_read('meta', 'runtime.yml'))
    assert runtime['requires_ansible'] == f'>={cores[0]}.0,<{after}.0'
    role = yaml.safe_load(_read('roles', 'netns', 'meta', 'main.yml'))
    assert role['galaxy_info']['min_ansible_version'] == cores[0]


def test_requirement_files_allow_exactly_the_supported_range():
    cores, after = _bounds()
    for name in ('requirements.txt', 'lint-requirements.txt', 'docs-requirements.txt'):
        pins = [line for line in _read('tests', name).splitlines() if line.startswith('ansible-core')]
        assert pins == [f'ansible-core>={cores[0]},<{after}'], name


def test_readme_and_docs_state_it_and_the_readme_has_the_table():
    cores, _after = _bounds()
    readme = ' '.join(_read('README.md').split())
    quickstart = ' '.join(_read('docs', 'docsite', 'rst', 'quickstart.rst').split())
    assert _statement(cores) in readme and _statement(cores) in quickstart
    for core, python in _matrix().items():
        assert re.search(rf'^\| {re.escape(core)} \| {re.escape(python)} \|', _read('README.md'), re.M), core
    # nothing still claims an end-of-life version
    for text in (readme, quickstart):
        assert not re.search(
            r'ansible-core 2\.1[78]\b|2\.17\.0 or newer', text.replace('2.17 and 2.18 are end of life', '')
        )
