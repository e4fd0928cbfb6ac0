import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import (
    check_name,
    check_pin_path,
    check_types,
    name_problem,
)

BAD_NAMES = [
    '',
    '.',
    '..',
    'a/b',
    '/abs',
    'nul\x00byte',
    'new\nline',
    'tab\tbed',
    'del\x7f',
    '-rf',
    'x' * 256,
    '\u00e9' * 128,
    'nel\u0085',
    'line\u2028sep',
    'zero\u200bwidth',
    'csi\u009b',
]


@pytest.mark.parametrize('name', BAD_NAMES)
def test_bad_names_are_rejected(name):
    assert name_problem(name)
    with pytest.raises(NamespaceError):
        check_name(name)


@pytest.mark.parametrize(
    'name', ['blue', '123', '0', 'x' * 255, 'tenant-1.a_b', 'a b', "it's", 'a;b', '$(id)', 'caf\u00e9']
)
def test_good_names_are_accepted(name):
    assert name_problem(name) is None
    assert check_name(name) == name


def test_name_limit_counts_bytes_not_characters():
    assert name_problem('\u00e9' * 127) is None  # 254 bytes
    assert 'bytes' in name_problem('\u00e9' * 128)


def test_types_normalise_to_creation_order_without_duplicates():
    assert check_types('net') == ['net']
    assert check_types(['time', 'net', 'user', 'net']) == ['user', 'net', 'time']


@pytest.mark.parametrize('types', [[], ['bogus'], ['net', 'netns']])
def test_bad_types_are_rejected(types):
    with pytest.raises(NamespaceError):
        check_types(types)


@pytest.mark.parametrize('path', ['relative/pin', '/run/netns/', '/run/netns/..', 'x'])
def test_bad_pin_paths(path):
    with pytest.raises(NamespaceError):
        check_pin_path(path)


def test_pin_path_is_normalised():
    assert check_pin_path('/run//netns/./blue') == '/run/netns/blue'
