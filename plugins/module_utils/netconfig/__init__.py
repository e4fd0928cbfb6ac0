# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Declarative network namespaces (netns_config): validation of the whole
declaration, the state read over netlink, the plan, the converge loop over
many namespaces, and the record of what a caller manages.

May import: pins, kernel and the basics.
"""
