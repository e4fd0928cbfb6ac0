# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thin wrappers over the Linux kernel: syscalls (ctypes where Python lacks
them), /proc and mountinfo readers, namespace types, plain rtnetlink and
netlink sockets opened inside another network namespace, nsids, and the
forked child that enters namespaces on the engine's behalf.

May import: the basics only. Everything else stands on it.
"""
