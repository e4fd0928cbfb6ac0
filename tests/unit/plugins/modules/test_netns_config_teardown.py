"""Tearing a veth lab down with netns_config (issue 22): the kernel deletes
a veth with its peer, so a pair across two namespaces of one call is
deleted once, whichever side the call names first. `ip -j` is the oracle."""

import os
import subprocess

import pytest

from ansible_collections.nsfd.namespaces.plugins.filter.netns_absent import FilterModule
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge as converge_util
from moduleharness import netns_config_run as converge, netns_config_twice as converged_twice
from nsoracle import ip, sh

netns_absent = FilterModule().filters()['netns_absent']


def names(netns=None):
    return [lk['ifname'] for lk in ip('link', netns=netns)]


# left:veth0 <-> right:veth0, and a host end from each side
LAB = [
    {
        'name': 'left',
        'links': [
            {
                'name': 'veth0',
                'kind': 'veth',
                'addresses': ['10.9.0.1/30'],
                'peer': {'name': 'veth0', 'netns': 'right', 'addresses': ['10.9.0.2/30']},
            },
            {'name': 'up0', 'kind': 'veth', 'peer': {'name': 'left-h'}},
        ],
    },
    {'name': 'right', 'links': [{'name': 'up0', 'kind': 'veth', 'peer': {'name': 'right-h'}}]},
]


def changes(out):
    return [c for n in out['namespaces'] for c in n['changes']]


@pytest.mark.parametrize('order', [['left', 'right'], ['right', 'left']])
def test_both_namespaces_absent_delete_the_pair_once_and_both_go(capsys, order):
    converged_twice(capsys, LAB)
    gone = [netns_absent(name) for name in order]
    predicted = converge(capsys, gone, check_mode=True)
    assert not predicted.get('failed'), predicted
    deletions = [c for c in changes(predicted) if 'veth0' in c]
    assert len(deletions) == 1 and 'its peer veth0' in deletions[0], changes(predicted)
    out = converge(capsys, gone)
    assert not out.get('failed'), out
    assert changes(out) == changes(predicted)
    assert not os.path.exists('/run/netns/left') and not os.path.exists('/run/netns/right')
    assert names() == ['lo'], 'the host ends went too'
    assert not converge(capsys, gone)['changed']


@pytest.mark.parametrize('order', [['left', 'right'], ['right', 'left']])
def test_purge_on_both_sides_deletes_the_pair_once(capsys, order):
    converged_twice(capsys, LAB)
    bare = [{'name': name} for name in order]
    predicted = converge(capsys, bare, purge=True, check_mode=True)
    assert len([c for c in changes(predicted) if 'veth0' in c]) == 1, changes(predicted)
    out = converged_twice(capsys, bare, purge=True)
    assert changes(out) == changes(predicted)
    assert names('left') == ['lo'] and names('right') == ['lo'] and names() == ['lo']


@pytest.mark.parametrize('order', [['left', 'right'], ['right', 'left']])
def test_one_namespace_absent_and_the_other_purging_its_end(capsys, order):
    """left goes (its veth0 takes right's along); right, purged, must not
    delete its end again, nor plan routes over it."""
    converged_twice(capsys, LAB)
    sh('ip', '-n', 'right', 'route', 'add', '10.77.0.0/16', 'via', '10.9.0.1')
    decl = dict(left=netns_absent('left'), right={'name': 'right', 'links': LAB[1]['links']})
    asked = [decl[name] for name in order]
    predicted = converge(capsys, asked, purge=True, check_mode=True)
    assert len([c for c in changes(predicted) if 'veth0' in c]) == 1, changes(predicted)
    out = converge(capsys, asked, purge=True)
    assert not out.get('failed'), out
    assert changes(out) == changes(predicted)
    assert not os.path.exists('/run/netns/left') and names('right') == ['lo', 'up0']
    assert not converge(capsys, asked, purge=True)['changed']


def test_a_veth_pair_inside_one_namespace_is_deleted_once(capsys):
    sh('ip', 'netns', 'add', 'n')
    sh('ip', '-n', 'n', 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0')
    sh('ip', '-n', 'n', 'link', 'add', 'link', 'b0', 'name', 'mv0', 'type', 'macvlan')
    out = converge(capsys, [netns_absent('n')])
    assert not out.get('failed'), out
    assert out['namespaces'][0]['changes'][0] == "delete veth a0 in namespace 'n' with b0, mv0"
    assert len(out['namespaces'][0]['changes']) == 2 and not os.path.exists('/run/netns/n')


def test_a_veth_end_gone_between_plan_and_run_counts_as_deleted(capsys, monkeypatch):
    """right's purge plans the deletion of veth0; before it runs, someone
    deletes left's end, which takes right's along (ENODEV): done."""
    converged_twice(capsys, LAB)
    run_phase = converge_util._run_phase

    def gone_first(*args):
        subprocess.run(['ip', '-n', 'left', 'link', 'del', 'veth0'], capture_output=True, check=False)
        return run_phase(*args)

    monkeypatch.setattr(converge_util, '_run_phase', gone_first)
    out = converge(capsys, [{'name': 'right', 'links': LAB[1]['links']}], purge=True)
    assert not out.get('failed'), out
    assert out['namespaces'][0]['changes'] == ["delete link veth0 from namespace 'right' (not declared; purge)"]
    assert names('right') == ['lo', 'up0']


def test_a_failing_step_is_told_in_words_in_the_headline(capsys, monkeypatch):
    """A host link takes the veth peer's name between plan and run: the
    kernel's EEXIST reaches the headline as words, with what to do."""
    run_phase = converge_util._run_phase

    def taken_first(*args):
        subprocess.run(['ip', 'link', 'add', 'left-h', 'type', 'bridge'], capture_output=True, check=False)
        return run_phase(*args)

    monkeypatch.setattr(converge_util, '_run_phase', taken_first)
    out = converge(capsys, [{'name': 'ok'}, LAB[0], {'name': 'right'}])
    assert out['failed'], out
    msg = out['msg']
    assert "namespace 'left': create veth up0 in namespace 'left' with peer left-h in the host failed" in msg, msg
    assert 'File exists (errno 17 EEXIST)' in msg and 'purge' in msg, msg
    assert "(17, 'File exists')" not in msg and 'Done before' not in msg, msg
    assert 'Done before: ' in out['namespaces'][1]['msg']
