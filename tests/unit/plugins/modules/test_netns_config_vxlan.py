"""netns_config's vxlan links and their static forwarding entries (issue 13):
the tunnel's socket on the host, the device in the namespace, entries
converged as a whole list. `ip -d -j link` and `bridge -j fdb` are the
oracles."""

import json
import subprocess

import pytest

from moduleharness import netns_config_refused, netns_config_run as converge, netns_config_twice as converged_twice


def run(*argv, netns=None):
    argv = list(argv)
    if netns:
        argv[1:1] = ['-n', netns]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return json.loads(out) if out.strip() else []


def sh(script):
    subprocess.run(['sh', '-ec', script], check=True, capture_output=True)


def vxlan_info(name, netns):
    [link] = run('ip', '-d', '-j', 'link', 'show', 'dev', name, netns=netns)
    return link


def settings(name, netns):
    """What a run may change of a link (not its counters or operstate)."""
    link = vxlan_info(name, netns)
    return dict(
        [(key, link.get(key)) for key in ('ifindex', 'mtu', 'master', 'flags')], info=link['linkinfo']['info_data']
    )


def fdb(name, netns):
    return sorted(
        (e['mac'], e['dst'])
        for e in run('bridge', '-j', 'fdb', 'show', 'dev', name, netns=netns)
        if 'dst' in e and e.get('state') == 'permanent'
    )


@pytest.fixture
def underlay():
    """Two host links standing in for two hosts' underlays: u1 (10.77.0.1)
    and u2 (10.77.0.2), a veth pair in the sandbox's own namespace."""
    sh(
        'ip link add u1 type veth peer name u2; ip addr add 10.77.0.1/24 dev u1; ip addr add 10.77.0.2/24 dev u2;'
        'ip link set u1 up; ip link set u2 up'
    )


def red(
    local='10.77.0.1',
    dev='u1',
    address='10.200.0.11/24',
    name='red',
    fdb_=(('00:00:00:00:00:00', '10.77.0.2'),),
    **extra,
):
    vx = dict(
        {'name': 'vx100', 'kind': 'vxlan', 'vni': 100, 'local': local, 'underlay_dev': dev, 'master': 'br100'}, **extra
    )
    if fdb_ is not None:
        vx['fdb'] = [{'mac': m, 'dst': d} for m, d in fdb_]
    return {'name': name, 'links': [{'name': 'br100', 'kind': 'bridge', 'addresses': [address]}, vx]}


def test_create_with_fdb_is_idempotent_and_the_socket_stays_on_the_host(capsys, underlay):
    sh('ip link add vx100 type bridge')  # the host's own vx100: the device never passes through the host
    converged_twice(
        capsys,
        [
            red(
                learning=False,
                fdb_=[
                    ('00:00:00:00:00:00', '10.77.0.2'),
                    ('00:00:00:00:00:00', '10.77.0.3'),
                    ('02:00:00:00:00:01', '10.77.0.3'),
                ],
            )
        ],
    )
    link = vxlan_info('vx100', 'red')
    data = link['linkinfo']['info_data']
    assert (data['id'], data['local'], data['port'], data['learning']) == (100, '10.77.0.1', 4789, False)
    assert link['mtu'] == 1450  # derived by the kernel from u1's 1500
    assert link['master'] == 'br100'
    assert 'link_netnsid' in link  # its socket is in another namespace: the host's
    assert fdb('vx100', 'red') == [
        ('00:00:00:00:00:00', '10.77.0.2'),
        ('00:00:00:00:00:00', '10.77.0.3'),
        ('02:00:00:00:00:01', '10.77.0.3'),
    ]
    assert not run('ip', '-j', 'link', 'show', 'type', 'vxlan')  # nothing of it on the host
    assert run('ip', '-d', '-j', 'link', 'show', 'dev', 'vx100')[0]['linkinfo']['info_kind'] == 'bridge'
    assert '4789' in subprocess.run(['ss', '-uan'], capture_output=True, text=True, check=True).stdout


def test_two_tenants_talk_over_the_tunnel_whose_socket_is_on_their_host(capsys, underlay):
    """red's vxlan is made by netns_config on this "host"; blue stands for the
    same tenant on a second host (namespace host2, holding the underlay end
    u2), made with iproute2 there. Frames cross only if red's tunnel socket
    is on this host, where u1 is."""
    sh(
        'ip netns add host2; ip netns add blue; ip link set u2 netns host2; ip -n host2 addr add 10.77.0.2/24 dev u2;'
        'ip -n host2 link set u2 up; ip -n host2 link add name vx100 netns blue type vxlan id 100 local 10.77.0.2'
        ' dev u2 dstport 4789 nolearning; ip -n blue link add br100 type bridge;'
        'ip -n blue link set vx100 master br100; ip -n blue addr add 10.200.0.12/24 dev br100;'
        'ip -n blue link set br100 up; ip -n blue link set vx100 up;'
        'ip netns exec host2 bridge -n blue fdb append 00:00:00:00:00:00 dev vx100 dst 10.77.0.1'
    )
    converged_twice(capsys, [red(learning=False)])
    sh('ip netns exec red ping -c 1 -W 5 10.200.0.12')


def test_changed_settings_replace_the_device_and_its_entries_come_back(capsys, underlay):
    converge(capsys, [red()])
    before = vxlan_info('vx100', 'red')['ifindex']
    out = converged_twice(capsys, [red(vni=200, port=4790, learning=False, local='10.77.0.2', dev='u2', mtu=1400)])
    changes = out['namespaces'][0]['changes']
    assert changes[0].startswith(
        "delete vxlan vx100 in namespace 'red' to create it as declared (id 100, not 200;"
        " dstport 4789, not 4790; learning on, not off; local 10.77.0.1, not 10.77.0.2;"
        " another underlay device than u2)"
    ), changes
    link = vxlan_info('vx100', 'red')
    data = link['linkinfo']['info_data']
    assert link['ifindex'] != before
    assert (data['id'], data['local'], data['port'], data['learning'], link['mtu']) == (
        200,
        '10.77.0.2',
        4790,
        False,
        1400,
    )
    assert link['master'] == 'br100' and 'UP' in link['flags']
    assert fdb('vx100', 'red') == [('00:00:00:00:00:00', '10.77.0.2')]


def test_omitted_local_underlay_and_mtu_are_not_compared(capsys, underlay):
    converge(capsys, [red(mtu=1400)])
    bare = red(local=None, dev=None)
    out = converge(capsys, [bare])
    assert not out['changed'], out
    assert vxlan_info('vx100', 'red')['mtu'] == 1400


def test_the_declared_fdb_list_is_the_whole_list_and_learned_entries_stay(capsys, underlay):
    three = [('00:00:00:00:00:00', '10.77.0.2'), ('00:00:00:00:00:00', '10.77.0.3'), ('02:00:00:00:00:01', '10.77.0.3')]
    converge(capsys, [red(fdb_=three)])
    # a learned (dynamic) entry and a static one somebody else added
    sh(
        'bridge -n red fdb add 02:00:00:00:00:09 dev vx100 dst 10.77.0.9 dynamic;'
        'bridge -n red fdb append 00:00:00:00:00:00 dev vx100 dst 10.77.0.8'
    )
    # host .3 leaves, 02:..:01 moves to .4: without purge
    out = converged_twice(capsys, [red(fdb_=[('00:00:00:00:00:00', '10.77.0.2'), ('02:00:00:00:00:01', '10.77.0.4')])])
    changes = out['namespaces'][0]['changes']
    assert changes == [
        "change fdb entry 02:00:00:00:00:01 on vx100 in namespace 'red': dst 10.77.0.4, not 10.77.0.3",
        "delete fdb entry 00:00:00:00:00:00 dst 10.77.0.3 from vx100 in namespace 'red' (not declared)",
        "delete fdb entry 00:00:00:00:00:00 dst 10.77.0.8 from vx100 in namespace 'red' (not declared)",
    ]
    assert fdb('vx100', 'red') == [('00:00:00:00:00:00', '10.77.0.2'), ('02:00:00:00:00:01', '10.77.0.4')]
    learned = [
        e for e in run('bridge', '-j', 'fdb', 'show', 'dev', 'vx100', netns='red') if e.get('dst') == '10.77.0.9'
    ]
    assert learned, 'the dynamic entry is kept'
    # an omitted fdb key leaves the entries alone; an empty list removes them all
    assert not converge(capsys, [red(fdb_=None)])['changed']
    converged_twice(capsys, [red(fdb_=[])])
    assert fdb('vx100', 'red') == []


def test_check_mode_and_diff_show_the_vxlan_and_fdb_changes_and_touch_nothing(capsys, underlay):
    converge(capsys, [red()])
    before = (settings('vx100', 'red'), fdb('vx100', 'red'))
    decl = [red(vni=101, fdb_=[('00:00:00:00:00:00', '10.77.0.2'), ('00:00:00:00:00:00', '10.77.0.5')])]
    predicted = converge(capsys, decl, check_mode=True, diff=True)
    assert predicted['changed'] and (settings('vx100', 'red'), fdb('vx100', 'red')) == before
    changes = predicted['namespaces'][0]['changes']
    assert changes[0].startswith("delete vxlan vx100 in namespace 'red' to create it as declared (id 100, not 101)")
    assert (
        "create vxlan vx100 (id 101 local 10.77.0.1 dev u1 dstport 4789) in namespace 'red', its tunnel on the "
        "host" in changes
    )
    assert "add fdb entry 00:00:00:00:00:00 dst 10.77.0.5 to vx100 in namespace 'red'" in changes
    assert (
        "red: add fdb entry 00:00:00:00:00:00 dst 10.77.0.2 to vx100 in namespace 'red'"
        in predicted['diff'][-1]['prepared']
    )
    real = converged_twice(capsys, decl)
    assert real['namespaces'][0]['changes'] == changes
    # check mode for a namespace not created yet
    fresh = converge(capsys, [red(name='green', address='10.200.0.21/24')], check_mode=True)
    assert (
        "create vxlan vx100 (id 100 local 10.77.0.1 dev u1 dstport 4789) in namespace 'green', its tunnel on the"
        " host" in fresh['namespaces'][0]['changes']
    )


def test_purge_removes_an_undeclared_vxlan_and_absent_removes_its_socket(capsys, underlay):
    converge(capsys, [red()])
    out = converged_twice(capsys, [{'name': 'red', 'links': [{'name': 'br100', 'kind': 'bridge'}]}], purge=True)
    assert "delete link vx100 from namespace 'red' (not declared; purge)" in out['namespaces'][0]['changes']
    assert [lk['ifname'] for lk in run('ip', '-j', 'link', netns='red')] == ['lo', 'br100']
    converge(capsys, [red()])
    held = subprocess.Popen(['ip', 'netns', 'exec', 'red', 'sleep', '60'])  # keeps the namespace alive
    try:
        gone = converge(capsys, [{'name': 'red', 'state': 'absent'}])
        assert "delete vxlan vx100 in namespace 'red'" in gone['namespaces'][0]['changes']
        # the VNI is free on the host again: a new namespace takes it
        converged_twice(capsys, [red(name='blue')])
    finally:
        held.kill()


def test_record_and_prune_remove_a_namespace_with_its_vxlan(tmp_path, capsys, underlay):
    record = str(tmp_path / 'managed.json')
    converged_twice(capsys, [red(), {'name': 'keep'}], record=record, prune=True)
    out = converged_twice(capsys, [{'name': 'keep'}], record=record, prune=True)
    assert out['record']['pruned'] == ['red']
    sockets = subprocess.run(['ss', '-Huan', 'sport', '= :4789'], capture_output=True, text=True, check=True)
    assert not sockets.stdout.strip(), 'the tunnel socket went with the namespace'


def test_a_missing_underlay_dev_fails_the_namespace_before_anything_is_done_in_it(capsys, underlay):
    out = converge(capsys, [red(dev='nosuch0')])
    assert out['failed']
    msg = out['namespaces'][0]['msg']
    assert "vxlan vx100 in namespace 'red'" in msg and "'nosuch0'" in msg and 'no link on the host' in msg, msg
    assert run('ip', '-j', 'link', netns='red') == [] or [
        lk['ifname'] for lk in run('ip', '-j', 'link', netns='red')
    ] == ['lo']


VX = {'name': 'vx0', 'kind': 'vxlan', 'vni': 5}


def fdb_of(*entries, **vxlan):
    """A declaration of namespace a with one vxlan (VX, with vxlan's settings) and these fdb entries."""
    return [{'name': 'a', 'links': [dict(VX, fdb=list(entries), **vxlan)]}]


@pytest.mark.parametrize(
    'bad, where, value',
    [
        ([{'name': 'a', 'links': [{'name': 'vx0', 'kind': 'vxlan'}]}], 'namespaces[1].links[0].vni', 'required'),
        ([{'name': 'a', 'links': [dict(VX, vni=0)]}], 'namespaces[1].links[0].vni', '16777215'),
        ([{'name': 'a', 'links': [dict(VX, vni=16777216)]}], 'namespaces[1].links[0].vni', '16777216'),
        ([{'name': 'a', 'links': [dict(VX, port=0)]}], 'namespaces[1].links[0].port', '0'),
        ([{'name': 'a', 'links': [dict(VX, port=65536)]}], 'namespaces[1].links[0].port', '65536'),
        ([{'name': 'a', 'links': [dict(VX, learning='no')]}], 'namespaces[1].links[0].learning', "'no'"),
        ([{'name': 'a', 'links': [dict(VX, local='10.0.0.1/24')]}], 'namespaces[1].links[0].local', "'10.0.0.1/24'"),
        ([{'name': 'a', 'links': [dict(VX, local='10.0.0.1; reboot')]}], 'namespaces[1].links[0].local', 'reboot'),
        ([{'name': 'a', 'links': [dict(VX, local='0.0.0.0')]}], 'namespaces[1].links[0].local', "'0.0.0.0'"),
        ([{'name': 'a', 'links': [dict(VX, local='ff02::1')]}], 'namespaces[1].links[0].local', "'ff02::1'"),
        (
            fdb_of({'mac': '00:00:00:00:00:00', 'dst': '0.0.0.0'}),
            'namespaces[1].links[0].fdb[0].dst',
            "'0.0.0.0'",
        ),
        (
            [{'name': 'a', 'links': [dict(VX, underlay_dev='eth0\nreboot')]}],
            'namespaces[1].links[0].underlay_dev',
            'reboot',
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:0g', 'dst': '10.0.0.2'}),
            'namespaces[1].links[0].fdb[0].mac',
            "'00:00:00:00:00:0g'",
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:00\n', 'dst': '10.0.0.2'}),
            'namespaces[1].links[0].fdb[0].mac',
            r"'00:00:00:00:00:00\n'",
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2 # x'}),
            'namespaces[1].links[0].fdb[0].dst',
            "'10.0.0.2 # x'",
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:00'}),
            'namespaces[1].links[0].fdb[0].dst',
            'required',
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:00', 'dst': 'fd00::2'}),
            'namespaces[1].links[0].fdb[0].dst',
            "'fd00::2'",
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2'}, local='fd00::1'),
            'namespaces[1].links[0].fdb[0].dst',
            "'10.0.0.2'",
        ),
        (
            fdb_of({'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2'}, {'mac': '00:00:00:00:00:00', 'dst': '10.0.0.2'}),
            'namespaces[1].links[0].fdb[1]',
            '00:00:00:00:00:00',
        ),
        (
            fdb_of({'mac': '02:00:00:00:00:01', 'dst': '10.0.0.2'}, {'mac': '02:00:00:00:00:01', 'dst': '10.0.0.3'}),
            'namespaces[1].links[0].fdb[1]',
            'one destination',
        ),
        (
            fdb_of({'mac': '02:00:00:00:00:01', 'dst': '10.0.0.2', 'vni': 3}),
            'namespaces[1].links[0].fdb[0]',
            'vni',
        ),
        (
            [{'name': 'a', 'links': [{'name': 'b0', 'kind': 'bridge', 'fdb': []}]}],
            'namespaces[1].links[0].fdb',
            'only applies to vxlan',
        ),
        (
            [{'name': 'a', 'links': [{'name': 'b0', 'kind': 'bridge', 'vni': 4}]}],
            'namespaces[1].links[0].vni',
            'only applies to vxlan',
        ),
        (
            [{'name': 'a', 'links': [VX]}, {'name': 'c', 'links': [VX]}],
            'namespaces[2].links[0].vni',
            'namespaces[1].links[0].vni',
        ),
    ],
)
def test_bad_vxlan_input_is_refused_before_anything_is_touched(capsys, bad, where, value):
    netns_config_refused(capsys, bad, where, value)


def test_a_vni_a_host_vxlan_holds_fails_naming_it_before_anything_is_done_in_the_namespace(capsys, underlay):
    """The kernel takes a VNI once per UDP port on the host: a vxlan of the
    host's own with VNI 100 on 4789 makes the creation fail with EEXIST."""
    sh('ip link add vxh type vxlan id 100 dstport 4789 local 10.77.0.1 dev u1')
    out = converge(capsys, [red()])
    assert out['failed']
    msg = out['namespaces'][0]['msg']
    assert "vxlan vx100 in namespace 'red'" in msg and 'VNI 100' in msg and 'vxh' in msg, msg
    assert 'Nothing was changed in this namespace' in msg, msg
    assert [lk['ifname'] for lk in run('ip', '-j', 'link', netns='red')] in ([], ['lo'])


def test_a_vni_another_namespace_holds_fails_saying_what_to_do(capsys, underlay):
    """A vxlan in another namespace whose socket is on the host (an earlier
    call's) holds the VNI too; the host cannot list it, so the kernel's EEXIST
    is explained."""
    converge(capsys, [red()])
    out = converge(capsys, [red(name='blue')])
    assert out['failed']
    msg = out['namespaces'][0]['msg']
    assert "vxlan vx100 in namespace 'blue'" in msg and 'VNI 100 on UDP port 4789' in msg, msg
    assert 'another vni or port' in msg and 'EEXIST' in msg, msg


def test_an_mtu_the_underlay_cannot_carry_fails_before_anything_is_done_in_the_namespace(capsys, underlay):
    """u1 carries 1500: the kernel takes at most 1450 for a vxlan on it (IPv4
    encapsulation: 50 bytes) and refused a larger one with EINVAL after the
    device was made."""
    out = converge(capsys, [red(mtu=1500)])
    assert out['failed']
    msg = out['namespaces'][0]['msg']
    assert "vxlan vx100 in namespace 'red'" in msg and 'mtu 1500' in msg and '1450' in msg and 'u1' in msg, msg
    assert 'Nothing was changed in this namespace' in msg, msg
    assert [lk['ifname'] for lk in run('ip', '-j', 'link', netns='red')] in ([], ['lo'])
    converged_twice(capsys, [red(mtu=1450)])
    assert vxlan_info('vx100', 'red')['mtu'] == 1450
    # an underlay lowered later does not fail the runs that set nothing
    sh('ip link set u1 mtu 1400')
    assert not converge(capsys, [red(mtu=1450)])['changed']


def test_a_segment_without_an_underlay_device_gets_an_mtu_a_1500_underlay_carries(capsys, underlay):
    """What the role hands netns_config when no interface holds the member's
    underlay address: `ip link` shows 1450 on the vxlan and its bridge."""
    from ansible_collections.nsfd.namespaces.plugins.plugin_utils.segments.fleet import expand_for_host

    hostvars = {'h1': {'ansible_host': '10.77.0.1'}, 'h2': {'ansible_host': '10.77.0.2'}}
    items = expand_for_host(
        [{'name': 'red', 'id': 100, 'subnet': '10.200.0.0/24', 'members': ['h1', 'h2']}], 'h1', hostvars
    )
    converged_twice(capsys, items)
    assert vxlan_info('vx100', 'red')['mtu'] == 1450
    assert run('ip', '-j', 'link', 'show', 'dev', 'br100', netns='red')[0]['mtu'] == 1450


def test_an_entry_sent_to_another_port_or_vni_by_hand_is_put_back(capsys, underlay):
    """`bridge fdb` entries carry their own port and VNI when they differ
    from the device's: such an entry does not reach the declared tunnel end,
    so it is not the declared one."""
    decl = [red(fdb_=[('00:00:00:00:00:00', '10.77.0.2'), ('02:00:00:00:00:01', '10.77.0.3')])]
    converge(capsys, decl)
    sh(
        'bridge -n red fdb del 00:00:00:00:00:00 dev vx100 dst 10.77.0.2;'
        'bridge -n red fdb append 00:00:00:00:00:00 dev vx100 dst 10.77.0.2 port 5000 self permanent;'
        'bridge -n red fdb replace 02:00:00:00:00:01 dev vx100 dst 10.77.0.3 vni 7 self permanent'
    )
    out = converged_twice(capsys, decl)
    assert sorted(out['namespaces'][0]['changes']) == [
        "add fdb entry 00:00:00:00:00:00 dst 10.77.0.2 to vx100 in namespace 'red'",
        "change fdb entry 02:00:00:00:00:01 on vx100 in namespace 'red': dst 10.77.0.3, not 10.77.0.3 vni 7",
        "delete fdb entry 00:00:00:00:00:00 dst 10.77.0.2 port 5000 from vx100 in namespace 'red' (not declared)",
    ]
    entries = [e for e in run('bridge', '-j', 'fdb', 'show', 'dev', 'vx100', netns='red') if 'dst' in e]
    static = sorted((e['mac'], e['dst'], e.get('port'), e.get('vni')) for e in entries if e.get('state') == 'permanent')
    assert static == [('00:00:00:00:00:00', '10.77.0.2', None, None), ('02:00:00:00:00:01', '10.77.0.3', None, None)], (
        entries
    )
