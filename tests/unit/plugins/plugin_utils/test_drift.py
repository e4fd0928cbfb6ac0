"""The drift report's data and table (plugin_utils/drift.py) from netns_config results of every shape a host
can leave: in sync, drift (namespaces, services, boot files), failed, skipped and none (issue 26)."""

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.drift import cell, report, table

DRIFTED = {
    'changed': True,
    'namespaces': [
        {
            'name': 'red',
            'changes': ["add address 10.9.0.1/24 to b0 in namespace 'red'"],
            'details': [{'kind': 'address', 'object': 'b0', 'before': None, 'after': '10.9.0.1/24'}],
        },
        {'name': 'blue', 'changes': [], 'details': []},
    ],
    'services': [
        {
            'unit': 'web.service',
            'namespace': 'red',
            'state': 'present',
            'changes': ['write /etc/systemd/system/web.service.d/50-nsfd-netns.conf'],
        }
    ],
    'boot': {'changed': True, 'changes': ['write /etc/nsfd-netns/namespaces.sh']},
}


def test_changes_of_namespaces_services_and_boot_files_in_order_and_per_host_statuses():
    data = report([('r1', DRIFTED), ('r2', {'changed': False, 'namespaces': [{'name': 'red', 'changes': []}]})])
    assert (data['drift'], data['errors'], data['count']) == (True, False, 3)
    assert [(c['host'], c['namespace'], c['kind'], c['object'], c['after']) for c in data['changes']] == [
        ('r1', 'red', 'address', 'b0', '10.9.0.1/24'),
        ('r1', 'red', 'service', 'web.service', 'placed'),
        ('r1', '', 'boot', '/etc/nsfd-netns/namespaces.sh', None),
    ]
    assert data['changes'][0]['change'] == "add address 10.9.0.1/24 to b0 in namespace 'red'"
    assert dict((h, e['status']) for h, e in data['hosts'].items()) == {'r1': 'drift', 'r2': 'in sync'}
    text = table(data).split('\n')
    assert text[0].split() == ['HOST', 'NAMESPACE', 'KIND', 'OBJECT', 'BEFORE', 'AFTER']
    assert text[1].split() == ['r1', 'red', 'address', 'b0', '-', '10.9.0.1/24']
    assert text[3].split() == ['r1', '-', 'boot', '/etc/nsfd-netns/namespaces.sh', '-', '-']
    assert text[-3:] == [
        'r1: 3 differences from the declaration',
        'r2: in sync with the declaration',
        '3 differences on 1 host',
    ]


def test_hosts_without_a_full_result_are_errors_named_in_the_table():
    failed = {
        'failed': True,
        'msg': 'netns_config failed for ...',
        'namespaces': [{'name': 'red', 'changes': [], 'failed': True, 'msg': 'link b0 is a veth'}],
    }
    data = report(
        [
            ('r1', failed),
            ('r2', {'skipped': True, 'false_condition': 'pyroute2 is missing'}),
            ('r3', None),
            ('r4', {'unreachable': True, 'msg': 'no pin'}),
        ]
    )
    assert data['errors'] and not data['drift']
    assert [e['status'] for e in data['hosts'].values()] == ['failed', 'skipped', 'no result', 'failed']
    text = table(data)
    assert "r1: FAILED: namespace 'red': link b0 is a veth" in text and 'r4: FAILED: no pin' in text
    assert 'r2: SKIPPED: netns_config was skipped: pyroute2 is missing' in text
    assert text.endswith('0 differences on 0 hosts, 4 hosts without a report')


def test_an_empty_report_says_so_and_cells_are_short_and_on_one_line():
    assert table(report([('r1', {'namespaces': []})])).endswith('no drift: every host is as its declaration says')
    assert cell(None) == '-' and cell({'mtu': 1400}) == 'mtu 1400' and cell('a\nb\n') == 'a\\nb\\n'
    assert cell('x' * 100) == 'x' * 45 + '...'
