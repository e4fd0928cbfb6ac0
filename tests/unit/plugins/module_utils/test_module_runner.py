"""module_runner: a NamespaceError (or, with os_action, an OSError) fails
the task with its structured fields; a Result ends it with its fields, its
warnings and, only in diff mode, its diff. Run on a real AnsibleModule."""

import errno
import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.nsfd.namespaces.plugins.module_utils import module_runner
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.engine import Result
from moduleharness import _as_on_a_host


def _finish(capsys, call, diff=False):
    with _as_on_a_host(), patch_module_args({'_ansible_diff': diff}):
        module = AnsibleModule(argument_spec={})
        with pytest.raises(SystemExit) as exc:
            call(module)
    out = json.loads(capsys.readouterr().out)
    out.pop('invocation', None)
    return exc.value.code, out


def _raise(exc):
    def operation():
        raise exc

    return operation


def test_a_namespace_error_fails_with_its_fields(capsys):
    error = NamespaceError('cannot pin', name='blue', path='/run/netns/blue', errno=errno.EPERM, done=['created x'])
    code, out = _finish(capsys, lambda m: module_runner.call_or_fail(m, _raise(error), extra='kept'))
    assert code == 1 and out['failed'] is True
    assert out['msg'] == str(error)
    assert out['path'] == '/run/netns/blue' and out['errno'] == 'EPERM' and out['done'] == ['created x']
    assert out['extra'] == 'kept'
    # an explained failure, not "An exception occurred during task execution"
    assert 'exception' not in out


def test_an_os_error_fails_only_with_os_action(capsys):
    error = OSError(errno.ENOENT, 'No such file or directory', '/run/netns/x')
    code, out = _finish(capsys, lambda m: module_runner.call_or_fail(m, _raise(error), os_action='cannot open'))
    assert code == 1
    assert out['msg'].startswith('at /run/netns/x: cannot open: No such file or directory (errno 2 ENOENT)')
    assert out['errno'] == 'ENOENT'
    with pytest.raises(OSError):
        module_runner.call_or_fail(None, _raise(error))


def test_call_or_fail_returns_the_value():
    assert module_runner.call_or_fail(None, lambda: 42) == 42


def _result():
    result = Result()
    result.act('create net pin')
    result.warnings.append('careful')
    result.before, result.after = {'x': 1}, {'x': 2}
    return result


def test_run_exits_with_the_result_and_its_warnings(capsys):
    code, out = _finish(capsys, lambda m: module_runner.run(m, _result))
    assert code == 0
    assert out['changed'] is True and out['actions'] == ['create net pin']
    # ansible-core 2.19+ wraps each warning in a WarningSummary
    assert len(out['warnings']) == 1 and 'careful' in json.dumps(out['warnings'])
    assert 'diff' not in out


def test_run_returns_the_diff_in_diff_mode(capsys):
    code, out = _finish(capsys, lambda m: module_runner.run(m, _result), diff=True)
    assert code == 0 and out['diff'] == {'before': {'x': 1}, 'after': {'x': 2}}


def test_run_fails_on_a_namespace_error(capsys):
    code, out = _finish(capsys, lambda m: module_runner.run(m, _raise(NamespaceError('bad', name='red'))))
    assert code == 1 and out['msg'] == "namespace 'red': bad."
