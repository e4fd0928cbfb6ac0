# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pin engine: names and specs of namespaces, what a pin path holds,
pin directories and their locks, creating, binding and removing namespaces,
pid namespace holders, the engine that converges a named namespace (set), listing and properties.

May import: kernel and the basics.
"""
