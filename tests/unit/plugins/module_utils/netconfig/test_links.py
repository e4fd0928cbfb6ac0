"""links: which existing links are the declared ones and what purge may
delete, on real namespaces; the kernel's own deletions (a veth with its
peer, a macvlan with its parent) are the oracle."""

import errno

import pytest

from nsoracle import ip, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import rtnl_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import links
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.action import CLEAR
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import Side
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import NetState, read


def _side(name):
    side = Side(f"namespace '{name}'", NetState(), path=f'/run/netns/{name}')
    with rtnl_in(side.fd) as sock:
        side.set_state(read(sock))
    return side


def _names(netns):
    return sorted(link['ifname'] for link in ip('link', netns=netns))


def _stack(netns='a'):
    """v0/v1 a veth pair, m0 a macvlan on v0, br0 a bridge on its own."""
    sh('ip', 'netns', 'add', netns)
    sh('ip', '-n', netns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1')
    sh('ip', '-n', netns, 'link', 'add', 'm0', 'link', 'v0', 'type', 'macvlan')
    sh('ip', '-n', netns, 'link', 'add', 'br0', 'type', 'bridge')
    return _side(netns)


def _pair():
    """x0 in a, its veth peer x1 in b."""
    for name in ('a', 'b'):
        sh('ip', 'netns', 'add', name)
    sh('ip', 'link', 'add', 'x0', 'netns', 'a', 'type', 'veth', 'peer', 'name', 'x1', 'netns', 'b')
    return _side('a'), _side('b')


def test_kind_differs_except_for_physical():
    assert links.kind_differs({'kind': 'bridge'}, {'kind': 'veth'})
    assert not links.kind_differs({'kind': 'veth'}, {'kind': 'veth'})
    assert not links.kind_differs({'kind': 'physical'}, {'kind': None})


def test_dependents_are_what_the_kernel_deletes_with_the_link():
    side = _stack()
    predicted = links.dependents(side.state, side.state.links['v0']['index'])
    assert sorted(predicted) == ['m0', 'v1']
    assert links.dependents(side.state, side.state.links['br0']['index']) == []
    before = _names('a')
    sh('ip', '-n', 'a', 'link', 'del', 'v0')
    assert sorted(set(before) - set(_names('a'))) == sorted(['v0'] + predicted)


def test_lowers_are_the_links_a_link_sits_on():
    side = _stack()
    index = dict((name, link['index']) for name, link in side.state.links.items())
    assert links.lowers(side.state, ['m0']) == {index['v0'], index['v1']}
    assert links.lowers(side.state, ['br0', 'missing']) == set()


def test_kept_links_lists_each_namespace_links_and_veth_ends_put_there():
    a_links = [
        {'name': 'x0', 'kind': 'veth', 'peer': {'name': 'x1', 'netns': 'b'}},
        {'name': 'h0', 'kind': 'veth', 'peer': {'name': 'h1'}},
    ]
    decls = validate(
        [
            {'name': 'a', 'links': a_links},
            {'name': 'b', 'links': [{'name': 'br0', 'kind': 'bridge'}]},
            {'name': 'c', 'state': 'absent'},
        ]
    )
    assert links.kept_links(decls) == {'a': {'x0', 'h0'}, 'b': {'br0', 'x1'}, None: {'h1'}}


def test_purge_keeps_what_a_kept_link_sits_on_and_deletes_the_rest():
    side = _stack()
    doomed = links.Doomed([('a', side)])
    gone = set()
    actions = links.purge_links(side, {'m0'}, gone, doomed)
    assert [a.text for a in actions] == ["delete link br0 from namespace 'a' (not declared; purge)"]
    assert gone == {side.state.links['br0']['index']}
    for action in actions:
        action.run()
    assert _names('a') == ['lo', 'm0', 'v0', 'v1']


def test_purge_of_a_veth_end_names_what_goes_with_it():
    side = _stack()
    actions = links.purge_links(side, {'br0'}, set(), links.Doomed([('a', side)]))
    texts = [a.text for a in actions]
    # m0 comes first by name; v0 takes v1 along, which is not deleted again
    assert len(texts) == 2 and texts[0] == "delete link m0 from namespace 'a' (not declared; purge)"
    assert texts[1].startswith("delete link v0 from namespace 'a' with ") and 'v1' in texts[1]
    for action in actions:
        action.run()
    assert _names('a') == ['br0', 'lo']


def test_doomed_counts_a_veth_peer_in_another_namespace_gone():
    a, b = _pair()
    doomed = links.Doomed([('a', a), ('b', b)])
    words = doomed.deleting(a, 'x0')
    assert words == "its peer x1 in namespace 'b'"
    assert doomed.of(a) == {a.state.links['x0']['index']}
    assert doomed.of(b) == {b.state.links['x1']['index']}
    # b's own plan then finds nothing left to purge
    assert links.purge_links(b, set(), set(doomed.of(b)), doomed) == []


def test_purge_leaves_a_veth_end_whose_far_peer_is_kept():
    a, b = _pair()
    doomed = links.Doomed([('a', a), ('b', b)])
    assert links.far_peer_kept(a, a.state.links['x0'], doomed.others, {'b': {'x1'}})
    assert links.purge_links(a, set(), set(), doomed, kept={'b': {'x1'}}) == []
    actions = links.purge_links(a, set(), set(), doomed, kept={'b': set()})
    assert [x.text for x in actions] == [
        "delete link x0 from namespace 'a' with its peer x1 in namespace 'b' (not declared; purge)"
    ]


def test_delete_link_takes_an_end_already_gone_as_deleted():
    a, b = _pair()
    links.delete_link(a, 'x0')
    assert _names('b') == ['lo']
    links.delete_link(b, 'x1')  # ENODEV: gone with its peer
    # any other refusal is raised (the kernel keeps lo: EOPNOTSUPP)
    with pytest.raises(Exception) as exc:
        links.delete_link(a, 'lo')
    assert exc.value.code == errno.EOPNOTSUPP
    a.close()
    b.close()


def test_mismatch_names_the_actual_peer():
    a, b = _pair()
    sh('ip', '-n', 'b', 'link', 'add', 'y0', 'type', 'veth', 'peer', 'name', 'y1')
    b = _side('b')
    decl = validate(
        [
            {'name': 'a', 'links': [{'name': 'x0', 'kind': 'veth', 'peer': {'name': 'z1', 'netns': 'b'}}]},
            {
                'name': 'b',
                'links': [
                    {'name': 'y0', 'kind': 'veth', 'peer': {'name': 'y9', 'netns': 'a'}},
                    {'name': 'x1', 'kind': 'bridge'},
                ],
            },
        ]
    )
    sides = {'a': a, 'b': b}
    link = decl[0]['links'][0]
    assert links.mismatch(link, a.state.links['x0'], a, sides, None) == (
        "veth x0 in namespace 'a' is not paired with the declared peer z1 in namespace 'b': its peer is x1 in "
        "namespace 'b'"
    )
    assert links.mismatch(decl[1]['links'][0], b.state.links['y0'], b, sides, None) == (
        "veth y0 in namespace 'b' is not paired with the declared peer y9 in namespace 'a': its peer is y1 in the "
        "same namespace"
    )
    assert links.mismatch(decl[1]['links'][1], b.state.links['x1'], b, sides, None) == (
        "link x1 in namespace 'b' is a 'veth', not the declared 'bridge'"
    )
    declared_right = dict(link, peer=dict(link['peer'], name='x1'))
    assert links.mismatch(declared_right, a.state.links['x0'], a, sides, None) is None


def test_replace_link_needs_purge_and_spares_kept_links():
    side = _stack()
    link = validate([{'name': 'a', 'links': [{'name': 'v0', 'kind': 'bridge'}]}])[0]['links'][0]
    doomed = links.Doomed([('a', side)])
    with pytest.raises(NamespaceError) as exc:
        links.replace_link(side, link, side.state.links['v0'], False, {'v0'}, 'not the declared link', doomed)
    assert 'run with purge: true' in str(exc.value)
    with pytest.raises(NamespaceError) as exc:
        links.replace_link(side, link, side.state.links['v0'], True, {'v0', 'm0'}, 'not it', doomed)
    assert 'deleting it would delete m0 too' in str(exc.value)
    also, action = links.replace_link(side, link, side.state.links['v0'], True, {'v0'}, 'not it', doomed)
    assert sorted(also) == ['m0', 'v1']
    assert action.text == "delete veth v0 from namespace 'a' with m0, v1 to create it as declared, a bridge (purge)"
    action.run()
    assert _names('a') == ['br0', 'lo']


def test_stale_segment_links_delete_only_what_the_record_proves_was_made():
    sh('ip', 'netns', 'add', 'a')
    sh('ip', '-n', 'a', 'link', 'add', 'br42', 'type', 'bridge')
    sh('ip', '-n', 'a', 'link', 'add', 'br43', 'type', 'veth', 'peer', 'name', 'p43')
    side = _side('a')
    entries = [
        {'name': 'br42', 'kind': 'bridge', 'segment': 's1'},
        {'name': 'br43', 'kind': 'bridge', 'segment': 's1'},  # someone made a veth of that name since
        {'name': 'br44', 'kind': 'bridge', 'segment': 's1'},
    ]  # gone already
    doomed = links.Doomed([('a', side)])
    actions = links.stale_segment_links(side, entries, doomed)
    assert [(a.text, a.phase) for a in actions] == [
        ("delete bridge br42 from namespace 'a' (made for segment s1, which no longer declares it)", CLEAR)
    ]
    assert doomed.of(side) == {side.state.links['br42']['index']}
    actions[0].run()
    assert _names('a') == ['br43', 'lo', 'p43']


def test_made_for_segment_compares_a_vxlan_vni():
    entry = {'name': 'vx1', 'kind': 'vxlan', 'segment': 's', 'vni': 7}
    assert links.made_for_segment(entry, {'kind': 'vxlan', 'vxlan': {'vni': 7}})
    assert not links.made_for_segment(entry, {'kind': 'vxlan', 'vxlan': {'vni': 8}})
    assert not links.made_for_segment(entry, {'kind': 'bridge'})
    assert links.taken_along([], None) == '' and links.taken_along(['a'], 'its peer b') == ' with a, its peer b'
