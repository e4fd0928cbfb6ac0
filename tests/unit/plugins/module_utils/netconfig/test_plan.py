"""The netlink requests planned for link kinds a kernel may lack (dummy,
vlan, ipvlan): checked on a recording stand-in for the pyroute2 socket and
a table of ifindexes, since this machine's kernel cannot create them."""

from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import PEERS, Side, link_writes, plan
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import NetState


class Recorder:
    def __init__(self, links):
        self.calls = []
        self.links = links

    def link(self, verb, **kwargs):
        self.calls.append(('link', verb, kwargs))
        return None

    def addr(self, verb, **kwargs):
        self.calls.append(('addr', verb, kwargs))

    def route(self, verb, **kwargs):
        self.calls.append(('route', verb, kwargs))


def _run(link):
    decl = validate([{'name': 'k', 'links': [link]}])[0]
    host_state = NetState.empty()
    host_state.links['uplink'] = {'index': 7, 'kind': 'veth', 'up': True, 'mtu': 1500, 'address': None, 'master': None}
    host = Side('the host', host_state, ipr=Recorder({'uplink': 7}), fd=100, lookup={'uplink': 7}.get)
    ns = Side(
        "namespace 'k'", NetState.empty(), ipr=Recorder({'x0': 3, 'lo': 1}), fd=200, lookup={'x0': 3, 'lo': 1}.get
    )
    actions = plan(decl, ns, host, {'k': ns}, set(), purge=False)
    for action in actions:
        action.run()
    return [a.text for a in actions], host.ipr.calls, ns.ipr.calls


def test_dummy_is_created_inside_the_namespace():
    texts, host_calls, ns_calls = _run({'name': 'x0', 'kind': 'dummy', 'addresses': ['10.1.0.1/24']})
    assert "create dummy x0 in namespace 'k'" in texts
    assert ('link', 'add', {'ifname': 'x0', 'kind': 'dummy'}) in ns_calls
    assert ('addr', 'add', {'index': 3, 'address': '10.1.0.1', 'prefixlen': 24}) in ns_calls
    assert host_calls == []


def test_vlan_is_created_on_the_host_parent_directly_in_the_namespace():
    texts, host_calls, ns_calls = _run({'name': 'x0', 'kind': 'vlan', 'parent': 'uplink', 'vlan_id': 100})
    assert texts[1] == "create vlan x0 (id 100) on host link uplink, in namespace 'k'"
    assert host_calls == [
        ('link', 'add', {'ifname': 'x0', 'kind': 'vlan', 'link': 7, 'net_ns_fd': 200, 'vlan_id': 100})
    ]


def test_ipvlan_mode_is_sent_as_the_kernel_number():
    texts, host_calls, ns_calls = _run({'name': 'x0', 'kind': 'ipvlan', 'parent': 'uplink', 'mode': 'l3'})
    assert host_calls[0][2]['ipvlan_mode'] == 1 and host_calls[0][2]['net_ns_fd'] == 200


def test_an_existing_up_link_with_its_address_needs_nothing():
    link = {'name': 'x0', 'kind': 'dummy', 'addresses': ['10.1.0.1/24']}
    decl = validate([{'name': 'k', 'loopback': False, 'links': [link]}])[0]
    state = NetState.empty()
    state.links['x0'] = {'index': 3, 'kind': 'dummy', 'up': True, 'mtu': 1500, 'address': None, 'master': None}
    import ipaddress

    state.addresses['x0'] = [ipaddress.ip_interface('10.1.0.1/24')]
    ns = Side("namespace 'k'", state, ipr=Recorder({}), fd=200, lookup={}.get)
    assert plan(decl, ns, ns, {'k': ns}, set(), purge=False) == []


def test_an_alias_is_set_only_where_a_caller_declares_one_and_the_link_lacks_it():
    # no netns_config option (its spec has no alias): the hosts' lab marks its links with one
    link = dict(validate([{'name': 'k', 'links': [{'name': 'x0', 'kind': 'dummy'}]}])[0]['links'][0], alias='mine')
    ns = Side("namespace 'k'", NetState.empty(), ipr=Recorder({}), fd=200, lookup={'x0': 3}.get)
    actions = link_writes(link, ns, ns, None)
    for action in actions:
        action.run()
    assert "set alias of x0 in namespace 'k' to 'mine'" in [a.text for a in actions]
    assert ('link', 'set', {'index': 3, 'ifalias': 'mine'}) in ns.ipr.calls
    current = {'index': 3, 'kind': 'dummy', 'up': True, 'mtu': 1500, 'address': None, 'master': None, 'alias': 'mine'}
    assert link_writes(link, ns, ns, current) == []
    assert 'alias' not in validate([{'name': 'k', 'links': [{'name': 'x0', 'kind': 'dummy'}]}])[0]['links'][0]


def test_a_veth_peer_gets_the_mac_its_declaration_carries_in_its_own_namespace():
    veth = {'name': 'v0', 'kind': 'veth', 'peer': {'name': 'eth0', 'netns': 'far', 'addresses': ['10.1.0.2/24']}}
    link = validate([{'name': 'k', 'links': [veth]}, {'name': 'far'}])[0]['links'][0]
    link['peer']['address'] = '02:00:00:00:00:02'
    ns = Side("namespace 'k'", NetState.empty(), ipr=Recorder({}), fd=200, lookup={'v0': 3}.get)
    far = Side("namespace 'far'", NetState.empty(), ipr=Recorder({}), fd=300, lookup={'eth0': 2}.get)
    actions = link_writes(link, ns, ns, None, far)
    for action in actions:
        action.run()
    assert actions[0].text == "create veth v0 in namespace 'k' with peer eth0 in namespace 'far'"
    assert [a.phase for a in actions[-3:]] == [PEERS] * 3  # the peer's settings, after every namespace's links
    assert far.ipr.calls == [
        ('link', 'set', {'index': 2, 'address': '02:00:00:00:00:02'}),
        ('link', 'set', {'index': 2, 'state': 'up'}),
        ('addr', 'add', {'index': 2, 'address': '10.1.0.2', 'prefixlen': 24}),
    ]
