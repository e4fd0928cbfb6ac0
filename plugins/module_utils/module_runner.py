# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The glue every module of this collection shares: errors and results."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, NoReturn, Protocol, TypeVar

    T = TypeVar('T')

    class Module(Protocol):
        """What these functions use of an AnsibleModule (ansible-core ships no
        type information, so mypy would see AnsibleModule as Any)."""

        _diff: bool

        def fail_json(self, msg: str, **kwargs: Any) -> NoReturn: ...

        def exit_json(self, **kwargs: Any) -> NoReturn: ...

        def warn(self, warning: str) -> None: ...

    class Outcome(Protocol):
        """What run() finishes a module with: a changes.Changes (an engine's Result)."""

        @property
        def warnings(self) -> list[str]: ...

        def as_dict(self) -> dict[str, Any]: ...


def call_or_fail(module: Module, operation: Callable[[], T], os_action: str | None = None, **failure: Any) -> T:
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
        # an OSError is caught only when os_action is given
        error = exc if isinstance(exc, NamespaceError) else NamespaceError.from_os_error(exc, cast(str, os_action))
    failure.update(error.to_result())
    module.fail_json(**failure)


def run(module: Module, operation: Callable[[], Outcome]) -> NoReturn:
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
