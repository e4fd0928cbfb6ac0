"""scripts/env.sh, sourced by a person (as the README says), adds the
project's tools and this checkout's collection but keeps their own
ansible.cfg and collections path; sourced by the project's own commands it
gives them the project's settings. And the project's ansible prints no
Python warnings (cryptography 51 deprecates the DSA that ansible-core
imports: the requirement files keep it below 51)."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_SH = os.path.join(REPO, 'scripts', 'env.sh')
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')


def _user_env(**extra):
    """A person's shell: none of the project's settings, the test's virtualenv as NSFD_VENV."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(('ANSIBLE_', 'NSFD_')) and k not in ('XDG_CACHE_HOME', 'PIP_CACHE_DIR')
    }
    env['NSFD_VENV'] = os.path.dirname(os.path.dirname(sys.executable))
    env.update(extra)
    return env


def _source_and_run(cwd, command, **extra):
    script = f'. {ENV_SH} && {command}'
    return subprocess.run(
        ['bash', '-c', script],
        cwd=str(cwd),
        capture_output=True,
        text=True,
        env=_user_env(**extra),
        timeout=120,
        check=False,
    )


def _changed(output):
    """ansible-config dump --only-changed as {setting: (origin, value)}."""
    settings = {}
    for line in output.splitlines():
        if '(' in line and ') = ' in line:
            name, rest = line.split('(', 1)
            origin, value = rest.split(') = ', 1)
            settings[name.strip()] = (origin, value)
    return settings


def _project_cfg(tmp_path):
    (tmp_path / 'ansible.cfg').write_text(f'[defaults]\nforks = 7\ncollections_path = {tmp_path / "mine"}\n')
    return tmp_path


def test_sourcing_keeps_the_users_ansible_cfg_and_adds_the_collection(tmp_path):
    cwd = _project_cfg(tmp_path)
    ran = _source_and_run(cwd, 'ansible-config dump --only-changed')
    assert ran.returncode == 0, ran.stderr
    settings = _changed(ran.stdout)
    assert settings['CONFIG_FILE'][1] == str(cwd / 'ansible.cfg'), ran.stdout
    assert settings['DEFAULT_FORKS'] == (str(cwd / 'ansible.cfg'), '7'), ran.stdout
    # the user's own collections path first, this checkout's collection after it
    assert settings['COLLECTIONS_PATHS'][1] == repr([str(cwd / 'mine'), COLLECTIONS]), ran.stdout
    assert 'ANSIBLE_HOME' not in settings and 'DEFAULT_LOCAL_TMP' not in settings, ran.stdout
    # and the collection is found from there
    ran = _source_and_run(cwd, 'ansible-doc --json -t module nsfd.namespaces.namespace')
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)['nsfd.namespaces.namespace']['doc']['module'] == 'namespace'


def test_sourcing_appends_to_the_users_variables(tmp_path):
    cfg = _project_cfg(tmp_path) / 'ansible.cfg'
    ran = _source_and_run(
        '/',
        'echo "$ANSIBLE_COLLECTIONS_PATH"; ansible-config dump --only-changed',
        ANSIBLE_CONFIG=str(cfg),
        ANSIBLE_COLLECTIONS_PATH='/opt/theirs',
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == '/opt/theirs:' + COLLECTIONS
    assert _changed(ran.stdout)['CONFIG_FILE'][1] == str(cfg)
    # sourcing twice adds it once
    ran = _source_and_run(
        '/', f'. {ENV_SH} && echo "$ANSIBLE_COLLECTIONS_PATH"', ANSIBLE_COLLECTIONS_PATH='/opt/theirs'
    )
    assert ran.stdout.strip() == '/opt/theirs:' + COLLECTIONS


def test_the_projects_commands_get_the_projects_settings(tmp_path):
    cwd = _project_cfg(tmp_path)
    ran = _source_and_run(cwd, 'ansible-config dump --only-changed', NSFD_ENV='project')
    assert ran.returncode == 0, ran.stderr
    settings = _changed(ran.stdout)
    assert settings['CONFIG_FILE'][1] == os.path.join(REPO, '.cache', 'ansible', 'ansible.cfg')
    assert settings['COLLECTIONS_PATHS'][1] == repr([COLLECTIONS])
    assert 'DEFAULT_FORKS' not in settings


def test_the_projects_ansible_prints_no_python_warnings(tmp_path):
    for command in (
        'ansible --version',
        'ansible-config dump --only-changed',
        'ansible-doc -l nsfd.namespaces >/dev/null',
        'ansible -i localhost, -c local -m ansible.builtin.ping localhost >/dev/null',
    ):
        ran = _source_and_run(
            tmp_path,
            command,
            ANSIBLE_HOME=str(tmp_path / 'home'),
            ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
            ANSIBLE_REMOTE_TEMP=str(tmp_path / 'remote'),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        )
        assert ran.returncode == 0, f'{command}: {ran.stderr}'
        assert 'Warning' not in ran.stderr and 'WARNING' not in ran.stderr, f'{command}: {ran.stderr}'
