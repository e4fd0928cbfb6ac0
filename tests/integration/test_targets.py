"""Run every integration target as a playbook with ansible-playbook, in the sandbox.

A target is an ansible-test style role (tests/integration/targets/NAME) whose
tasks assert what an operator would check; a failing assert fails the test.
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(HERE, 'targets')


def _targets():
    return sorted(
        name for name in os.listdir(TARGETS) if os.path.isfile(os.path.join(TARGETS, name, 'tasks', 'main.yml'))
    )


def playbook_env(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
            'ANSIBLE_REMOTE_TEMP': str(tmp_path / 'ansible-remote'),
            'ANSIBLE_COLLECTIONS_PATH': os.path.join(REPO, '.cache', 'collections'),
            'ANSIBLE_ROLES_PATH': TARGETS,
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
            'PATH': os.path.dirname(sys.executable) + os.pathsep + env.get('PATH', ''),
        }
    )
    env.pop('ANSIBLE_CONFIG', None)
    return env


@pytest.mark.parametrize('target', _targets())
def test_target(target, tmp_path):
    playbook = tmp_path / 'run.yml'
    playbook.write_text(f'- hosts: localhost\n  gather_facts: false\n  roles: [{target}]\n')
    result = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'),
            '-i',
            'localhost,',
            '-c',
            'local',
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=playbook_env(tmp_path),
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f'target {target} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}'
