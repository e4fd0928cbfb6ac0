# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running commands inside pinned namespaces: the stand-alone launcher the
netns become plugin ships to hosts (standard library only) and the command
runner of namespace_exec.

May import: pins, kernel and the basics (launch.py imports nothing of ours).
"""
