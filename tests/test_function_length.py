"""No function of the collection is over 60 lines (issue 24): a longer one
mixes steps that want names of their own (check, plan, apply). Counted from
the def to its last line, decorators aside, as ruff formats the code."""

import ast
import pathlib

PLUGINS = pathlib.Path(__file__).resolve().parent.parent / 'plugins'
LIMIT = 60


def long_functions(source):
    """(name, first line, lines) of every function or method in source over LIMIT lines."""
    return [
        (node.name, node.lineno, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > LIMIT
    ]


def test_the_counter_sees_a_long_function():
    body = ''.join(f'    x{i} = {i}\n' for i in range(LIMIT))
    assert long_functions(f'def f():\n{body}') == [('f', 1, LIMIT + 1)]
    assert long_functions('class C:\n    def short(self):\n        return 1\n') == []


def test_no_function_is_over_60_lines():
    found = [
        f'{path.relative_to(PLUGINS.parent)}:{line} {name} ({length} lines)'
        for path in sorted(PLUGINS.rglob('*.py'))
        for name, line, length in long_functions(path.read_text())
    ]
    assert not found, 'split these into steps with names of their own:\n' + '\n'.join(found)
