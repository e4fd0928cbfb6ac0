# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

DOCUMENTATION = r'''
name: netns_absent
short_description: Turn a namespace name into a netns_config item that removes it
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - "Returns C({name: NAME, state: absent}), for building M(nsfd.namespaces.netns_config) lists from names."
options:
  _input:
    description: A namespace name.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Remove every namespace in a list of names
  nsfd.namespaces.netns_config:
    namespaces: "{{ old_names | map('nsfd.namespaces.netns_absent') | list }}"
'''

RETURN = r'''
_value:
  description: The netns_config item.
  type: dict
'''


def netns_absent(name: str) -> dict[str, str]:
    return {'name': name, 'state': 'absent'}


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {'netns_absent': netns_absent}
