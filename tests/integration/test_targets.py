"""Run every integration target as a playbook with ansible-playbook, in the sandbox.

A target is an ansible-test style role (tests/integration/targets/NAME) whose
tasks assert what an operator would check; a failing assert fails the test.
"""

import os

import pytest
from playbook import TARGETS, ansible_playbook


def _targets():
    return sorted(
        name for name in os.listdir(TARGETS) if os.path.isfile(os.path.join(TARGETS, name, 'tasks', 'main.yml'))
    )


@pytest.mark.parametrize('target', _targets())
def test_target(target, tmp_path):
    playbook = tmp_path / 'run.yml'
    playbook.write_text(f'- hosts: localhost\n  gather_facts: false\n  roles: [{target}]\n')
    result = ansible_playbook(tmp_path, playbook, timeout=600)
    assert result.returncode == 0, f'target {target} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}'
