# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an engine run did, as modules return it: whether anything changed,
the actions in words, warnings, and the diff's before and after. Each
engine's result adds what it reports besides (the pins, the host)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class Changes:
    def __init__(self) -> None:
        self.changed = False
        self.actions: list[str] = []
        self.warnings: list[str] = []
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def act(self, text: str) -> None:
        """Record one change (check mode records what it would do)."""
        self.changed = True
        self.actions.append(text)

    def as_dict(self) -> dict[str, Any]:
        return {'changed': self.changed, 'actions': self.actions, 'diff': {'before': self.before, 'after': self.after}}
