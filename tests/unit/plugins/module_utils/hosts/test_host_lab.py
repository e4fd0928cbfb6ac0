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


def lab(address, **kwargs):
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
        one, two = str(tmp_path / ('a%d' % round_)), str(tmp_path / ('b%d' % round_))
        results = at_once(lambda: converge('a%d' % round_, one, lab=lab('10.77.0.1/24')),
                          lambda: converge('b%d' % round_, two, lab=lab('10.77.0.1/24')))
        failed = [r for r in results if isinstance(r, Exception)]
        assert len(failed) == 1, 'round %d: %r' % (round_, results)
        assert 'lab.address 10.77.0.1/24 is already the address of host' in str(failed[0]), failed[0]
        for name, data_dir in (('a%d' % round_, one), ('b%d' % round_, two)):
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
        results = at_once(lambda: converge('a1', one, state='absent'),
                          lambda: converge('b1', two, lab=lab('10.77.0.2/24')))
        assert not [r for r in results if isinstance(r, Exception)], results
        sh('ip', 'netns', 'exec', 'nsfd-lab', 'ping', '-c1', '-W2', '10.77.0.2')
        assert not converge('b1', two, lab=lab('10.77.0.2/24')).changed, 'round %d' % round_
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
    _, status = os.waitpid(pid, 0)
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
