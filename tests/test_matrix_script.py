"""scripts/matrix: a Python the machine lacks is skipped with a message
(exit status 77, which scripts/run-tests reports as SKIPPED), and is an
error when CI is set; the versions come from noxfile.py."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATRIX = os.path.join(REPO, 'scripts', 'matrix')


def _run(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in ('CI', 'NSFD_VENV')}
    # no pyenv and only the system's binaries: Python 3.12 is nowhere
    base.update({'PYENV_ROOT': '/nonexistent', 'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'})
    base.update(env)
    return subprocess.run([MATRIX] + list(args), capture_output=True, text=True, env=base, timeout=600, check=False)


def test_versions_come_from_the_noxfile():
    out = _run('--versions')
    assert (out.returncode, out.stdout.split()) == (0, ['2.19', '2.20', '2.21'])


def test_a_missing_python_is_skipped_loudly_and_fails_under_ci():
    if os.path.exists('/usr/bin/python3.12'):
        pytest.skip('this machine has /usr/bin/python3.12: nothing is missing')
    out = _run('2.20')
    assert out.returncode == 77
    assert 'matrix: SKIPPED ansible-core 2.20: no Python 3.12 on this machine' in out.stderr
    out = _run('2.20', CI='true')
    assert out.returncode == 1
    assert 'SKIPPED ansible-core 2.20' in out.stderr and 'CI must run every supported ansible-core' in out.stderr


def test_an_ansible_core_outside_the_matrix_is_an_error_not_a_skip():
    out = _run('2.22', CI='true')
    assert out.returncode == 2 and 'not in the support matrix' in out.stderr
    out = _run('2.22')
    assert out.returncode == 2
