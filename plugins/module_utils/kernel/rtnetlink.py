# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rtnetlink wire format this collection speaks itself (kernel/rtnl.py
sends it): message types, fixed headers, attribute numbers and flags from
linux/rtnetlink.h, linux/if.h, linux/if_link.h, linux/if_addr.h and
linux/neighbour.h. Every struct and constant of the protocol lives here,
once; pyroute2 brings its own for the requests made through it."""

from __future__ import annotations

import struct

# message types
RTM_NEWLINK, RTM_GETLINK, RTM_GETADDR, RTM_DELROUTE, RTM_GETROUTE, RTM_GETNEIGH = 16, 18, 22, 25, 26, 30

# fixed headers
IFINFOMSG = struct.Struct('=BxHiII')  # family, type, index, flags, change
IFADDRMSG = struct.Struct('=BBBBI')  # family, prefixlen, flags, scope, index
RTMSG = struct.Struct('=BBBBBBBBI')  # family, dst_len, src_len, tos, table, protocol, scope, type, flags
NDMSG = struct.Struct('=BxxxiHBB')  # family, ifindex, state, flags, type

# link flags and attributes
IFF_UP = 0x1
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU, IFLA_LINK, IFLA_MASTER, IFLA_LINKINFO = 1, 3, 4, 5, 10, 18
IFLA_IFALIAS, IFLA_LINK_NETNSID = 20, 37
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_VXLAN_ID, IFLA_VXLAN_LINK, IFLA_VXLAN_LOCAL, IFLA_VXLAN_LEARNING, IFLA_VXLAN_PORT, IFLA_VXLAN_LOCAL6 = (
    1,
    3,
    4,
    7,
    15,
    17,
)

# addresses
IFA_ADDRESS, IFA_LOCAL = 1, 2

# routes
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC, RTA_TABLE = 1, 4, 5, 6, 7, 15
RTPROT_KERNEL, RTPROT_BOOT, RTPROT_STATIC, RTPROT_RA = 2, 3, 4, 9
RTN_UNICAST = 1
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
MAIN_TABLE = 254
RT_TABLE_COMPAT = 252  # rtm_table of a table id above 255 (the id is in RTA_TABLE)
IPV6_DEFAULT_METRIC = 1024  # what the kernel stores for an IPv6 route given metric 0 or none

# neighbours (a bridge's or vxlan's forwarding entries)
AF_BRIDGE = 7
NDA_DST, NDA_LLADDR, NDA_PORT, NDA_VNI = 1, 2, 6, 7
NUD_NOARP, NUD_PERMANENT = 0x40, 0x80
NTF_SELF, NTF_EXT_LEARNED = 0x02, 0x10
