"""Namespace hosts for the integration tests, made by the nsfd.namespaces.namespace_host module itself.

The module runs as Ansible would run it on the machine (a child Python given
its arguments in a file), so tests start, reboot and remove hosts through the
same entry point as molecule_create and molecule_destroy. Hosts are reached by
their pins, as the nsenter connection reaches them.
"""

import contextlib
import json
import os
import subprocess
import sys

from playbook import REPO

COLLECTIONS = os.path.join(REPO, '.cache', 'collections')
MODULE = os.path.join(REPO, 'plugins', 'modules', 'namespace_host.py')
TYPES = ('mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup')
FLAGS = {'mnt': '--mount', 'uts': '--uts', 'ipc': '--ipc', 'net': '--net', 'pid': '--pid', 'cgroup': '--cgroup'}


def debian_root():
    return subprocess.run(
        [os.path.join(REPO, 'scripts', 'debian-root'), '--print-only'], capture_output=True, text=True, check=True
    ).stdout.strip()


def namespace_host(tmp_path, **args):
    """The module's result for these arguments (failed or not)."""
    args_file = tmp_path / (f'host-args-{args["name"]}.json')
    args_file.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    result = subprocess.run(
        [sys.executable, MODULE, str(args_file)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f'namespace_host printed no result: {result.stdout} {result.stderr}')


def start(tmp_path, names, data_dir, root='overlay', state='started', first=1):
    """{name: host} for hosts started (or rebooted) on the lab, at 10.77.0.N/24 from N=first in the order given."""
    hosts = {}
    # an overlay host runs Ansible with this checkout's Python, which may live under the /tmp it has of its own
    shared = [REPO] if root == 'overlay' else []
    for index, name in enumerate(names, start=first):
        result = namespace_host(
            tmp_path,
            name=name,
            data_dir=data_dir,
            root=root,
            state=state,
            lab={'address': f'10.77.0.{index}/24'},
            shared_paths=shared,
        )
        assert not result.get('failed'), result
        hosts[name] = result['host']
    return hosts


def remove(tmp_path, names, data_dir):
    for name in names:
        result = namespace_host(tmp_path, name=name, data_dir=data_dir, state='absent')
        assert not result.get('failed'), result


@contextlib.contextmanager
def hosts_running(tmp_path, names):
    """names as namespace hosts in tmp_path/hosts for the with block (its data_dir), removed after it."""
    data_dir = str(tmp_path / 'hosts')
    start(tmp_path, names, data_dir)
    try:
        yield data_dir
    finally:
        remove(tmp_path, names, data_dir)


def inside(name, *argv):
    """A command inside the host, entered through its pins as the nsenter connection enters it."""
    flags = [f'{FLAGS[t]}=/run/{t}ns/{name}' for t in TYPES]
    return subprocess.run(['nsenter'] + flags + ['--'] + list(argv), capture_output=True, text=True, check=False)
