"""What the README and the docs say about the tree and the release matches
them: version strings equal galaxy.yml's version, the README's layout names
every domain of plugins/module_utils and every helper of plugins/plugin_utils,
extra-docs.yml lists exactly the pages of docs/docsite/rst, the README lists
every guide by its title, and the docs site's changelog page is CHANGELOG.rst."""

import glob
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RST = os.path.join(REPO, 'docs', 'docsite', 'rst')
CHANGELOG_LABEL = '.. _ansible_collections.nsfd.namespaces.docsite.changelog:\n\n'


def _read(*path):
    with open(os.path.join(REPO, *path)) as handle:
        return handle.read()


def _version():
    return yaml.safe_load(_read('galaxy.yml'))['version']


def _user_docs():
    """README, CONTRIBUTING and every page of docs/ (the release history aside)."""
    paths = ['README.md', 'CONTRIBUTING.md'] + sorted(
        os.path.relpath(p, REPO)
        for p in glob.glob(os.path.join(REPO, 'docs', '**', '*.*'), recursive=True)
        if p.endswith(('.rst', '.md', '.yml')) and os.path.basename(p) != 'changelog.rst'
    )
    return [(p, _read(p)) for p in paths]


# A release of this collection named in prose: its tarball, a pinned install
# (nsfd.namespaces:1.2.3, nsfd.namespaces==1.2.3), or a requirements entry.
VERSION_MENTIONS = [
    re.compile(r'nsfd-namespaces-(\d+\.\d+\.\d+)\.tar\.gz'),
    re.compile(r'nsfd\.namespaces\s*:\s*[=<>!~]*\s*(\d+\.\d+\.\d+)'),
    re.compile(r'nsfd\.namespaces\s*==\s*(\d+\.\d+\.\d+)'),
    re.compile(r'name:\s*nsfd\.namespaces\s*\n\s*version:\s*["\']?[=<>!~]*\s*(\d+\.\d+\.\d+)'),
]


def test_every_version_the_docs_name_is_galaxys():
    version = _version()
    found = [(path, m.group(1)) for path, text in _user_docs() for rx in VERSION_MENTIONS for m in rx.finditer(text)]
    assert [f for f in found if f[1] != version] == [], f'galaxy.yml says {version}'
    # the quick start builds and installs a tarball from a checkout: the one galaxy.yml makes
    assert f'nsfd-namespaces-{version}.tar.gz' in _read('docs', 'docsite', 'rst', 'quickstart.rst')


def test_the_version_check_sees_a_stale_tarball_name():
    text = 'ansible-galaxy collection install nsfd-namespaces-0.0.9.tar.gz and nsfd.namespaces:==0.0.8'
    assert [m.group(1) for rx in VERSION_MENTIONS for m in rx.finditer(text)] == ['0.0.9', '0.0.8']


def _layout_bullet(folder):
    layout = _read('README.md').split('\n## Layout\n', 1)[1].split('\n## ', 1)[0]
    bullets = re.split(r'\n(?=- )', layout)
    return next(b for b in bullets if b.startswith(f'- `{folder}`'))


def _entries(folder):
    path = os.path.join(REPO, folder)
    return sorted(
        n + ('/' if os.path.isdir(os.path.join(path, n)) else '')
        for n in os.listdir(path)
        if n not in ('__init__.py', '__pycache__') and not n.endswith('.pyc')
    )


def test_the_readme_layout_names_every_domain_of_module_utils():
    bullet = _layout_bullet('plugins/module_utils/')
    named = sorted(set(re.findall(r'`([a-z_]+(?:/|\.py))`', bullet)))
    assert named == _entries('plugins/module_utils')


def test_the_readme_layout_names_every_helper_of_plugin_utils():
    bullet = _layout_bullet('plugins/plugin_utils/')
    named = sorted(set(re.findall(r'`([a-z_]+(?:/|\.py))`', bullet)))
    assert named == _entries('plugins/plugin_utils')


def _extra_docs():
    sections = yaml.safe_load(_read('docs', 'docsite', 'extra-docs.yml'))['sections']
    return dict((s['title'], s['toctree']) for s in sections)


def test_extra_docs_lists_every_page_of_the_docs_site_once():
    listed = [page for pages in _extra_docs().values() for page in pages]
    pages = sorted(os.path.basename(p)[: -len('.rst')] for p in glob.glob(os.path.join(RST, '*.rst')))
    assert sorted(listed) == pages
    assert len(set(listed)) == len(listed)


def _title(page):
    lines = _read('docs', 'docsite', 'rst', page + '.rst').splitlines()
    return next(
        lines[i - 1]
        for i in range(1, len(lines))
        if lines[i] and set(lines[i]) == {'='} and lines[i - 1] and set(lines[i - 1]) != {'='}
    )


def test_the_readme_lists_every_guide_by_its_title_in_the_sites_order():
    text = _read('README.md')
    listed = re.findall(r'^- (.+)$', text.split('the guides in `docs/docsite/rst/`:', 1)[1].split('\n\n', 2)[1], re.M)
    assert listed == [_title(page) for page in _extra_docs()['Guides']]


def test_the_changelog_page_is_the_changelog():
    page = _read('docs', 'docsite', 'rst', 'changelog.rst')
    assert page.startswith(CHANGELOG_LABEL)
    label = CHANGELOG_LABEL.replace('\n', '\\n')  # as printf reads it
    assert page.removeprefix(CHANGELOG_LABEL) == _read('CHANGELOG.rst'), (
        'after antsibull-changelog release, refresh the docs page: '
        f"(printf '{label}'; cat CHANGELOG.rst) > docs/docsite/rst/changelog.rst"
    )
