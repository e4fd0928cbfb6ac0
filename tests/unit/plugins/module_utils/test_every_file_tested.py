"""Every module_utils file has a unit test file that imports it.

The test files under tests/unit/plugins/module_utils/ are read with ast
(imports inside functions count too); a file of plugins/module_utils/ that
none of them imports fails here, unless UNTESTED names it with the reason.
A test that only reaches a file through another one (a module, the engine)
does not count: a change to the file should break a test written for it.
"""

import ast
import os

PACKAGE = 'ansible_collections.nsfd.namespaces.plugins.module_utils'
HERE = os.path.dirname(os.path.abspath(__file__))
MODULE_UTILS = os.path.join(HERE, '..', '..', '..', '..', 'plugins', 'module_utils')

# 'domain/file.py' (or 'file.py' for the basics): why it has no test file of its own.
UNTESTED = {}


def module_utils_files():
    """'kernel/syscalls.py' and so on: every file of module_utils but the __init__.py files."""
    found = []
    for directory, _dirs, files in os.walk(MODULE_UTILS):
        for name in files:
            if name.endswith('.py') and name != '__init__.py':
                found.append(os.path.relpath(os.path.join(directory, name), MODULE_UTILS).replace(os.sep, '/'))
    return sorted(found)


def imported_files(source):
    """The module_utils files ('pins/engine.py') a Python source imports, in any form:
    from PACKAGE.pins import engine, from PACKAGE.pins.engine import X, import PACKAGE.pins.engine."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and (node.module + '.').startswith(PACKAGE + '.'):
            base = node.module.removeprefix(PACKAGE).removeprefix('.')
            found.add(base)
            found.update((base + '.' if base else '') + alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.removeprefix(PACKAGE + '.') for alias in node.names if alias.name.startswith(PACKAGE + '.')
            )
    return set(name.replace('.', '/') + '.py' for name in found if name)


def tested_files():
    """{module_utils file: [test files importing it]} over the test files under this directory."""
    tested = {}
    for directory, _dirs, files in os.walk(HERE):
        for name in files:
            if name.startswith('test_') and name.endswith('.py'):
                path = os.path.join(directory, name)
                with open(path) as handle:
                    source = handle.read()
                for imported in imported_files(source):
                    tested.setdefault(imported, []).append(os.path.relpath(path, HERE))
    return tested


def test_the_import_reader_sees_every_form():
    source = (
        'from %s import fileio\n'
        'from %s.pins import engine, spec as pin_spec\n'
        'from %s.kernel.childproc import Child\n'
        'def later():\n'
        '    import %s.netconfig.record\n'
        'from os import path\n'
    ) % ((PACKAGE,) * 4)
    assert imported_files(source) >= {
        'fileio.py',
        'pins/engine.py',
        'pins/spec.py',
        'kernel/childproc.py',
        'netconfig/record.py',
    }
    assert not any(name.startswith('os') for name in imported_files(source))


def test_every_module_utils_file_has_a_test_file_that_imports_it():
    tested = tested_files()
    missing = [name for name in module_utils_files() if name not in tested and name not in UNTESTED]
    assert missing == [], (
        f'no test file under tests/unit/plugins/module_utils/ imports {", ".join(missing)}: add '
        '<domain>/test_<file>.py, or name it in UNTESTED with the reason'
    )


def test_untested_lists_only_files_that_exist_and_have_no_test_file():
    files = set(module_utils_files())
    tested = tested_files()
    assert [name for name in UNTESTED if name not in files] == []
    assert [name for name in UNTESTED if name in tested] == []
    assert all(isinstance(reason, str) and reason.strip() for reason in UNTESTED.values())
