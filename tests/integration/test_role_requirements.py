"""The netns role's netns_install_requirements on namespace hosts, in the sandbox.

The full run on stock Debian hosts (wheel shipped, virtualenv, idempotence,
check mode) is the molecule scenario extensions/molecule/debian; these cover
the branches around it.
"""

import os
import sys

from nshosts import inside, remove, start
from test_fleet_hosts import DEBIAN_ROOT, needs_debian_root
from playbook import ansible_playbook

PLAYBOOK = '''
- hosts: fleet
  gather_facts: false
  roles:
    - role: nsfd.namespaces.netns
      vars:
        netns_install_requirements: true
        netns_namespaces:
          - name: red
            links:
              - {name: br0, kind: bridge, addresses: [10.9.0.1/24]}
'''


def _run_role(tmp_path, hosts, python, extra=None, root='overlay', env=None):
    data_dir = str(tmp_path / 'hosts')
    start(tmp_path, hosts, data_dir, root=root)
    lines = ['fleet:', '  hosts:']
    lines += [f'    {name}: {{ansible_host: {name}}}' for name in hosts]
    lines += ['  vars:', '    ansible_connection: nsfd.namespaces.nsenter', f'    ansible_python_interpreter: {python}']
    (tmp_path / 'inventory.yml').write_text('\n'.join(lines) + '\n')
    (tmp_path / 'play.yml').write_text(PLAYBOOK)
    variables = [arg for key, value in (extra or {}).items() for arg in ('-e', f'{key}={value}')]
    result = ansible_playbook(
        tmp_path, tmp_path / 'play.yml', *variables, inventory=tmp_path / 'inventory.yml', env=env, timeout=600
    )
    return data_dir, result


@needs_debian_root
def test_bad_wheel_is_refused_before_the_host_is_touched(tmp_path):
    missing = str(tmp_path / 'pyroute2-0.9.7-py3-none-any.whl')
    data_dir, result = _run_role(
        tmp_path, ['deb1'], '/usr/bin/python3', {'netns_pyroute2_wheel': missing}, root=DEBIAN_ROOT
    )
    try:
        assert result.returncode != 0
        assert f'netns_pyroute2_wheel: "{missing}" is not a file on the controller' in result.stdout
        left = inside(
            'deb1', 'sh', '-c', 'ls -d /opt/nsfd-namespaces /etc/nsfd-netns /var/lib/nsfd-netns; ip netns list'
        )
        assert left.stdout == '', 'nothing was made on the host'
    finally:
        remove(tmp_path, ['deb1'], data_dir)


def test_hosts_python_with_pyroute2_is_used_as_it_is(tmp_path):
    # a sandbox host runs modules with this test's Python, which has pyroute2 0.9
    venv = str(tmp_path / 'venv')
    data_dir, result = _run_role(tmp_path, ['h1'], sys.executable, {'netns_venv_dir': venv})
    try:
        assert result.returncode == 0, result.stdout[-4000:]
        assert not os.path.exists(venv), 'no virtualenv when the host already has pyroute2 0.9'
        assert inside('h1', 'ip', 'netns', 'list').stdout.split()[0] == 'red'
        assert '10.9.0.1/24' in inside('h1', 'ip', '-n', 'red', '-br', 'addr', 'show', 'br0').stdout
    finally:
        remove(tmp_path, ['h1'], data_dir)


@needs_debian_root
def test_with_no_index_and_no_cached_wheel_the_controllers_own_pyroute2_is_shipped(tmp_path):
    """Issue 25: an execution environment (or an air-gapped controller) has pyroute2 installed and no
    package index; the stock Debian host has no pyroute2. The role packs the controller's own as a wheel."""
    from importlib.metadata import version

    wheels = tmp_path / 'wheels'
    no_index = {'PIP_INDEX_URL': 'http://127.0.0.1:9/simple', 'PIP_RETRIES': '0', 'PIP_TIMEOUT': '1'}
    data_dir, result = _run_role(
        tmp_path, ['deb1'], '/usr/bin/python3', {'netns_wheel_dir': str(wheels)}, root=DEBIAN_ROOT, env=no_index
    )
    try:
        assert result.returncode == 0, result.stdout[-4000:]
        shipped = f'pyroute2-{version("pyroute2")}-py3-none-any.whl'
        assert os.listdir(str(wheels)) == [shipped]
        assert inside('deb1', 'ls', '/opt/nsfd-namespaces/venv/wheels').stdout.split() == [shipped]
        assert '10.9.0.1/24' in inside('deb1', 'ip', '-n', 'red', '-br', 'addr', 'show', 'br0').stdout
    finally:
        remove(tmp_path, ['deb1'], data_dir)
