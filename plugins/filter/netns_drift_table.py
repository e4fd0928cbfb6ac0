# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: netns_drift_table
short_description: The drift report as a table a person reads
version_added: 0.3.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Renders the report of P(nsfd.namespaces.netns_drift#filter) as text - a table with a row per change (C(HOST),
    C(NAMESPACE), C(KIND), C(OBJECT), C(BEFORE), C(AFTER); C(-) for absent, long values cut), then a line per host
    (in sync, how many differences, or why it has no report) and a summary line.
options:
  _input:
    description: The report, as P(nsfd.namespaces.netns_drift#filter) returns it.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Print the report, a line at a time
  ansible.builtin.debug:
    msg: "{{ (drift | nsfd.namespaces.netns_drift_table).split('\n') }}"
  run_once: true
'''

RETURN = r'''
_value:
  description: The table and the lines per host, separated by newlines.
  type: str
'''

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ansible.errors import AnsibleFilterError

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.drift import table
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain

if TYPE_CHECKING:
    from collections.abc import Callable


def netns_drift_table(data: object) -> str:
    if not isinstance(data, Mapping):
        raise AnsibleFilterError(
            f'netns_drift_table: the input must be the report of nsfd.namespaces.netns_drift, not {type(data).__name__}'
        )
    return table(to_plain(data))


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {'netns_drift_table': netns_drift_table}
