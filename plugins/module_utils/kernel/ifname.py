# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a Linux interface name may be: the one rule every option that names
a link checks (netconfig's links, routes and vxlan underlays, a namespace
host's lab bridge and interface)."""

from __future__ import annotations

import unicodedata

IFNAMSIZ = 16  # with the NUL: names are at most 15 bytes
# /proc/sys/net/ipv{4,6}/conf/{all,default} hold the settings for every link:
# a link called so would have no sysctl directory of its own.
RESERVED = ('all', 'default')


def problem(value: object) -> str | None:
    """Why value cannot be an interface name, or None. The kernel's own
    rule (dev_valid_name in net/core/dev.c: 1 to 15 bytes, not . or .., no
    /, : or whitespace), control characters (invisible in logs and `ip`
    output) and the names /proc/sys/net keeps."""
    if not isinstance(value, str) or not value:
        return 'must be a non-empty interface name'
    if len(value.encode('utf-8')) >= IFNAMSIZ:
        return f'interface name {value!r} is longer than 15 bytes (IFNAMSIZ)'
    if value in ('.', '..') or any(c in '/:' or c.isspace() or unicodedata.category(c)[0] in 'CZ' for c in value):
        return f'interface name {value!r} may not be "." or "..", nor contain "/", ":", spaces or control characters'
    if value in RESERVED:
        return f'interface name {value!r} is reserved: /proc/sys/net/*/conf/{value} holds the settings of every link'
    return None
