"""Run a module's main() in-process the way Ansible would, and return its JSON."""

import contextlib
import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args
from nsoracle import ip_netns_list

try:  # ansible-core 2.19+: set once anything of the controller is imported
    from ansible.module_utils import _internal as _module_internal
except ImportError:
    _module_internal = None


@contextlib.contextmanager
def _as_on_a_host():
    """Module code behaves as on a managed host, whatever this process imported.

    Importing a controller plugin (a filter or connection test collected in
    the same pytest process) makes ansible-core 2.19+ route module warnings
    to the controller's display instead of the module result.
    """
    saved = getattr(_module_internal, 'is_controller', None)
    if saved:
        _module_internal.is_controller = False
    try:
        yield
    finally:
        if saved:
            _module_internal.is_controller = saved


def run_module(module, args, capsys, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with _as_on_a_host(), patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out = json.loads(capsys.readouterr().out)
    # ansible-core 2.21 returns 'invocation' only when the controller asks for
    # it (_ansible_inject_invocation); earlier versions always did. Tests
    # see the same result on every supported version.
    out.pop('invocation', None)
    out['_exit_code'] = exc.value.code
    return out


def netns_config_run(capsys, namespaces, **kwargs):
    """netns_config on these namespaces (check_mode and diff as keywords, the rest as module options)."""
    from ansible_collections.nsfd.namespaces.plugins.modules import netns_config

    check = kwargs.pop('check_mode', False)
    diff = kwargs.pop('diff', False)
    return run_module(netns_config, dict(kwargs, namespaces=namespaces), capsys, check_mode=check, diff=diff)


def netns_config_twice(capsys, namespaces, **kwargs):
    """Converge, check that it worked and that a rerun changes nothing; the first result."""
    out = netns_config_run(capsys, namespaces, **kwargs)
    assert not out.get('failed'), out
    again = netns_config_run(capsys, namespaces, **kwargs)
    assert not again.get('failed') and not again['changed'], again
    return out


def netns_config_refused(capsys, bad, where, value):
    """netns_config of a good namespace and then the bad ones fails naming where and value, and makes nothing."""
    good = {'name': 'fine', 'links': [{'name': 'b0', 'kind': 'bridge'}]}
    out = netns_config_run(capsys, [good] + bad)
    assert out['failed'] and 'Nothing was changed' in out['msg'], out
    assert where in out['msg'] and value in out['msg'], out['msg']
    assert 'Traceback' not in out['msg'] and 'Module failed' not in out['msg']
    assert not os.path.exists('/run/netns') and ip_netns_list() == [], 'nothing was created'
