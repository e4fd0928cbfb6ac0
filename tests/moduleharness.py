"""Run a module's main() in-process the way Ansible would, and return its JSON."""

import json

import pytest

from ansible.module_utils.testing import patch_module_args


def run_module(module, args, capsys, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out = json.loads(capsys.readouterr().out)
    # ansible-core 2.21 returns 'invocation' only when the controller asks for
    # it (_ansible_inject_invocation); earlier versions always did. Tests
    # see the same result on every supported version.
    out.pop('invocation', None)
    out['_exit_code'] = exc.value.code
    return out
