import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.spec import build, parse_id_map, parse_offsets


def test_defaults_to_a_net_pin_in_run_netns():
    spec = build('blue')
    assert spec.types == ['net']
    assert spec.locations['net'].path == '/run/netns/blue'
    assert not spec.attach


def test_each_type_has_its_pinns_directory():
    spec = build('vs', ['net', 'uts', 'ipc', 'mnt', 'pid', 'user', 'cgroup', 'time'])
    assert dict((t, loc.path) for t, loc in spec.locations.items()) == {
        'net': '/run/netns/vs',
        'uts': '/run/utsns/vs',
        'ipc': '/run/ipcns/vs',
        'mnt': '/run/mntns/vs',
        'pid': '/run/pidns/vs',
        'user': '/run/userns/vs',
        'cgroup': '/run/cgroupns/vs',
        'time': '/run/timens/vs',
    }


def test_explicit_path_names_the_pin():
    spec = build(path='/srv/pins/uts-a', types='uts')
    assert spec.name == 'uts-a'
    assert spec.locations['uts'].path == '/srv/pins/uts-a'


@pytest.mark.parametrize(
    'kwargs, words',
    [
        (dict(name='a', types=['net', 'uts'], path='/x/y'), 'exactly one type'),
        (dict(name='a', types=['net', 'uts'], pin_dir='/x'), 'one type'),
        (dict(name='a', pin_dir='relative'), 'absolute'),
        (dict(name='a', path='/x/y', pin_dir='/x'), 'mutually exclusive'),
        (dict(name='a', source_pid=1, source_path='/proc/1/ns/net'), 'mutually exclusive'),
        (dict(name='a', source_pid=0), 'positive'),
        (dict(name='a', source_pid=True), 'positive'),
        (dict(name='a', types=['net', 'uts'], source_path='/proc/1/ns/net'), 'exactly one type'),
        (dict(name='a', hostname='h'), "add 'uts'"),
        (dict(name='a', types='uts', hostname='h' * 65), 'longer than 64'),
        (dict(name='a', uid_map=['0 0 1']), "add 'user'"),
        (dict(name='a', time_offsets={'monotonic': 1}), "add 'time'"),
        (dict(name='a', types='user', uid_map=['0 0 1'], source_pid=1), 'fixed when a namespace is created'),
        (dict(name=None), 'name is required'),
        (dict(name='a', pin_dir='/'), 'root directory'),
        (dict(name='a', pin_dir='/run/../'), 'root directory'),
        (dict(name='a', pin_dir='/run/ne\x00t'), 'control characters'),
        (dict(name='a', pin_dir='/run/ne\nt'), 'control characters'),
        (dict(name='a', path='/run/netns/a\u2028b'), 'control characters'),
        (dict(name='a', types='uts', hostname='web\nevil'), 'control characters'),
        (dict(name='a', types='uts', domainname='d\u0085'), 'control characters'),
        (dict(name='a', types='time', time_offsets={'monotonic': float('inf')}), 'finite'),
        (dict(name='a', types='time', time_offsets={'monotonic': 1e400}), 'finite'),
        (dict(name='a', types='time', time_offsets={'boottime': True}), 'finite'),
        (dict(name='a', types='user', uid_map=[{'inside': 0, 'outside': 0, 'count': 1.9}]), 'three integers'),
        (dict(name='a', types='user', uid_map=[{'inside': True, 'outside': 0}]), 'three integers'),
        (dict(name='a', types='user', uid_map=['4294967295 0 2']), '32-bit'),
    ],
)
def test_bad_combinations_fail_before_anything_happens(kwargs, words):
    with pytest.raises(NamespaceError) as info:
        build(**kwargs)
    assert words in str(info.value)


def test_id_maps_accept_strings_and_dicts():
    assert parse_id_map(
        ['0 100000 65536', {'inside': 1, 'outside': 2, 'count': 3}, {'inside': 5, 'outside': 6}], 'uid_map'
    ) == [(0, 100000, 65536), (1, 2, 3), (5, 6, 1)]


@pytest.mark.parametrize('entry', ['0 1', 'a b c', '0 0 0', '-1 0 1', {'inside': 0, 'outsde': 1}, 7])
def test_bad_id_map_lines(entry):
    with pytest.raises(NamespaceError) as info:
        parse_id_map([entry], 'uid_map')
    assert 'uid_map[0]' in str(info.value)


def test_offsets_in_seconds_or_seconds_and_nanoseconds():
    assert parse_offsets({'monotonic': 86400, 'boottime': -1.5}) == {
        'monotonic': (86400, 0),
        'boottime': (-2, 500000000),
    }
    assert parse_offsets({'monotonic': '10 20'}) == {'monotonic': (10, 20)}


@pytest.mark.parametrize('offsets', [{'realtime': 1}, {'monotonic': 'soon'}, {'boottime': '1 2000000000'}])
def test_bad_offsets(offsets):
    with pytest.raises(NamespaceError):
        parse_offsets(offsets)
