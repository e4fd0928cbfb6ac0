"""The lab of namespace hosts against the real kernel: locking across data
directories, link names, teardown after a kill, MAC addresses, input (issue 22)."""

import os
import shutil
import signal
import threading
import time

import pytest

from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, lab as labs, spec as hostspec


def lab(address='10.77.0.1/24', **kwargs):
    return dict({'name': 'nsfd-lab', 'address': address}, **kwargs)


def converge(name, data_dir, **kwargs):
    return engine.converge(hostspec.build(name=name, data_dir=data_dir, **kwargs))


def at_once(*calls):
    """Run the calls in threads started together; their results or exceptions."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: B902 - collected for the assertion
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def lab_links():
    return sh('ip', '-n', 'nsfd-lab', '-o', 'link', 'show').stdout if 'nsfd-lab' in ip_netns_list() else ''


def test_hosts_of_two_data_dirs_started_at_once_never_share_a_lab_address(tmp_path):
    for round_ in range(5):
        one, two = str(tmp_path / (f'a{round_}')), str(tmp_path / (f'b{round_}'))
        results = at_once(
            lambda: converge(f'a{round_}', one, lab=lab('10.77.0.1/24')),
            lambda: converge(f'b{round_}', two, lab=lab('10.77.0.1/24')),
        )
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1, f'round {round_}: {results!r}'
        assert 'lab.address 10.77.0.1/24 is already the address of host' in str(failed[0]), failed[0]
        for name, data_dir in ((f'a{round_}', one), (f'b{round_}', two)):
            converge(name, data_dir, state='absent')
        assert ip_netns_list() == []


def test_absent_in_one_data_dir_while_another_starts_keeps_the_new_hosts_link(tmp_path, monkeypatch):
    # a slow netlink (a loaded machine): the new host is between making sure
    # the lab is there and cabling to it while the other data_dir's last host goes
    cable = labs.cable

    def slow_cable(*args):
        time.sleep(0.3)
        return cable(*args)

    monkeypatch.setattr(labs, 'cable', slow_cable)
    one, two = str(tmp_path / 'a'), str(tmp_path / 'b')
    for round_ in range(3):
        converge('a1', one, lab=lab('10.77.0.1/24'))
        results = at_once(
            lambda: converge('a1', one, state='absent'), lambda: converge('b1', two, lab=lab('10.77.0.2/24'))
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.2')
        assert not converge('b1', two, lab=lab('10.77.0.2/24')).changed, f'round {round_}'
        converge('b1', two, state='absent')
        assert ip_netns_list() == []


def killed_after(target, attribute, call):
    """Run call() in a child that SIGKILLs itself right after target.attribute returns."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            real = getattr(target, attribute)

            def then_die(*args, **kwargs):
                real(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)

            setattr(target, attribute, then_die)
            call()
        finally:
            os._exit(3)
    status = os.waitpid(pid, 0)[1]
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


@pytest.mark.parametrize('target, attribute', [(labs, 'uncable'), (engine, '_unpin'), (shutil, 'rmtree')])
def test_absent_killed_half_way_is_finished_by_the_next_absent(tmp_path, target, attribute):
    data_dir = str(tmp_path / 'hosts')
    converge('h1', data_dir, lab=lab('10.77.0.1/24'))
    killed_after(target, attribute, lambda: converge('h1', data_dir, state='absent'))
    left = sorted(ip_netns_list()), os.listdir(data_dir)
    again = converge('h1', data_dir, state='absent')
    assert ip_netns_list() == [] and os.listdir(data_dir) == [], (left, again.actions)
    assert again.changed == (left != ([], [])), (left, again.actions)
    assert not converge('h1', data_dir, state='absent').changed


def test_a_bridge_named_like_a_lab_end_is_not_taken_for_one(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    converge('h1', data_dir, lab=lab('10.77.0.1/24', bridge='lab-h1'))
    converge('h2', data_dir, lab=lab('10.77.0.2/24', bridge='lab-h1'))
    assert 'lab-h1' in lab_links()
    sh('ip', 'netns', 'exec', 'h1', 'ping', '-c1', '-W2', '10.77.0.2')
    assert not converge('h1', data_dir, lab=lab('10.77.0.1/24', bridge='lab-h1')).changed
    # a link of someone else's with the very name of a host's lab end is left alone: the host fails
    sh('ip', '-n', 'nsfd-lab', 'link', 'add', hostspec.lab_end_name('h3'), 'type', 'bridge')
    with pytest.raises(NamespaceError, match='is not the lab end of host h3') as exc:
        converge('h3', data_dir, lab=lab('10.77.0.3/24', bridge='lab-h1'))
    assert hostspec.lab_end_name('h3') in str(exc.value) and 'a bridge' in str(exc.value)
    assert hostspec.lab_end_name('h3') in lab_links() and 'h3' not in ip_netns_list()


def test_host_names_that_shared_a_lab_end_get_their_own(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    names = ('abcdefghijklm', 'abcde-4b989')
    for i, name in enumerate(names):
        converge(name, data_dir, lab=lab(f'10.77.0.{i + 1}/24'))
    for i, name in enumerate(names):
        assert not converge(name, data_dir, lab=lab(f'10.77.0.{i + 1}/24')).changed, name
        sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', f'10.77.0.{i + 1}')
    assert hostspec.lab_end_name(names[0]) != hostspec.lab_end_name(names[1])
    for name in ('a' * 64, 'web1', 'x'):
        assert len(hostspec.lab_end_name(name)) <= 15


def test_a_host_of_another_data_dir_is_no_lab(tmp_path):
    converge('nsfd-lab', str(tmp_path / 'a'))
    with pytest.raises(NamespaceError, match="lab.name 'nsfd-lab' is the network namespace of a host"):
        converge('h1', str(tmp_path / 'b'), lab=lab('10.77.0.1/24'))
    assert sorted(ip_netns_list()) == ['nsfd-lab']
    assert sh('ip', '-n', 'nsfd-lab', '-o', 'link', 'show').stdout.count('\n') == 1  # its lo only


def test_a_host_cabled_under_the_old_end_name_is_cabled_again(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    converge('h1', data_dir, lab=lab('10.77.0.1/24'))
    # as the releases before the hashed names left it: lab-NAME, no alias
    end = hostspec.lab_end_name('h1')
    sh('ip', '-n', 'nsfd-lab', 'link', 'set', end, 'down')
    sh('ip', '-n', 'nsfd-lab', 'link', 'set', end, 'name', 'lab-h1', 'alias', '')
    again = converge('h1', data_dir, lab=lab('10.77.0.1/24'))
    assert again.changed and 'lab-h1' not in lab_links() and end in lab_links(), again.actions
    sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.1')
    assert not converge('h1', data_dir, lab=lab('10.77.0.1/24')).changed


def mac_of(netns, ifname):
    return sh('ip', '-n', netns, '-j', 'link', 'show', ifname).stdout.split('"address":"')[1].split('"')[0]


def test_the_lab_interface_keeps_a_stable_local_mac_across_reboot(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    converge('h1', data_dir, lab=lab('10.77.0.1/24'))
    converge('h2', data_dir, lab=lab('10.77.0.2/24'))
    sh('ip', 'netns', 'exec', 'h2', 'ping', '-c1', '-W2', '10.77.0.1')
    mac = mac_of('h1', 'eth0')
    first = int(mac.split(':')[0], 16)
    assert first & 0x02 and not first & 0x01, f'a locally administered unicast address: {mac}'
    assert mac != mac_of('h2', 'eth0')
    converge('h1', data_dir, state='rebooted', lab=lab('10.77.0.1/24'))
    assert mac_of('h1', 'eth0') == mac
    # h2's neighbour entry for 10.77.0.1 is still right: no wait for it to go stale
    sh('ip', 'netns', 'exec', 'h2', 'ping', '-c1', '-W1', '10.77.0.1')
    gateway = mac_of('nsfd-lab', 'labbr0')
    converge('h3', data_dir, lab=lab('10.77.0.3/24'))
    converge('h2', data_dir, state='absent')
    assert mac_of('nsfd-lab', 'labbr0') == gateway


@pytest.mark.parametrize('field', ['interface', 'bridge'])
@pytest.mark.parametrize(
    'value', ['all', 'default', 'lo', '.', '..', 'a/b', 'a b', 'a\tb', 'a:b', 'e' * 16, 'eth\u00a00']
)
def test_reserved_interface_names_are_refused(tmp_path, field, value):
    data_dir = str(tmp_path / 'hosts')
    with pytest.raises(NamespaceError) as exc:
        converge('h1', data_dir, lab=lab('10.77.0.1/24', **{field: value}))
    assert f'lab.{field} {value!r}' in str(exc.value), str(exc.value)
    assert ip_netns_list() == [] and not os.path.exists(data_dir)


@pytest.mark.parametrize(
    'options, expected',
    [
        ({'address': '224.0.0.1/24'}, "lab.address '224.0.0.1/24' is a multicast address"),
        ({'address': '127.0.0.2/8'}, "lab.address '127.0.0.2/8' is a loopback address"),
        ({'address': '::1/64'}, "lab.address '::1/64' is a loopback address"),
        ({'address': 'ff02::5/64'}, "lab.address 'ff02::5/64' is a multicast address"),
        ({'address': 'fe80::1%eth0/64'}, "lab.address 'fe80::1%eth0/64' has a scope"),
        ({'address': 'fd00::1/64', 'gateway': 'fd00::fe%eth0'}, "lab.gateway 'fd00::fe%eth0' has a scope"),
        ({'address': '10.77.0.1/24', 'gateway': '10.77.0.100/8'}, "lab.gateway '10.77.0.100/8' has prefix length 8"),
        ({'address': '10.77.0.1/24', 'gateway': '10.77.0.100/x'}, "lab.gateway '10.77.0.100/x' must be"),
    ],
)
def test_lab_addresses_no_lab_can_use_are_refused(tmp_path, options, expected):
    data_dir = str(tmp_path / 'hosts')
    with pytest.raises(NamespaceError) as exc:
        converge('h1', data_dir, lab=lab(**options))
    assert expected in str(exc.value), str(exc.value)
    assert ip_netns_list() == [] and not os.path.exists(data_dir)


def test_a_gateway_with_the_subnets_prefix_is_taken_as_given(tmp_path):
    data_dir = str(tmp_path / 'hosts')
    host = converge('h1', data_dir, lab=lab('10.77.0.1/24', gateway='10.77.0.100/24')).host
    assert host['lab']['gateway'] == '10.77.0.100/24'
    assert '10.77.0.100/24' in sh('ip', '-n', 'nsfd-lab', '-o', 'addr', 'show', 'labbr0').stdout
