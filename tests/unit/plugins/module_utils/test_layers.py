"""module_utils is layered by domain, and imports only go downwards.

basics (changes, errors, fileio, module_runner) < kernel < pins < netconfig, execute
< boot, hosts. A file may import its own domain and the domains below it; modules
and plugins sit above all of them. A later change that imports upwards (the
kernel wrappers reaching for the pin engine, say) fails here, which keeps
every domain usable and testable without the ones built on it.
"""

import ast
import os

import pytest

PACKAGE = 'ansible_collections.nsfd.namespaces.plugins.module_utils'
PLUGINS = 'ansible_collections.nsfd.namespaces.plugins'
MODULE_UTILS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'module_utils')

BASICS = ('changes', 'errors', 'fileio', 'module_runner')
RANK = {'basics': 0, 'kernel': 1, 'pins': 2, 'netconfig': 3, 'execute': 3, 'boot': 4, 'hosts': 4}


def domain_of(module):
    """The domain of a dotted name below module_utils ('pins.engine' -> 'pins')."""
    head = module.split('.')[0]
    return 'basics' if head in BASICS else head


def imported_names(source):
    """Every module_utils name (relative to PACKAGE) and plugin package a source imports."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            targets = [node.module] if node.module != PACKAGE else [PACKAGE + '.' + a.name for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for target in targets:
            if target.startswith(PACKAGE + '.'):
                yield node.lineno, target.removeprefix(PACKAGE + '.')
            elif target.startswith(PLUGINS + '.'):
                yield node.lineno, target


def violations(root):
    """(file, line, message) for every import that goes upwards or out of module_utils."""
    found = []
    for directory, _dirs, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            parts = relative[:-3].split(os.sep)
            if len(parts) == 1 and parts[0] not in BASICS:
                found.append((relative, 0, f'outside a domain folder, and not one of the basics {BASICS}'))
                continue
            own = domain_of('.'.join(parts))
            if own not in RANK:
                found.append((relative, 0, f'domain {own!r} is not in the layer table'))
                continue
            with open(path) as handle:
                source = handle.read()
            for line, target in imported_names(source):
                if target.startswith(PLUGINS):
                    found.append((relative, line, f'imports {target}: module_utils never imports plugins'))
                    continue
                other = domain_of(target)
                if other not in RANK:
                    found.append((relative, line, f'imports unknown domain {other!r}'))
                elif other != own and RANK[other] >= RANK[own]:
                    found.append((relative, line, f'imports {target}: {own} may not import {other}'))
    return found


def test_module_utils_imports_only_downwards():
    assert violations(MODULE_UTILS) == []


def declared_imports(domain):
    """The domains a domain's __init__ says it may import ('May import: pins, kernel and the basics.')."""
    with open(os.path.join(MODULE_UTILS, domain, '__init__.py')) as handle:
        doc = ast.get_docstring(ast.parse(handle.read()))
    sentence = doc.split('May import:', 1)[1].split('.')[0]
    words = set(sentence.replace('/', ' ').replace(',', ' ').replace('(', ' ').replace(')', ' ').split())
    return set(d for d in RANK if d in words)


def test_every_import_of_another_domain_is_one_its_init_declares():
    """The edges the architecture page (and each domain's __init__) allows, and no other: a lower
    domain that is not declared (boot reaching into execute, say) fails too."""
    found = []
    for domain in RANK:
        if domain == 'basics':
            continue
        allowed = declared_imports(domain)
        for directory, _dirs, files in os.walk(os.path.join(MODULE_UTILS, domain)):
            for name in sorted(f for f in files if f.endswith('.py')):
                with open(os.path.join(directory, name)) as handle:
                    source = handle.read()
                for line, target in imported_names(source):
                    other = domain_of(target.removeprefix(PLUGINS + '.'))
                    if other != domain and other not in allowed:
                        found.append((domain, name, line, target))
    assert found == []


def test_every_domain_has_an_init_that_says_what_it_is():
    for domain in RANK:
        if domain == 'basics':
            continue
        init = os.path.join(MODULE_UTILS, domain, '__init__.py')
        with open(init) as handle:
            doc = ast.get_docstring(ast.parse(handle.read()))
        assert doc and 'May import' in doc, init


def _tree(tmp_path, files):
    for relative, text in files.items():
        path = tmp_path.joinpath(*relative.split('/'))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize(
    'files, expected',
    [
        ({'kernel/rtnl.py': f'from {PACKAGE}.pins import engine\n'}, 'kernel may not import pins'),
        ({'pins/engine.py': f'from {PACKAGE}.boot.files import render\n'}, 'pins may not import boot'),
        (
            {'netconfig/plan.py': f'def f():\n    from {PACKAGE}.execute import command\n'},
            'netconfig may not import execute',
        ),
        ({'errors.py': f'import {PACKAGE}.kernel.syscalls\n'}, 'basics may not import kernel'),
        ({'kernel/nsid.py': f'from {PLUGINS}.modules import namespace\n'}, 'module_utils never imports plugins'),
        ({'helpers.py': ''}, 'outside a domain folder'),
    ],
)
def test_the_check_catches_an_upward_import(tmp_path, files, expected):
    found = violations(_tree(tmp_path, files))
    assert len(found) == 1 and expected in found[0][2], found


def test_the_check_allows_downward_and_sibling_imports(tmp_path):
    files = {
        'boot/files.py': f'from {PACKAGE}.netconfig.spec import validate\nfrom {PACKAGE} import fileio\n',
        'pins/engine.py': f'from {PACKAGE}.pins import pindir\nfrom {PACKAGE}.kernel import syscalls\n',
        'module_runner.py': f'from {PACKAGE}.errors import NamespaceError\n',
    }
    assert violations(_tree(tmp_path, files)) == []
