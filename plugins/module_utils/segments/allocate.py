# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stable member addresses inside a segment's subnet.

A member's preferred address is a hash of its inventory name (SHA-256, not
Python's per-process hash()) within the usable addresses of the subnet, so it
does not depend on the order or number of members. Explicit overrides are
placed first; then the members, in name order, each take the first free
address at or after their preferred one (wrapping around). An address
therefore only moves when an override is added on it, or when a member that
sorts earlier and probes through the same addresses joins or leaves.
"""

import hashlib
import ipaddress

from ansible_collections.nsfd.namespaces.plugins.module_utils.segments.spec import usable_range


def preferred_offset(host, size):
    digest = hashlib.sha256(host.encode('utf-8')).digest()
    return int.from_bytes(digest[:8], 'big') % size


def allocate(segment):
    """{host: ipaddress.ip_interface} for every member of a checked Segment."""
    first, last = usable_range(segment.subnet)
    size = last - first + 1
    taken = set(int(address) for address in segment.addresses.values())
    result = dict((host, address) for host, address in segment.addresses.items())
    for host in sorted(h for h in segment.members if h not in result):
        offset = preferred_offset(host, size)
        # check_segment made sure there is a free address for every member
        while first + offset in taken:
            offset = (offset + 1) % size
        taken.add(first + offset)
        result[host] = ipaddress.ip_address(first + offset)
    return dict((host, ipaddress.ip_interface('%s/%d' % (address, segment.subnet.prefixlen)))
                for host, address in result.items())
