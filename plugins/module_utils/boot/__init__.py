# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Persistence across reboot: the iproute2 batch file, the per-namespace
script and the systemd unit rendered from a netns_config declaration, and
the options both netns_persist and netns_config's boot take; and the
systemd drop-ins that run services inside a pinned namespace (netns_service).

May import: netconfig, pins, kernel and the basics.
"""
