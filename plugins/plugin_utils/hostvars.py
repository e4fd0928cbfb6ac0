# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a few variables of a few hosts from `hostvars`, as plain data.

A filter handed `hostvars` must not walk or copy it: on a fleet that is every
variable of every host, each templated on read. The segments read two
variables of each member of a segment, and nothing of any other host.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain

if TYPE_CHECKING:
    from collections.abc import Mapping


class _HostVariables:
    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._variables = variables

    def get(self, name: str, default: Any = None) -> Any:
        return to_plain(self._variables.get(name, default))


class MemberVars:
    """`host in vars` and `vars[host].get(name)` over hostvars, each value templated once, when read."""

    def __init__(self, hostvars: Mapping[str, Mapping[str, Any]]) -> None:
        self._hostvars = hostvars

    def __contains__(self, host: object) -> bool:
        # Ansible's hostvars answers an unknown host with an undefined value
        # that fails when read, not with KeyError: membership is asked first
        return host in self._hostvars

    def __getitem__(self, host: str) -> _HostVariables:
        return _HostVariables(self._hostvars[host])
