# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A planned change: the sentence check mode reports and the function a
real run calls, so that the two cannot differ, and the change as data
(what kind of thing, which one, before and after) for reports."""

# Execution phases across all namespaces of a call. A veth end that one
# namespace's declaration puts into another can only be attached to that
# namespace's bridge once the bridge exists, and a route over it only once it
# is up: so namespaces joined by such veths get their links first (phase
# LINKS, every namespace), then the far ends' settings (PEERS), then routes,
# sysctls and files (LATE). Namespaces without such veths run in one pass.
# Before all of them (CLEAR), every namespace deletes the links a segment no
# longer declares: two segments swapping ids each need the VNI (taken once on
# the host) and the names the other one still holds.
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypedDict

    class Change(TypedDict):
        """A change as data (see change())."""

        kind: str
        object: str
        before: Any
        after: Any


CLEAR, LINKS, PEERS, LATE = 0, 1, 2, 3


# The kinds of thing a change is about (the 'kind' of a change)
KINDS = ('namespace', 'nsid', 'link', 'address', 'route', 'sysctl', 'file', 'fdb')


def change(kind: str, obj: str, before: Any = None, after: Any = None) -> Change:
    """A change as data: kind (one of KINDS), the object (a link, an address's
    link, a route's destination, a sysctl key, a file path, a vxlan device),
    and its value before and after (None: absent). Values are plain JSON:
    str, int, bool, None or dicts of them."""
    return {'kind': kind, 'object': obj, 'before': before, 'after': after}


@dataclasses.dataclass(eq=False)
class Action:
    """text: what check mode reports; run: what a real run calls; phase:
    when in the call (CLEAR...LATE, in_phase() moves it); change: the change
    as data. Compared by identity (eq=False), as a plain class is."""

    text: str
    run: Callable[[], object]
    phase: int = LINKS
    change: Change | None = None


def in_phase(actions: list[Action], phase: int) -> list[Action]:
    for action in actions:
        action.phase = phase
    return actions
