# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plain Python data from what a template hands a filter.

ansible-core 2.19 and later hand filters lazy containers: a list or dict
whose items are templated when read, carrying the templar that reads them.
Copying one (copy.deepcopy) copies that templar too: it is slow (tens of
seconds for a few hundred namespaces) and breaks the filters and tests the
values use (ansible/ansible#85773). Reading each item once, into new plain
containers, templates every value exactly once and leaves nothing of
ansible-core's internals in the result, which is then safe to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

# A value that is `omit` (e.g. "{{ mtu | default(omit) }}") leaves its key or
# list item out, as ansible-core does for a module's arguments. Its type is
# private to ansible-core: it is recognised by name, so a new location of the
# class does not break the filters.
_OMIT_TYPE = '_OmitType'


def _omitted(value: object) -> bool:
    return type(value).__name__ == _OMIT_TYPE


def to_plain(value: Any) -> Any:
    """value as plain dicts, lists, str, int, float, bool and None (omitted items dropped)."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    # bool before int: True is an int too
    for kind in (str, bool, int, float):
        if isinstance(value, kind):
            return kind(value)  # drops a tag (origin, trust) ansible-core carries on the value
    if isinstance(value, Mapping):
        return dict((to_plain(key), to_plain(item)) for key, item in value.items() if not _omitted(item))
    if isinstance(value, (list, tuple, Set)):
        return [to_plain(item) for item in value if not _omitted(item)]
    return value
