"""Changes: what an engine run did, as the modules return it."""

from ansible_collections.nsfd.namespaces.plugins.module_utils.changes import Changes
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts.engine import Result as HostResult
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.engine import Result as PinResult


def test_nothing_done_is_no_change():
    assert Changes().as_dict() == {'changed': False, 'actions': [], 'diff': {'before': {}, 'after': {}}}


def test_each_action_is_a_change_kept_in_order():
    changes = Changes()
    changes.act('create a')
    changes.act('pin a')
    assert changes.as_dict()['changed'] and changes.as_dict()['actions'] == ['create a', 'pin a']


def test_the_engines_add_what_they_report_besides():
    pins, host = PinResult(), HostResult()
    pins.pids_remaining = [7]
    assert set(pins.as_dict()) == {'changed', 'actions', 'diff', 'pins', 'pids_remaining'}
    assert set(host.as_dict()) == {'changed', 'actions', 'diff', 'host'}
