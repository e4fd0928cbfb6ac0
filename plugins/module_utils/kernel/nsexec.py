# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a Python function inside existing namespaces, in a throwaway child."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import syscalls
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import Child, ChildFailed
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.nstypes import TYPES, ordered

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.childproc import _Channel


def enter(fds_by_type: Mapping[str, int]) -> None:
    """setns() into each namespace, the user namespace first (it grants the
    capabilities the others need). The nstype argument makes the kernel
    refuse an fd of another type, so a wrong pin is never entered."""
    for nstype in ordered(fds_by_type):
        try:
            syscalls.setns(fds_by_type[nstype], TYPES[nstype].flag)
        except OSError as exc:
            raise ChildFailed(f'setns {nstype}', exc.errno, exc.strerror)


def call_in(fds_by_type: Mapping[str, int], func: Callable[..., Any], *args: Any) -> Any:
    """Return func(*args) computed in a child that entered the namespaces.

    The result must be JSON-serialisable. A pid namespace applies only to
    children, so with 'pid' the function runs in a grandchild.
    """

    def body(channel: _Channel) -> None:
        enter(fds_by_type)
        if 'pid' in fds_by_type:
            inner = Child(lambda ch: ch.send({'result': func(*args)}))
            channel.send(inner.receive())
            inner.finish()
        else:
            channel.send({'result': func(*args)})

    child = Child(body)
    try:
        return child.receive()['result']
    finally:
        child.finish()
