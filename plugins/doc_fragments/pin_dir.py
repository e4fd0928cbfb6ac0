# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


from __future__ import annotations


class ModuleDocFragment:
    # DOCUMENTATION: modules that pin namespaces of any type (namespace,
    # namespace_info, namespace_exec). NETNS: modules that only handle
    # network namespaces (netns_config), so nothing about the other types'
    # directories (tests/unit/plugins/doc_fragments/test_pin_dir.py).
    DOCUMENTATION = r'''
options:
  pin_dir:
    description:
      - Directory holding the pins of the namespace type, instead of its default.
      - The defaults are C(/run/netns) for C(net) (the iproute2 directory, so C(ip netns) sees the pins) and
        C(/run/utsns), C(/run/ipcns), C(/run/mntns), C(/run/pidns), C(/run/userns), C(/run/cgroupns),
        C(/run/timens) for the other types (the layout of cri-o's pinns).
      - Only valid with a single namespace type.
      - Symbolic links in the directory path are resolved first (C(/var/run/netns) is C(/run/netns)), so a pin
        is recognised however its directory is reached; results report the resolved path.
      - An empty file with no namespace mounted on it counts as a stale pin (a crash leftover, repaired or
        removed) only in a per-type default directory, or under C(/run) when the file has mode C(000) (as
        this collection and C(ip netns add) create pin files). Anywhere else (C(/run/lock), C(/etc), ...) such a
        file belongs to another program and is never touched.
    type: path
'''

    NETNS = r'''
options:
  pin_dir:
    description:
      - Directory of the network namespace pins, instead of C(/run/netns) (the iproute2 directory, so C(ip netns)
        and C(nsenter --net=/run/netns/NAME) see them).
      - Symbolic links in the directory path are resolved first (C(/var/run/netns) is C(/run/netns)), so a pin
        is recognised however its directory is reached; results report the resolved path.
      - An empty file with no namespace mounted on it counts as a stale pin (a crash leftover, repaired or
        removed) only in C(/run/netns) (or another default pin directory of M(nsfd.namespaces.namespace)), or
        under C(/run) when the file has mode C(000) (as this collection and C(ip netns add) create pin files).
        Anywhere else (C(/run/lock), C(/etc), ...) such a file belongs to another program and is never touched.
    type: path
'''
