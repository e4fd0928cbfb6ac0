"""Segments as the netns role converges them (issue 22): the netns_segments
expansion fed to netns_config with a record and without purge, as the role
defaults do. A segment whose id changes, or that is removed, must not leave
its old bridge and vxlan behind (a second route to the subnet, flooding
under the old VNI), and two segments swapping ids converge in one run.
`ip -d -j link` and `ip route` are the oracles."""

import json
import subprocess

import pytest

from moduleharness import netns_config_run

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.fleet import expand_for_host

HOSTVARS = {'host1': {'lab_address': '10.77.0.1'}, 'host2': {'lab_address': '10.77.0.2'}}


def sh(script):
    subprocess.run(['sh', '-ec', script], check=True, capture_output=True)


def links(netns):
    """{name: (kind, VNI or None)} of the links in netns, lo left out."""
    found = {}
    for link in json.loads(
        subprocess.run(
            ['ip', '-n', netns, '-d', '-j', 'link', 'show'], capture_output=True, text=True, check=True
        ).stdout
    ):
        info = link.get('linkinfo') or {}
        if link['ifname'] != 'lo':
            found[link['ifname']] = (info.get('info_kind'), (info.get('info_data') or {}).get('id'))
    return found


def routes(netns, dst):
    return subprocess.run(
        ['ip', '-n', netns, 'route', 'show', dst], capture_output=True, text=True, check=True
    ).stdout.splitlines()


@pytest.fixture
def underlay():
    """host1's underlay: u1 (10.77.0.1), one end of a veth pair in the sandbox's own namespace."""
    sh('ip link add u1 type veth peer name u2; ip addr add 10.77.0.1/24 dev u1; ip link set u1 up; ip link set u2 up')


def segment(name, vni, subnet, **extra):
    return dict({'name': name, 'id': vni, 'subnet': subnet, 'members': ['host1', 'host2']}, **extra)


def role_run(capsys, tmp_path, segments, namespaces=(), **kwargs):
    """What the role does on host1 with its defaults: purge and prune off, a record."""
    declared = expand_for_host(
        segments, 'host1', HOSTVARS, namespaces=list(namespaces), underlay_var='lab_address', underlay_device='u1'
    )
    return netns_config_run(capsys, declared, record=str(tmp_path / 'managed.json'), **kwargs)


def converged_twice(capsys, tmp_path, segments, **kwargs):
    out = role_run(capsys, tmp_path, segments, **kwargs)
    assert not out.get('failed'), out
    again = role_run(capsys, tmp_path, segments, **kwargs)
    assert not again.get('failed') and not again['changed'], again
    return out


def test_a_changed_id_replaces_the_segments_bridge_and_vxlan_without_purge(capsys, tmp_path, underlay):
    converged_twice(capsys, tmp_path, [segment('red', 100, '10.200.0.0/24')])
    assert links('red') == {'br100': ('bridge', None), 'vx100': ('vxlan', 100)}
    out = converged_twice(capsys, tmp_path, [segment('red', 200, '10.200.0.0/24')])
    assert links('red') == {'br200': ('bridge', None), 'vx200': ('vxlan', 200)}, 'the old VNI is still there'
    assert len(routes('red', '10.200.0.0/24')) == 1, routes('red', '10.200.0.0/24')
    assert out['namespaces'][0]['changes'][:2] == [
        "delete bridge br100 from namespace 'red' (made for segment red, which no longer declares it)",
        "delete vxlan vx100 from namespace 'red' (made for segment red, which no longer declares it)",
    ]
    with open(str(tmp_path / 'managed.json')) as handle:
        assert json.load(handle)['links'] == {
            'red': [
                {'kind': 'bridge', 'name': 'br200', 'segment': 'red'},
                {'kind': 'vxlan', 'name': 'vx200', 'segment': 'red', 'vni': 200},
            ]
        }


def test_a_removed_segment_takes_its_links_along_and_leaves_what_it_did_not_make(capsys, tmp_path, underlay):
    """Without prune the namespace stays (the role made it), but no longer
    floods its old peers; links someone else made there, or named like a
    segment's in another namespace, are never touched."""
    red, blue = segment('red', 100, '10.200.0.0/24'), segment('blue', 300, '10.201.0.0/24')
    converged_twice(capsys, tmp_path, [red, blue])
    sh('ip -n red link add mine type bridge; ip netns add other; ip -n other link add br100 type bridge')
    converged_twice(capsys, tmp_path, [blue])
    assert links('red') == {'mine': ('bridge', None)}
    assert links('blue') == {'br300': ('bridge', None), 'vx300': ('vxlan', 300)}
    assert links('other') == {'br100': ('bridge', None)}


def test_a_link_made_since_under_a_recorded_name_is_not_deleted(capsys, tmp_path, underlay):
    """The record proves a link was made only while it is of the recorded
    kind (and VNI): one someone made under that name since stays."""
    converged_twice(capsys, tmp_path, [segment('red', 100, '10.200.0.0/24')])
    sh('ip -n red link del vx100; ip -n red link del br100; ip -n red link add br100 type veth peer name x0')
    converged_twice(capsys, tmp_path, [segment('red', 200, '10.200.0.0/24')])
    assert links('red') == {
        'br100': ('veth', None),
        'x0': ('veth', None),
        'br200': ('bridge', None),
        'vx200': ('vxlan', 200),
    }


@pytest.mark.parametrize('shared', [False, True], ids=['own-namespaces', 'one-namespace'])
def test_two_segments_swapping_ids_converge_in_one_run(capsys, tmp_path, underlay, shared):
    extra = {'namespace': 'tenant'} if shared else {}
    red, blue = segment('red', 100, '10.200.0.0/24', **extra), segment('blue', 200, '10.201.0.0/24', **extra)
    converged_twice(capsys, tmp_path, [red, blue])
    converged_twice(capsys, tmp_path, [dict(red, id=200), dict(blue, id=100)])
    if shared:
        assert links('tenant') == {
            'br100': ('bridge', None),
            'vx100': ('vxlan', 100),
            'br200': ('bridge', None),
            'vx200': ('vxlan', 200),
        }
        # each bridge holds only its segment's address now: one route per subnet, out of the right bridge
        assert [r.split()[2] for r in routes('tenant', '10.200.0.0/24')] == ['br200']
        assert [r.split()[2] for r in routes('tenant', '10.201.0.0/24')] == ['br100']
    else:
        assert links('red') == {'br200': ('bridge', None), 'vx200': ('vxlan', 200)}
        assert links('blue') == {'br100': ('bridge', None), 'vx100': ('vxlan', 100)}


def test_check_mode_reports_the_deletions_and_touches_nothing(capsys, tmp_path, underlay):
    converged_twice(capsys, tmp_path, [segment('red', 100, '10.200.0.0/24')])
    with open(str(tmp_path / 'managed.json')) as handle:
        before = handle.read()
    out = role_run(capsys, tmp_path, [segment('red', 200, '10.200.0.0/24')], check_mode=True)
    assert (
        out['changed']
        and "delete vxlan vx100 from namespace 'red' (made for segment red, which no longer declares it)"
        in out['namespaces'][0]['changes']
    ), out
    assert links('red') == {'br100': ('bridge', None), 'vx100': ('vxlan', 100)}
    with open(str(tmp_path / 'managed.json')) as handle:
        assert handle.read() == before


@pytest.mark.parametrize(
    'links',
    [
        {'red': [{'name': 'br100', 'kind': 'bridge'}]},
        {'red': [{'name': '-x', 'kind': 'bridge', 'segment': 'red'}]},
        {'red': [{'name': 'vx100', 'kind': 'vxlan', 'segment': 'red', 'vni': '100'}]},
        {'gone': [{'name': 'br100', 'kind': 'bridge', 'segment': 'red'}]},
        ['br100'],
    ],
)
def test_a_record_with_malformed_links_fails_before_anything_is_touched(capsys, tmp_path, underlay, links):
    """Recorded links are deleted without purge: the record must name them as plainly as a declaration."""
    converged_twice(capsys, tmp_path, [segment('red', 100, '10.200.0.0/24')])
    path = tmp_path / 'managed.json'
    path.write_text(json.dumps({'namespaces': ['red'], 'links': links}))
    out = role_run(capsys, tmp_path, [])
    assert out.get('failed') and 'links' in out['msg'] and str(path) in out['msg'], out
    assert links_of_red_unchanged()


def links_of_red_unchanged():
    return links('red') == {'br100': ('bridge', None), 'vx100': ('vxlan', 100)}
