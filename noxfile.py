"""The support matrix: the pytest suite (unit tests and the integration
playbooks of tests/integration) and ansible-test sanity, once per supported
ansible-core, each in its own virtualenv with the Python it is tested with.

Run it through scripts/matrix (make test does): that finds the interpreters
(also outside PATH, e.g. pyenv's) and installs nox. A machine without one
of these Pythons skips that ansible-core with a message; with CI set in the
environment (as .ci/run does) a missing interpreter is an error.

antsibull-nox is what community collections use on top of nox; its
ansible-test sessions install ansible-core from GitHub and run ansible-test
with --docker, and neither GitHub nor a container engine is available where
this project is tested, so these sessions use nox directly.
"""

import hashlib
import os

import nox

REPO = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(REPO, 'tests', 'requirements.txt')

# ansible-core on the controller -> the Python it is tested with. The one
# place the supported versions are listed: README, docs and meta/runtime.yml
# say the same (tests/test_support_matrix.py checks it).
MATRIX = {
    '2.19': '3.11',
    '2.20': '3.12',
    '2.21': '3.13',
}

nox.options.default_venv_backend = 'venv'
nox.options.reuse_venv = 'yes'


def _install(session, core):
    """Install the test requirements with this ansible-core, unless a stamp
    says the virtualenv already holds exactly them."""
    with open(REQUIREMENTS, 'rb') as handle:
        key = hashlib.sha256(handle.read() + core.encode('ascii')).hexdigest()[:16]
    stamp = os.path.join(session.virtualenv.location, '.requirements-' + key)
    if os.path.exists(stamp):
        return
    session.install('--upgrade', 'pip')
    session.install('-r', REQUIREMENTS, f'ansible-core=={core}.*')
    open(stamp, 'w').close()


def _define(core, python):
    @nox.session(name='ansible-core-' + core, python=python)
    def matrix_session(session):
        _install(session, core)
        version = session.run('ansible', '--version', silent=True) or ''
        session.log(
            '%s on Python %s', version.splitlines()[0] if version else 'ansible-core (version not shown)', python
        )
        env = {'NSFD_VENV': session.virtualenv.location}
        # `scripts/matrix 2.21 -- sanity` runs one of the two
        stages = session.posargs or ['pytest', 'sanity']
        unknown = sorted(set(stages) - {'pytest', 'sanity'})
        if unknown:
            session.error(f'unknown stage(s) {unknown!r}: give pytest and/or sanity')
        if 'pytest' in stages:
            session.run('python', '-m', 'pytest', 'tests', env=env)
        if 'sanity' in stages:
            session.run(os.path.join(REPO, 'scripts', 'sanity'), env=env, external=True)

    matrix_session.__doc__ = f'pytest and ansible-test sanity on ansible-core {core} (Python {python})'
    return matrix_session


for _core, _python in MATRIX.items():
    _define(_core, _python)
