# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The glue every module of this collection shares: errors and results."""

from __future__ import annotations

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError


def call_or_fail(module, operation, os_action=None, **failure):
    """Return operation(), or fail the task with the error's message and the
    `failure` keys. With os_action, an OSError fails it too, described as
    that action.

    fail_json is called after the except block on purpose: called inside it,
    Ansible attaches the traceback and presents an expected, explained error
    (a missing pin, a bad name) as "An exception occurred during task
    execution".
    """
    errors = (NamespaceError, OSError) if os_action else NamespaceError
    try:
        return operation()
    except errors as exc:
        error = exc if isinstance(exc, NamespaceError) else NamespaceError.from_os_error(exc, os_action)
    failure.update(error.to_result())
    module.fail_json(**failure)


def run(module, operation):
    """Call operation() and finish the module with its Result (or failure).

    fail_json gets a message naming the namespace, the path and the errno,
    plus 'done': what had been changed before the failure.
    """
    result = call_or_fail(module, operation)
    for warning in result.warnings:
        module.warn(warning)
    output = result.as_dict()
    diff = output.pop('diff', None)
    if module._diff and diff is not None:
        output['diff'] = diff
    module.exit_json(**output)
