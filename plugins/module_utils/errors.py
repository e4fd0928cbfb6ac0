# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one exception type the engine raises, shaped for fail_json."""

from __future__ import annotations

import errno as errno_module
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TypedDict

    class _FailureMessage(TypedDict):
        msg: str

    class Failure(_FailureMessage, total=False):
        """The fields to_result() gives fail_json: msg always, the others when known."""

        path: str
        errno: str | None
        done: list[str]


class NamespaceError(Exception):
    """A failure that names the namespace, the path, the errno and a remedy.

    str(exc) is a complete sentence for fail_json(msg=...); to_result()
    gives the structured fields as well.
    """

    def __init__(
        self,
        message: str,
        name: str | None = None,
        path: str | None = None,
        errno: int | None = None,
        hint: str | None = None,
        done: Iterable[str] | None = None,
    ) -> None:
        self.message = message
        self.name = name
        self.path = path
        self.errno = errno
        self.hint = hint
        # What had already been changed when the failure happened.
        self.done = list(done or [])
        super().__init__(self._render())

    @classmethod
    def from_os_error(
        cls, exc: OSError, action: str, name: str | None = None, path: str | None = None, hint: str | None = None
    ) -> NamespaceError:
        code = exc.errno
        return cls(
            f'{action}: {os.strerror(code) if code else exc}',
            name=name,
            path=path or exc.filename,
            errno=code,
            hint=hint or default_hint(code),
        )

    @property
    def errno_name(self) -> str | None:
        if self.errno is None:
            return None
        return errno_module.errorcode.get(self.errno, str(self.errno))

    def _render(self) -> str:
        parts: list[str] = []
        if self.name is not None:
            parts.append(f"namespace '{self.name}'")
        if self.path:
            parts.append(f'at {self.path}')
        text = ' '.join(parts)
        text = f'{text}: {self.message}' if text else self.message
        if self.errno is not None:
            text += f' (errno {self.errno} {self.errno_name})'
        if not text.endswith('.'):
            text += '.'
        if self.hint:
            text += ' ' + self.hint
        return text

    def to_result(self) -> Failure:
        result: Failure = {'msg': str(self)}
        if self.path:
            result['path'] = self.path
        if self.errno is not None:
            result['errno'] = self.errno_name
        if self.done:
            result['done'] = self.done
        return result


def default_hint(code: int | None) -> str | None:
    if code == errno_module.EPERM:
        return 'This needs CAP_SYS_ADMIN in the initial user namespace: run the task as root (become: true).'
    if code == errno_module.EACCES:
        return 'Run the task as root (become: true).'
    if code == errno_module.ENOSPC:
        return 'The per-user namespace limit (/proc/sys/user/max_*_namespaces) is reached.'
    return None
