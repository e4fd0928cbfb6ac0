#!/usr/bin/python
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: netns_config
short_description: Declare what many network namespaces contain, and converge them in one call
version_added: 0.1.0
author:
  - nsfd maintainers (@nsfd)
description:
  - Declares the network namespaces of a host - their links (veth, bridge, dummy, vlan, macvlan, ipvlan, vxlan,
    physical), addresses, routes, sysctls and C(/etc/netns/NAME/) files - and makes the host match, creating the
    namespaces as C(ip netns add) would, so C(ip netns) and C(nsenter) see them.
  - Idempotent - a second run with the same input reports no change, and changing one address changes only that
    address; check mode and diff mode show exactly what a run would do.
  - The whole input is checked first; a mistake fails the task naming the item (for example
    C(namespaces[3].links[0].peer.name)) with nothing changed.
  - With O(record) and O(prune) it also removes what an earlier run created and the input no longer declares, and
    with O(boot) it writes the files that rebuild the namespaces at boot without Ansible.
requirements:
  - pyroute2 >= 0.6.13 on the managed host (an older one fails the task before anything is changed)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - nsfd.namespaces.pin_dir.netns
  - nsfd.namespaces.boot_files.boot_option
attributes:
  check_mode:
    support: full
    details: Lists exactly the actions a real run would take, and touches nothing.
  diff_mode:
    support: full
    details: Shows the /etc/netns files before and after, and the list of actions.
  platform:
    platforms: posix
options:
  namespaces:
    description: The network namespaces to converge.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Namespace name (its pin is C(/run/netns/NAME)).
        type: str
        required: true
      state:
        description:
          - V(absent) deletes the links inside whose other ends live outside (veth peers, vlans on host links),
            then removes the namespace.
          - V(absent) also removes the files of C(/etc/netns/NAME/) that this item lists in
            O(namespaces[].files) or that O(record) lists for NAME, then the directory if that leaves it empty; a
            file written there by someone else is kept (and so is the directory) unless O(purge) is set.
        type: str
        choices: [present, absent]
        default: present
      nsid:
        description:
          - The nsid of the namespace as seen from the host (C(ip netns set NAME ID)). Set when unassigned;
            a different existing nsid is an error, since the kernel cannot change it.
        type: int
      loopback:
        description: Bring C(lo) up.
        type: bool
        default: true
      links:
        description: Links inside the namespace.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - Interface name inside the namespace, at most 15 bytes, without C(/), C(:), spaces or control
                characters. V(all) and V(default) are refused, since C(/proc/sys/net/*/conf/all) and C(default)
                hold the settings of every link.
            type: str
            required: true
          kind:
            description:
              - V(veth) creates a pair, the other end being O(namespaces[].links[].peer).
              - V(vlan), V(macvlan), V(ipvlan) are created on the host link O(namespaces[].links[].parent) and
                moved in. V(physical) moves the host link O(namespaces[].links[].parent) in, renamed to the name.
              - V(vxlan) is a VXLAN tunnel whose device is in the namespace and whose UDP socket (the underlay end,
                O(namespaces[].links[].local), O(namespaces[].links[].underlay_dev)) is on the host, in the network
                namespace this module runs in. It is created there with the namespace as target, so no link of its
                name ever appears on the host. See O(namespaces[].links[].vni) and O(namespaces[].links[].fdb).
            type: str
            required: true
            choices: [veth, dummy, bridge, vlan, macvlan, ipvlan, physical, vxlan]
          state:
            description: Administrative state.
            type: str
            choices: [up, down]
            default: up
          mtu:
            description: MTU.
            type: int
          address:
            description: Unicast MAC address (first octet even, not all zero).
            type: str
          master:
            description: A bridge declared in the same namespace to attach this link to (not the link itself).
            type: str
          addresses:
            description:
              - Addresses with prefix length (CIDR), IPv4 or IPv6. An IPv4 address is identified by address and
                prefix length, an IPv6 one by address alone (see the description for renumbering).
            type: list
            elements: str
          parent:
            description: The host link a vlan, macvlan, ipvlan or physical link comes from.
            type: str
          vlan_id:
            description: VLAN id (1-4094) of a vlan link.
            type: int
          mode:
            description:
              - Mode of a macvlan (V(private), V(vepa), V(bridge), V(passthru), V(source); default V(bridge)) or an
                ipvlan (V(l2), V(l3), V(l3s); default V(l2)).
            type: str
          vni:
            description:
              - VXLAN network identifier (1-16777215) of a vxlan link; required for one. The kernel takes a VNI
                once per UDP port and address family on a host, so the call refuses two vxlan links with the same.
              - A vxlan whose VNI, O(namespaces[].links[].port), O(namespaces[].links[].learning), or declared
                O(namespaces[].links[].local) or O(namespaces[].links[].underlay_dev) differ from the declaration is
                deleted and created again (with its fdb entries), without O(purge) - it is the declared link. An omitted
                O(namespaces[].links[].local), O(namespaces[].links[].underlay_dev) or O(namespaces[].links[].mtu) is
                not compared.
            type: int
          local:
            description:
              - Local underlay address of a vxlan link (the tunnel's source), IPv4 or IPv6, plain (no prefix length,
                no scope id). An IPv6 underlay needs it - without it the kernel opens an IPv4 socket only.
            type: str
          underlay_dev:
            description:
              - Underlay device of a vxlan link - a link on the host (the network namespace this module runs in), or
                the host end of a veth that an earlier namespace of this call declares. A name that is neither fails
                the namespace before anything is changed in it.
              - Without O(namespaces[].links[].mtu) the kernel derives the vxlan's MTU from it (its MTU minus 50,
                minus 70 for IPv6); with neither, the MTU is 1500. A declared O(namespaces[].links[].mtu) above what
                the underlay device carries (its MTU minus 50, or 70) fails the namespace before anything is changed
                in it.
            type: str
          port:
            description: Destination UDP port of a vxlan link (the kernel's own default is 8472, so it is always set).
            type: int
            default: 4789
          learning:
            description:
              - Whether a vxlan link learns the underlay address of source MACs from received packets (C(nolearning)
                when off).
            type: bool
            default: true
          fdb:
            description:
              - Static forwarding entries of a vxlan link (C(bridge fdb) entries of the device itself, C(self
                permanent)). Only for vxlan links.
              - A declared list is the whole list, with or without O(purge) - entries added and, when no longer
                listed, deleted - so that a host leaving a segment disappears from the others' entries on the next
                run; learned entries are never touched. Omitted, the entries are left as they are.
              - The MAC V(00:00:00:00:00:00) is the default entry - unknown, broadcast and multicast destinations
                are sent to each of its destinations (head-end replication), so list it once per remote host. A
                multicast MAC may also have several destinations; a unicast MAC has one (a changed dst replaces it).
            type: list
            elements: dict
            suboptions:
              mac:
                description: MAC address, such as V(02:00:00:00:00:01) or V(00:00:00:00:00:00).
                type: str
                required: true
              dst:
                description:
                  - Underlay address of the remote tunnel end, of the family of O(namespaces[].links[].local)
                    (IPv4 when it is omitted).
                type: str
                required: true
          segment:
            description:
              - The fleet segment this link is made for (the P(nsfd.namespaces.netns#role) role's C(netns_segments),
                set by the P(nsfd.namespaces.netns_segments#filter) filter on each segment's bridge and vxlan).
              - With O(record), such a link is recorded, and once no declaration of that segment in that namespace
                lists it any more (the segment's id changed, the segment was removed or the host left it), it is
                deleted, without O(purge) and also in a namespace no longer declared (not pruned) - a vxlan left
                behind would keep flooding the old peers under the old VNI, a bridge keep a second route to the
                subnet. These deletions run before anything else of the call, so two segments swapping ids converge
                in one run.
              - Only a link the record lists for the segment, of the recorded kind (and a vxlan of the recorded
                VNI), is deleted; a link made by anything else, even of that name, is never touched.
            type: str
          peer:
            description: The other end of a veth.
            type: dict
            suboptions:
              name:
                description:
                  - Interface name of the other end, with the rules of O(namespaces[].links[].name). No other link
                    or veth end of this call may claim the same name in the same namespace (or on the host).
                type: str
                required: true
              netns:
                description:
                  - Another namespace of this call, not declared V(absent), to put the other end in; omitted, it
                    stays on the host.
                type: str
              addresses:
                description: Addresses of the other end (CIDR).
                type: list
                elements: str
              state:
                description: Administrative state of the other end.
                type: str
                choices: [up, down]
                default: up
              mtu:
                description: MTU of the other end.
                type: int
              master:
                description:
                  - A bridge on the other end's side to attach it to - declared in that namespace, or already on
                    the host.
                type: str
      routes:
        description: Routes inside the namespace.
        type: list
        elements: dict
        suboptions:
          dst:
            description:
              - Destination network (CIDR) or V(default).
              - V(default) is the IPv4 default route (C(0.0.0.0/0)) unless O(namespaces[].routes[].via) or
                O(namespaces[].routes[].src) is an IPv6 address; for an IPv6 default route through a device alone,
                write C(::/0).
            type: str
            required: true
          via:
            description: Gateway address.
            type: str
          dev:
            description: Output link.
            type: str
          metric:
            description:
              - Route metric (priority). Together with O(namespaces[].routes[].dst) and
                O(namespaces[].routes[].table) it identifies the route, as in the kernel. An IPv6 route without a
                metric or with metric 0 has the metric the kernel gives it, 1024.
            type: int
          table:
            description: Routing table id (default the main table, 254). The local table (255) is refused.
            type: int
          src:
            description: Preferred source address.
            type: str
      sysctls:
        description:
          - C(net.*) sysctls set inside the namespace, like C(net.ipv4.ip_forward=1). Keys may use C(/) separators as in
            sysctl(8) (C(net/ipv4/conf/eth0.100/forwarding)) so interface names with dots work. Other keys are
            rejected, since they would change the host, and so are groups of sysctls (C(net.ipv4),
            C(net.ipv4.conf.all)).
          - Values are strings or whole numbers (booleans become 0 and 1); null, lists, fractions and control
            characters are refused.
        type: dict
      files:
        description:
          - Files under C(/etc/netns/NAME/), relative path (without control characters or NUL) to content, written
            atomically with mode 0644. C(ip netns
            exec), M(nsfd.namespaces.namespace_exec) and the P(nsfd.namespaces.netns#become) become plugin show them
            over C(/etc).
        type: dict
      services:
        description:
          - Existing systemd services to run inside this namespace, placed after the namespaces are converged, as
            M(nsfd.namespaces.netns_service) places one (a drop-in with C(NetworkNamespacePath=), ordered after
            the boot unit of O(boot) when its O(boot.state) is V(present), with the namespace's C(/etc/netns)
            files bound over C(/etc)). A service runs in one namespace only.
          - An entry is a unit name (C(unbound.service)) or a mapping with C(name) and optionally C(restart)
            (restart it when its drop-in changed or it runs outside the namespace; default V(false)),
            C(writable_etc) (bind the files writable; default V(false)) and C(bind_etc) (default V(true)).
          - With O(record), the services placed are recorded, and a service no longer declared in any namespace is
            taken out of its namespace again (its drop-in removed). Drop-ins this module never recorded are never
            touched.
          - A unit that does not exist, is masked, has C(PrivateNetwork=yes) or is overridden by a later drop-in
            fails the task after the namespaces were converged, naming the service.
        type: list
        elements: raw
        default: []
  purge:
    description:
      - Inside each listed namespace, also remove links, addresses and routes that are not declared, and replace links
        of another kind than declared.
      - Purge owns every route in the main table and in the tables the namespace's routes use, whatever its type
        (unicast, blackhole, unreachable, prohibit, throw...) and protocol (static, boot, dhcp, numeric), except the
        routes the kernel adds itself - protocol C(kernel) (prefix, local, link-local routes) and C(ra) (router
        advertisements). Each is deleted by its full identity (table, destination, tos, type, scope, protocol,
        metric, next hop). Routes the kernel drops on its own with a deleted link or source address count as
        deleted.
      - C(lo), link-local addresses (IPv6 C(fe80::/10), IPv4 C(169.254.0.0/16)) and veth ends that another namespace of
        this call declares are left alone, and so is an undeclared link that a kept link sits on - its veth peer or
        the parent of a macvlan - or whose veth peer is a link this call keeps in another namespace or on the host,
        since deleting it would delete the kept link too. Deleting a link deletes what sits on it (its veth peer, its
        macvlans); the change says so.
      - For namespaces removed (V(absent), or pruned), remove the whole C(/etc/netns/NAME/) directory, with any
        files others put there.
    type: bool
    default: false
  record:
    description:
      - Path of a JSON file listing the namespaces that calls with this O(record) manage on the host, the
        C(/etc/netns/NAME/) files they wrote and the services they placed (an object whose key C(namespaces) holds
        a list of names, whose optional key C(files) maps a name to a list of relative paths and whose optional key
        C(services) lists the services, each with its C(name) and C(namespace), and whose optional key C(links) maps
        a name to the links declared there for a segment - see O(namespaces[].links[].segment) - each with its
        C(name), C(kind), C(segment) and a vxlan's C(vni)). Keep it on persistent storage, not under C(/run).
      - The record is written before anything is created, with the names and files recorded so far plus the ones
        declared present, and again at the end without the namespaces that are really gone (pruned or
        V(absent), their pin no longer there). So a run killed at any point leaves a record that lists at
        least every namespace it created, and a later run with O(prune) removes them. A namespace that failed to
        be removed stays recorded.
      - The P(nsfd.namespaces.netns#role) role keeps one in C(/var/lib/nsfd-netns/managed.json).
    type: path
  prune:
    description:
      - Remove the namespaces listed in O(record) that are no longer in O(namespaces), as if they were declared
        with C(state=absent) (so their recorded C(/etc/netns/NAME/) files go too). Namespaces this module never
        recorded are never touched.
      - In a namespace still declared, remove the C(/etc/netns/NAME/) files O(record) lists as written for it that
        O(namespaces[].files) no longer declares. Files nobody declared are kept.
      - A name in O(record) that is not a valid namespace name fails the task before anything is touched.
    type: bool
    default: false
notes:
  - Needs root, and the Python library pyroute2 on the managed host (the C(nsfd.namespaces.netns) role installs it
    with C(netns_install_requirements=true)).
  - Links with kinds this kernel lacks (for example dummy or vlan without their modules) fail with the kernel's error.
  - Addresses compare as networks, MAC addresses case-insensitively, names exactly.
  - A failure part-way through one namespace leaves the others converged; the result says which namespace failed
    and what had been done to it.
  - One run at a time per host - a second run started meanwhile waits (at most 15 minutes, then fails naming the pid
    of the run it waited for), then converges from what the first one left.
  - Renumbering an IPv4 address within its subnet keeps the link's other addresses and routes (the new address is
    added before the old one goes); changing the prefix length of an IPv6 address deletes and re-adds it.
  - An existing link of the declared name but of another kind (a veth where a bridge is declared), or a veth whose
    peer is not the declared O(namespaces[].links[].peer), fails that namespace without O(purge), and with O(purge)
    is deleted and created again as declared (unless that would delete a link the call keeps). A V(physical) link
    may be of any kind.
  - How a run reads, plans and applies changes (netlink, the host lock, address renumbering) is explained in the
    collection's Concepts guide, section "How netns_config converges".
seealso:
  - module: nsfd.namespaces.namespace
  - module: nsfd.namespaces.namespace_exec
'''

EXAMPLES = r'''
- name: Two tenants, each with a veth to the host, an address on both ends and a default route
  nsfd.namespaces.netns_config:
    namespaces:
      - name: tenant-a
        links:
          - name: eth0
            kind: veth
            addresses: [10.200.1.2/24, "fd00:1::2/64"]
            peer: {name: ta-host, addresses: [10.200.1.1/24]}
        routes:
          - {dst: default, via: 10.200.1.1}
        sysctls:
          net.ipv4.ip_forward: 1
        files:
          resolv.conf: "nameserver 10.200.1.1\n"
      - name: tenant-b
        nsid: 20
        links:
          - {name: br0, kind: bridge, addresses: [192.168.50.1/24]}
          - {name: eth0, kind: veth, master: br0, peer: {name: tb-host}}

- name: Two namespaces cabled to each other
  nsfd.namespaces.netns_config:
    namespaces:
      - name: left
        links:
          - {name: l0, kind: veth, addresses: [10.9.0.1/30], peer: {name: r0, netns: right, addresses: [10.9.0.2/30]}}
      - name: right

- name: Exactly what is declared, nothing else
  nsfd.namespaces.netns_config:
    purge: true
    namespaces:
      - name: tenant-a
        links:
          - {name: eth0, kind: veth, addresses: [10.200.1.2/24], peer: {name: ta-host}}

- name: Renumber 10.200.1.2 to .3 without losing the default route (purge deletes .2 once .3 is there)
  nsfd.namespaces.netns_config:
    purge: true
    namespaces:
      - name: tenant-a
        links:
          - {name: eth0, kind: veth, addresses: [10.200.1.3/24, "fd00:1::2/56"], peer: {name: ta-host}}
        routes:
          - {dst: default, via: 10.200.1.1}
          - {dst: "fd00:9::/64", via: "fd00:1::1", metric: 1024, table: 100}

# Two hosts, 10.77.0.1 (host1) and 10.77.0.2 (host2), join their tenant red's bridges over VXLAN 100: each
# host's vxlan floods unknown and broadcast frames to the other (all-zeros MAC). Run the first task on host1 and
# the second on host2 (in a play, from host_vars); the UDP socket of each tunnel is on the host, on eth0.
- name: Host1's half of a VXLAN segment between two hosts
  nsfd.namespaces.netns_config:
    namespaces:
      - name: red
        links:
          - {name: br100, kind: bridge, addresses: [10.200.0.11/24]}
          - name: vx100
            kind: vxlan
            vni: 100
            local: 10.77.0.1
            underlay_dev: eth0
            learning: false
            master: br100
            fdb:
              - {mac: "00:00:00:00:00:00", dst: 10.77.0.2}

- name: Host2's half of the same segment, and a static entry for a MAC known to live behind host1
  nsfd.namespaces.netns_config:
    namespaces:
      - name: red
        links:
          - {name: br100, kind: bridge, addresses: [10.200.0.12/24]}
          - name: vx100
            kind: vxlan
            vni: 100
            local: 10.77.0.2
            underlay_dev: eth0
            port: 4789
            mtu: 1450
            master: br100
            fdb:
              - {mac: "00:00:00:00:00:00", dst: 10.77.0.1}
              - {mac: "02:00:00:00:00:01", dst: 10.77.0.1}

- name: Manage a set of namespaces, and remove the ones this set created earlier that are gone from it
  nsfd.namespaces.netns_config:
    record: /var/lib/tenants/managed.json
    prune: true
    namespaces:
      - name: tenant-a

- name: Remove a tenant and the host ends of its veths
  nsfd.namespaces.netns_config:
    namespaces:
      - {name: tenant-b, state: absent}
'''

RETURN = r'''
boot:
  description: What O(boot) wrote, enabled or removed, as M(nsfd.namespaces.netns_persist) returns it.
  returned: when O(boot) is set
  type: dict
  contains:
    changed:
      description: Whether a boot file or unit link changed (in check mode, would change).
      type: bool
    changes:
      description: What was (would be) written, enabled or removed, in words.
      type: list
      elements: str
      sample: ["write /etc/nsfd-netns/namespaces.sh"]
    files:
      description: The paths written, linked or removed.
      type: list
      elements: str
    unit:
      description: Path of the systemd unit.
      type: str
      sample: /etc/systemd/system/nsfd-netns.service
    systemd_running:
      description: Whether systemd runs on the host, so a daemon-reload is due after a change.
      type: bool
record:
  description: The namespaces O(record) lists after the run, and those this run pruned.
  returned: when O(record) is set
  type: dict
  contains:
    path:
      description: The record file.
      type: str
      sample: /var/lib/nsfd-netns/managed.json
    managed:
      description: The names the record holds now (in check mode, would hold).
      type: list
      elements: str
      sample: [tenant-a]
    pruned:
      description:
        - The names removed because O(prune) was set.
        - A recorded name with nothing left to remove (a run killed before it created it) leaves the record without
          being listed here.
      type: list
      elements: str
      sample: [tenant-old]
namespaces:
  description:
    - One entry per declared namespace, in order, then one per pruned namespace, then one per namespace no longer
      declared whose recorded segment links were deleted (see O(namespaces[].links[].segment)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The namespace name.
      type: str
      sample: tenant-a
    changed:
      description: Whether anything changed (in check mode, would change) in or for this namespace.
      type: bool
    changes:
      description: The actions taken (in check mode, that would be taken), in order, in words.
      type: list
      elements: str
      sample: ["create net namespace and pin it at /run/netns/tenant-a", "set lo in namespace 'tenant-a' up"]
    details:
      description:
        - The changes of RV(namespaces[].changes) as data, one entry per change in the same order, for reports
          (the C(nsfd.namespaces.drift_report) playbook reads them). In check mode, what differs from the
          declaration.
        - "Each entry has C(kind) (V(namespace), V(nsid), V(link), V(address), V(route), V(sysctl), V(file) or
          V(fdb)), C(object) (the link, the link of an address, a route's destination, the sysctl key, the file's
          path, the vxlan device of an fdb entry, the namespace; a link end outside the namespace is followed by
          where it is, as in C(tn-host (the host))), and C(before) and C(after) (C(null) for absent; a string, a
          number or a mapping such as C({mtu: 1400}), C({state: up}) or C({mac: 00:00:00:00:00:00, dst: 10.77.0.2}))."
      type: list
      elements: dict
      version_added: 0.3.0
      sample:
        - {kind: address, object: eth0, before: null, after: 10.200.1.2/24}
        - {kind: route, object: 10.60.0.0/24, before: 10.60.0.0/24 dev eth0 proto boot table 254, after: null}
        - {kind: fdb, object: vx100, before: null, after: {mac: "00:00:00:00:00:00", dst: 10.77.0.2}}
    pins:
      description: The namespace's pin, as M(nsfd.namespaces.namespace) returns it.
      type: list
      elements: dict
    failed:
      description: Present and true when this namespace failed; RV(namespaces[].msg) says where.
      type: bool
      returned: on failure of this namespace
    msg:
      description: What failed, and what had been done to this namespace before.
      type: str
      returned: on failure of this namespace
services:
  description:
    - One entry per service declared in O(namespaces[].services), then one per recorded service taken out, as
      M(nsfd.namespaces.netns_service) returns it, with the service's C(unit), C(namespace) and C(state).
  returned: when a service is declared or taken out
  type: list
  elements: dict
  contains:
    unit:
      description: The service.
      type: str
      sample: unbound.service
    namespace:
      description: The namespace it runs in (or ran in, for a service taken out).
      type: str
      sample: tenant-a
    state:
      description: V(present) for a declared service, V(absent) for one taken out.
      type: str
    changed:
      description: Whether its drop-in changed, systemd was reloaded or the service restarted (or would be).
      type: bool
    changes:
      description: What was (would be) done, in words.
      type: list
      elements: str
      returned: unless RV(services[].failed)
    failed:
      description: Present and true when this service could not be placed or taken out; RV(services[].msg) says why.
      type: bool
      returned: on failure of this service
    msg:
      description: Why the service could not be placed or taken out.
      type: str
      returned: on failure of this service
'''

from typing import TYPE_CHECKING

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import persist, services
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import netns_socket
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import (
    HAS_PYROUTE2,
    PYROUTE2_IMPORT_ERROR,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.module_runner import call_or_fail
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge, hostlock
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate

if TYPE_CHECKING:
    from typing import Any


def _apply(
    module: AnsibleModule, params: dict[str, Any], step: services.ServicesStep
) -> tuple[dict[str, Any] | None, list[converge.Outcome], dict[str, Any] | None]:
    """The boot files, then the namespaces, their services and the record."""
    # what can fail on input fails before the boot files are written
    call_or_fail(module, lambda: persist.check_pin_dir(params['boot'], params['pin_dir']))
    if params['record'] is not None:
        call_or_fail(module, lambda: converge.read_record(params['namespaces'], params['record'], params['prune']))
    boot: dict[str, Any] | None = None
    if params['boot'] is not None:
        boot = call_or_fail(
            module,
            lambda: persist.apply(
                params['namespaces'], params['boot'], check_mode=module.check_mode, diff=module._diff
            ),
            os_action='cannot write the boot files',
        )
    outcomes, record = call_or_fail(
        module,
        lambda: converge.converge_recorded(
            params['namespaces'],
            record_path=params['record'],
            prune=params['prune'],
            pin_dir=params['pin_dir'],
            purge=params['purge'],
            check_mode=module.check_mode,
            services_step=step,
        ),
    )
    return boot, outcomes, record


def _output(
    outcomes: list[converge.Outcome],
    step: services.ServicesStep,
    boot: dict[str, Any] | None,
    record: dict[str, Any] | None,
    diff: bool,
) -> dict[str, Any]:
    """What the module returns: the namespaces, their services, the record
    and the boot files, changed when any of them changed, and the diffs
    when asked for. The services' and the boot files' diffs and the
    record's changed move from their own dicts to the top level."""
    results = [o.as_dict() for o in outcomes]
    service_diffs = [r.pop('diff') for r in step.results if 'diff' in r]
    output: dict[str, Any] = {'changed': any(r['changed'] for r in results + step.results), 'namespaces': results}
    if step.results:
        output['services'] = step.results
    if record is not None:
        record_changed = record.pop('changed')
        output['changed'] = output['changed'] or record_changed
        output['record'] = record
    boot_diffs: list[dict[str, Any]] = []
    if boot is not None:
        boot_diffs = boot.pop('diff', [])
        output['changed'] = output['changed'] or boot['changed']
        output['boot'] = boot
    if diff:
        diffs = [d for o in outcomes for d in o.diffs] + boot_diffs + service_diffs
        diffs.append(
            {
                'prepared': '\n'.join(
                    [f'{o.name}: {c}' for o in outcomes for c in o.changes]
                    + [f'{r["unit"]}: {c}' for r in step.results for c in r.get('changes', [])]
                )
            }
        )
        output['diff'] = diffs
    return output


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            # validated as a whole by netconfig.spec, which names each bad item's path
            namespaces=dict(type='list', elements='dict', required=True),
            purge=dict(type='bool', default=False),
            pin_dir=dict(type='path'),
            record=dict(type='path'),
            prune=dict(type='bool', default=False),
            boot=dict(type='dict', options=persist.OPTION_SPEC),
        ),
        required_if=[('prune', True, ['record'])],
        supports_check_mode=True,
    )
    if not HAS_PYROUTE2:
        module.fail_json(msg=missing_required_lib('pyroute2'), exception=str(PYROUTE2_IMPORT_ERROR))
    too_old = netns_socket.pyroute2_too_old()
    if too_old:
        module.fail_json(msg=too_old)
    params = module.params
    # bad input touches nothing, not even the lock
    decls = call_or_fail(module, lambda: validate(params['namespaces']))
    call_or_fail(module, lambda: services.check(decls, params['pin_dir'], params['boot']))
    step = services.ServicesStep(params['pin_dir'], params['boot'], check_mode=module.check_mode, diff=module._diff)
    # one run per host at a time; released on return and on fail_json alike
    with call_or_fail(module, lambda: hostlock.acquire(check_mode=module.check_mode)):
        boot, outcomes, record = _apply(module, params, step)
    output = _output(outcomes, step, boot, record, diff=module._diff)
    failed = [o for o in outcomes if o.failed]
    if failed:
        # the cause in words: one namespace's own message, without what had been done before (in namespaces[])
        causes = '; '.join(f"namespace '{o.name}': {o.cause or o.failed}" for o in failed)
        module.fail_json(msg=f'netns_config failed for {causes}; the other namespaces were converged.', **output)
    if step.failed:
        module.fail_json(
            msg=f'netns_config could not place these services: {"; ".join(step.failed)}; the namespaces were converged',
            **output,
        )
    module.exit_json(**output)


if __name__ == '__main__':
    main()
