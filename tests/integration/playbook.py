"""The ansible commands as the integration tests run them, in the sandbox:
the environment they all get (this checkout's collection, state under
tmp_path, no colour, the test's Python on both sides) and one call that runs
a command and captures its output without judging it."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(HERE, 'targets')
BIN = os.path.dirname(sys.executable)


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
            'PATH': BIN + os.pathsep + env.get('PATH', ''),
        }
    )
    env.pop('ANSIBLE_CONFIG', None)
    return env


def run_tool(tmp_path, tool, *argv, env=None, timeout=300):
    """ansible, ansible-playbook or ansible-inventory of the test's Python with argv; env adds to playbook_env."""
    return subprocess.run(
        [os.path.join(BIN, tool)] + [str(arg) for arg in argv],
        capture_output=True,
        text=True,
        env=dict(playbook_env(tmp_path), **(env or {})),
        timeout=timeout,
        check=False,
    )


def ansible_playbook(tmp_path, playbook, *extra, inventory='localhost,', env=None, timeout=300):
    """ansible-playbook of playbook on inventory (on localhost, over the local connection) with extra arguments."""
    local = ['-c', 'local'] if inventory == 'localhost,' else []
    return run_tool(tmp_path, 'ansible-playbook', '-i', inventory, *local, *extra, playbook, env=env, timeout=timeout)
