"""record: the intent log of what a caller manages on a host, written and
read back, with its intent/after semantics and a damaged record's error."""

import json
import os

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import record
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate


def _declared(*items):
    return validate(list(items))


def _segment_ns(name, segment='s1', vni=42):
    return {
        'name': name,
        'links': [
            {'name': f'br{vni}', 'kind': 'bridge', 'segment': segment},
            {'name': f'vx{vni}', 'kind': 'vxlan', 'vni': vni, 'local': '192.0.2.1', 'segment': segment},
        ],
    }


def test_no_record_reads_as_empty(tmp_path):
    empty = record.read(str(tmp_path / 'record.json'))
    assert empty.managed() == [] and empty.files == {} and empty.services == [] and empty.links == {}


def test_write_read_round_trip(tmp_path):
    path = str(tmp_path / 'state' / 'record.json')
    declared = _declared(
        {'name': 'blue', 'files': {'hosts': 'x', 'resolv.conf': 'y'}, 'services': ['web.service']}, _segment_ns('red')
    )
    written = record.intent(record.Record(), declared)
    assert record.write(path, written) is True
    back = record.read(path)
    assert back.managed() == ['blue', 'red']
    assert back.files == {'blue': {'hosts', 'resolv.conf'}}
    assert back.services == [
        {'name': 'web.service', 'namespace': 'blue', 'restart': False, 'writable_etc': False, 'bind_etc': True}
    ]
    assert back.links == {
        'red': [
            {'name': 'br42', 'kind': 'bridge', 'segment': 's1'},
            {'name': 'vx42', 'kind': 'vxlan', 'segment': 's1', 'vni': 42},
        ]
    }
    assert back.content() == written.content()
    # unchanged: not written again
    assert record.write(path, back) is False


def test_empty_parts_are_left_out_of_the_file(tmp_path):
    path = str(tmp_path / 'record.json')
    record.write(path, record.Record(['blue']))
    with open(path) as handle:
        assert json.load(handle) == {'namespaces': ['blue']}


def test_check_mode_writes_nothing_but_says_it_would(tmp_path):
    path = str(tmp_path / 'record.json')
    assert record.write(path, record.Record(['blue']), check_mode=True) is True
    assert not os.path.exists(path)


def test_write_removes_the_temp_files_of_a_killed_write(tmp_path):
    path = str(tmp_path / 'record.json')
    leftover = tmp_path / '.record.json.abc123'
    leftover.write_text('{"namespaces": [')
    (tmp_path / 'other').write_text('kept')
    record.write(path, record.Record(['blue']))
    assert sorted(os.listdir(str(tmp_path))) == ['other', 'record.json']


def test_intent_records_every_name_before_the_run_and_after_drops_only_what_is_gone():
    recorded = record.Record(['old'], {'old': ['hosts']})
    declared = _declared({'name': 'blue', 'files': {'hosts': 'x'}}, {'name': 'gone', 'state': 'absent'})
    intended = record.intent(recorded, declared)
    # the recorded name stays until it is gone; a name declared absent is not added
    assert intended.managed() == ['blue', 'old']
    assert intended.files == {'old': {'hosts'}, 'blue': {'hosts'}}
    after = record.after(intended, gone=['old'], exists=lambda name, rel: name == 'blue')
    assert after.managed() == ['blue'] and after.files == {'blue': {'hosts'}}
    # a killed run: nothing gone, and the files that do not exist are forgotten
    assert record.after(intended, gone=[], exists=lambda name, rel: False).managed() == ['blue', 'old']


def test_to_prune_lists_names_declared_neither_present_nor_absent():
    recorded = record.Record(['blue', 'red', 'green'])
    declared = _declared({'name': 'blue'}, {'name': 'red', 'state': 'absent'})
    assert record.to_prune(recorded, declared) == ['green']


def test_undeclared_services_are_kept_in_the_intent_to_be_taken_out():
    recorded = record.Record(['blue'], services=[{'name': 'old.service', 'namespace': 'blue'}])
    declared = _declared({'name': 'blue', 'services': ['web.service']})
    assert record.undeclared_services(recorded, declared) == [{'name': 'old.service', 'namespace': 'blue'}]
    names = [s['name'] for s in record.intent(recorded, declared).services]
    assert names == ['web.service', 'old.service']


def test_segment_links_no_longer_declared_are_stale():
    recorded = record.intent(record.Record(), _declared(_segment_ns('red', vni=42)))
    # the segment changed its id: both old links are stale
    now = _declared(_segment_ns('red', vni=43))
    assert [e['name'] for e in record.stale_links(recorded, now)['red']] == ['br42', 'vx42']
    # the same declaration: nothing stale
    assert record.stale_links(recorded, _declared(_segment_ns('red', vni=42))) == {}
    # a namespace declared absent or pruned goes with all its links
    assert record.stale_links(recorded, _declared({'name': 'red', 'state': 'absent'})) == {}
    assert record.stale_links(recorded, [], leaving=['red']) == {}
    # a failed namespace keeps its recorded links, the others keep only the declared ones
    assert record.links_after(recorded, now, failed=['red']) == recorded.links
    assert record.links_after(recorded, now, failed=[]) == {'red': []}


@pytest.mark.parametrize(
    'content, words',
    [
        ('{"namespaces": [', 'Expecting'),
        ('[]', 'list indices'),
        ('{}', "'namespaces'"),
        ('{"namespaces": "blue"}', 'namespaces is not a list of names'),
        ('{"namespaces": ["../etc"]}', "namespaces holds '../etc'"),
        ('{"namespaces": ["blue"], "files": {"blue": ["../../etc/passwd"]}}', 'not a normalised relative path'),
        ('{"namespaces": ["blue"], "files": {"blue": ["/etc/passwd"]}}', 'not a normalised relative path'),
        ('{"namespaces": ["blue"], "services": [{"name": "x"}]}', 'services holds'),
        (
            '{"namespaces": ["blue"], "services": [{"name": "x", "namespace": "blue", "restart": "yes"}]}',
            'services holds',
        ),
        ('{"namespaces": ["blue"], "links": {"red": []}}', "links['red']"),
        (
            '{"namespaces": ["blue"], "links": {"blue": [{"name": "a/b", "kind": "bridge", "segment": "s"}]}}',
            "links['blue']",
        ),
        (
            '{"namespaces": ["blue"], '
            '"links": {"blue": [{"name": "v", "kind": "vxlan", "segment": "s", "vni": true}]}}',
            "links['blue']",
        ),
    ],
)
def test_a_damaged_record_is_an_error_naming_the_file(tmp_path, content, words):
    path = str(tmp_path / 'record.json')
    with open(path, 'w') as handle:
        handle.write(content)
    with pytest.raises(NamespaceError) as exc:
        record.read(path)
    assert exc.value.path == path and words in str(exc.value)
    assert 'without it, nothing is pruned' in str(exc.value)
