# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Namespace hosts: an init process in its own mnt, uts, ipc, pid, net and
cgroup namespaces with a root filesystem, pinned by name, cabled to a lab bridge.

May import: netconfig/ (its subnet rules and link planner), pins/, kernel/, the basics (errors, fileio, module_runner).
"""
