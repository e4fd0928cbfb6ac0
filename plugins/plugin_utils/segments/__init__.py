# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet segments: a tenant network declared once for many hosts (the netns
role's netns_segments), checked fleet-wide and expanded, for one host, into
netns_config namespace items: a bridge with the member's stable address and a
VXLAN device with flooding entries towards every other member.

May import: netconfig, pins, kernel and the basics.
"""
