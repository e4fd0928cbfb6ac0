"""Compare what a module returned with what its RETURN documents.

Every key a module returns must be documented (with the documented type), and
every key documented as `returned: always` must be there; both recursively
through `contains` for dicts and lists of dicts. Keys Ansible adds to every
result are not the module's to document.
"""

import ast

import yaml

ANSIBLE_KEYS = {
    'changed',
    'failed',
    'invocation',
    'diff',
    'warnings',
    'deprecations',
    'skipped',
    'skip_reason',
    'false_condition',
    'ansible_facts',
}
TYPES = {
    'str': str,
    'int': int,
    'bool': bool,
    'float': (int, float),
    'list': list,
    'dict': dict,
    'complex': (list, dict),
}


def module_docs(path):
    """{'DOCUMENTATION': ..., 'EXAMPLES': ..., 'RETURN': ...} of a module file, parsed."""
    docs = {}
    for node in ast.parse(open(path).read()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', None) in (
            'DOCUMENTATION',
            'EXAMPLES',
            'RETURN',
        ):
            docs[node.targets[0].id] = yaml.safe_load(node.value.value)
    return docs


def problems(result, documented, where='result'):
    """Human-readable mismatches between result (a dict) and documented (RETURN or a `contains`)."""
    found = []
    documented = documented or {}
    for key, value in sorted(result.items()):
        if where == 'result' and (
            key in ANSIBLE_KEYS or key.startswith('_ansible') or key == 'msg' and result.get('failed')
        ):
            continue
        doc = documented.get(key)
        if doc is None:
            found.append(f'{where}.{key} is returned but not documented')
            continue
        found += _value_problems(value, doc, f'{where}.{key}')
    if not result.get('failed'):
        for key, doc in sorted(documented.items()):
            if doc.get('returned') == 'always' and key not in result:
                found.append(f'{where}.{key} is documented as returned always but missing')
    return found


def _value_problems(value, doc, where):
    expected = TYPES.get(doc.get('type', 'str'))
    if value is None or expected is None:
        return []
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        return [f'{where} is {type(value).__name__}, documented as {doc.get("type")}']
    contains = doc.get('contains')
    if not contains:
        return []
    if isinstance(value, dict):
        return problems(value, contains, where)
    found = []
    for index, item in enumerate(value):
        if isinstance(item, dict):
            found += problems(item, contains, f'{where}[{index}]')
    return found
