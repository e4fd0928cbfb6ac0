"""action: a planned step is the text check mode reports and the function a
real run calls; phases order the steps of a call."""

import dataclasses

from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import action


def test_phases_run_clear_links_peers_late_in_that_order():
    assert action.CLEAR < action.LINKS < action.PEERS < action.LATE


def test_an_action_keeps_its_text_and_function_and_defaults_to_links():
    ran = []
    step = action.Action('create veth v0', lambda: ran.append('v0'))
    assert (step.text, step.phase) == ('create veth v0', action.LINKS)
    step.run()
    assert ran == ['v0']
    # a dataclass of these four fields: an Action carries nothing else
    assert [f.name for f in dataclasses.fields(step)] == ['text', 'run', 'phase', 'change']
    assert step.change is None


def test_actions_compare_by_identity():
    """eq=False: two actions of the same text are two steps, and stay hashable."""
    first, second = action.Action('a', None), action.Action('a', None)
    assert first != second
    assert len({first, second}) == 2


def test_in_phase_moves_every_action_and_returns_them():
    steps = [action.Action('a', None), action.Action('b', None, phase=action.CLEAR)]
    assert action.in_phase(steps, action.LATE) is steps
    assert [s.phase for s in steps] == [action.LATE, action.LATE]
    assert action.in_phase([], action.PEERS) == []
