"""routes: routes planned against a real namespace's state, by the kernel's
identity of a route, and applied; `ip route` is the oracle."""

import ipaddress
import socket

from nsoracle import ip, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel.netns_socket import rtnl_in
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import routes
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.plan import Side
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.state import NetState, read


def _side():
    side = Side("namespace 'r'", NetState(), path='/run/netns/r')
    with rtnl_in(side.fd) as sock:
        side.set_state(read(sock))
    return side


def _lab():
    """Namespace r with v0 up at 10.1.0.1/24 and 2001:db8::1/64."""
    sh('ip', 'netns', 'add', 'r')
    sh('ip', '-n', 'r', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1')
    sh('ip', '-n', 'r', 'addr', 'add', '10.1.0.1/24', 'dev', 'v0')
    sh('ip', '-n', 'r', 'addr', 'add', '2001:db8::1/64', 'dev', 'v0', 'nodad')
    for name in ('v0', 'v1'):
        sh('ip', '-n', 'r', 'link', 'set', name, 'up')
    return _side()


def _declared(*items):
    return validate(
        [{'name': 'r', 'links': [{'name': 'v0', 'kind': 'veth', 'peer': {'name': 'v1'}}], 'routes': list(items)}]
    )[0]['routes']


def _run(actions):
    for action in actions:
        action.run()


def _table(family='-4', table='main'):
    return sorted(
        (r['dst'], r.get('gateway'), r.get('metric'), r.get('protocol'))
        for r in ip(family, 'route', 'show', 'table', table, netns='r')
    )


def test_metric_and_scope_as_the_kernel_stores_them():
    v4, v6, dev = _declared(
        {'dst': '10.2.0.0/24', 'via': '10.1.0.2'},
        {'dst': '2001:db8:1::/64', 'via': '2001:db8::2'},
        {'dst': '10.3.0.0/24', 'dev': 'v0'},
    )
    assert routes.metric(v4) == 0 and routes.metric(v6) == 1024
    assert routes.scope(v4) == 0 and routes.scope(v6) == 0
    assert routes.scope(dev) == 253  # RT_SCOPE_LINK: reached directly
    assert routes.declared_text(dev) == '10.3.0.0/24 dev v0'


def test_missing_routes_are_added_and_then_found_present():
    side = _lab()
    declared = _declared(
        {'dst': '10.2.0.0/24', 'via': '10.1.0.2'},
        {'dst': '0.0.0.0/0', 'via': '10.1.0.254'},
        {'dst': '2001:db8:1::/64', 'via': '2001:db8::2'},
        {'dst': '10.3.0.0/24', 'dev': 'v0', 'metric': 7, 'table': 100},
    )
    actions = routes.plan_routes(side, declared, purge=False)
    assert [a.text for a in actions] == [
        "add route 10.2.0.0/24 via 10.1.0.2 in namespace 'r'",
        "add route default (0.0.0.0/0) via 10.1.0.254 in namespace 'r'",
        "add route 2001:db8:1::/64 via 2001:db8::2 in namespace 'r'",
        "add route 10.3.0.0/24 dev v0 metric 7 table 100 in namespace 'r'",
    ]
    _run(actions)
    side.close()
    main = _table()
    assert ('10.2.0.0/24', '10.1.0.2', None, 'static') in main and ('default', '10.1.0.254', None, 'static') in main
    assert ('2001:db8:1::/64', '2001:db8::2', 1024, 'static') in _table('-6')
    assert ip('route', 'show', 'table', '100', netns='r')[0]['scope'] == 'link'
    assert routes.plan_routes(_side(), declared, purge=False) == []


def test_a_route_of_the_same_identity_with_another_gateway_is_changed():
    _lab()
    sh('ip', '-n', 'r', 'route', 'add', '10.2.0.0/24', 'via', '10.1.0.9')
    side = _side()
    actions = routes.plan_routes(side, _declared({'dst': '10.2.0.0/24', 'via': '10.1.0.2'}), purge=False)
    assert [a.text for a in actions] == ["change route 10.2.0.0/24 via 10.1.0.2 in namespace 'r'"]
    _run(actions)
    assert [r['gateway'] for r in ip('route', 'show', '10.2.0.0/24', netns='r')] == ['10.1.0.2']


def test_another_metric_is_another_route():
    _lab()
    sh('ip', '-n', 'r', 'route', 'add', '10.2.0.0/24', 'via', '10.1.0.2', 'metric', '5')
    side = _side()
    actions = routes.plan_routes(side, _declared({'dst': '10.2.0.0/24', 'via': '10.1.0.2'}), purge=False)
    assert [a.text for a in actions] == ["add route 10.2.0.0/24 via 10.1.0.2 in namespace 'r'"]


def test_purge_deletes_undeclared_routes_of_owned_tables_but_not_the_kernels():
    _lab()
    sh('ip', '-n', 'r', 'route', 'add', '10.9.0.0/24', 'via', '10.1.0.2')
    sh('ip', '-n', 'r', 'route', 'add', 'blackhole', '10.8.0.0/24')
    sh('ip', '-n', 'r', 'route', 'add', '10.7.0.0/24', 'via', '10.1.0.2', 'table', '200')
    sh('ip', '-n', 'r', 'route', 'add', '10.6.0.0/24', 'via', '10.1.0.2', 'table', '100')
    side = _side()
    declared = _declared({'dst': '10.2.0.0/24', 'via': '10.1.0.2', 'table': 100})
    texts = [a.text for a in routes.plan_routes(side, declared, purge=True)]
    assert texts == [
        "add route 10.2.0.0/24 via 10.1.0.2 table 100 in namespace 'r'",
        "delete route 10.6.0.0/24 via 10.1.0.2 dev v0 proto boot table 100 in namespace 'r' (not declared; purge)",
        "delete route blackhole 10.8.0.0/24 proto boot table 254 in namespace 'r' (not declared; purge)",
        "delete route 10.9.0.0/24 via 10.1.0.2 dev v0 proto boot table 254 in namespace 'r' (not declared; purge)",
    ]
    _run(routes.plan_routes(side, declared, purge=True))
    side.close()
    # the prefix route (proto kernel) and table 200 stay
    assert [r['dst'] for r in ip('-4', 'route', 'show', 'table', 'main', netns='r')] == ['10.1.0.0/24']
    assert [r['dst'] for r in ip('-4', 'route', 'show', 'table', '100', netns='r')] == ['10.2.0.0/24']
    assert [r['dst'] for r in ip('-4', 'route', 'show', 'table', '200', netns='r')] == ['10.7.0.0/24']


def test_routes_the_kernel_drops_with_a_deleted_link_are_not_planned():
    _lab()
    sh('ip', '-n', 'r', 'route', 'add', '10.9.0.0/24', 'via', '10.1.0.2')
    side = _side()
    v0 = side.state.links['v0']['index']
    gone = routes.Gone(links=[v0])
    # neither deleted again nor taken as present: a declared one is added anew
    declared = _declared({'dst': '10.9.0.0/24', 'via': '10.1.0.2'})
    assert [a.text for a in routes.plan_routes(side, [], purge=True, gone=gone)] == []
    assert [a.text for a in routes.plan_routes(side, declared, purge=False, gone=gone)] == [
        "add route 10.9.0.0/24 via 10.1.0.2 in namespace 'r'"
    ]


def test_gone_survives():
    route = {'oif': 3, 'family': socket.AF_INET, 'src': ipaddress.ip_address('10.1.0.1')}
    assert routes.Gone().survives(route)
    assert not routes.Gone(links=[3]).survives(route)
    assert not routes.Gone(bare_links=[3]).survives(route)
    assert not routes.Gone(sources=[ipaddress.ip_address('10.1.0.1')]).survives(route)
    # IPv6 routes stay when the link loses its IPv4 addresses
    assert routes.Gone(bare_links=[3]).survives(dict(route, family=socket.AF_INET6))


def test_deleting_a_route_already_gone_is_quiet():
    _lab()
    sh('ip', '-n', 'r', 'route', 'add', '10.9.0.0/24', 'via', '10.1.0.2')
    side = _side()
    actions = routes.plan_routes(side, [], purge=True)
    assert len(actions) == 1
    sh('ip', '-n', 'r', 'route', 'del', '10.9.0.0/24')
    actions[0].run()  # ESRCH: the kernel dropped it meanwhile
