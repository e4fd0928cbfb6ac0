"""Parallel creates serialise on the pin directory's flock."""

import multiprocessing
import os

from nsoracle import ip_netns_list, nsfs_mounts

from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine, spec


def _create(args):
    name, types = args
    try:
        return engine.ensure_present(spec.build(name, types)).changed
    except Exception as exc:  # report, do not hide
        return f'error: {exc}'


def _run_parallel(jobs):
    # fork, not spawn: the workers inherit the sandbox and sys.path
    with multiprocessing.get_context('fork').Pool(len(jobs)) as pool:
        return pool.map(_create, jobs)


def test_twenty_parallel_creates_of_one_name_make_one_mount():
    results = _run_parallel([('same', ['net'])] * 20)
    assert [r for r in results if r not in (True, False)] == []
    assert results.count(True) == 1, results
    assert [m['target'] for m in nsfs_mounts()] == ['/run/netns/same']
    assert ip_netns_list() == ['same']


def test_twenty_parallel_creates_of_one_set_make_one_mount_per_type():
    results = _run_parallel([('vs', ['net', 'uts', 'pid'])] * 20)
    assert results.count(True) == 1 and results.count(False) == 19, [r for r in results if r is not False]
    assert sorted(m['target'] for m in nsfs_mounts()) == ['/run/netns/vs', '/run/pidns/vs', '/run/utsns/vs']


def test_parallel_creates_of_different_names_all_succeed():
    names = [f'n{i:02d}' for i in range(20)]
    results = _run_parallel([(n, ['net']) for n in names])
    assert results == [True] * 20
    assert ip_netns_list() == names
    assert len(nsfs_mounts()) == 20
    assert len(set(os.stat(f'/run/netns/{n}').st_ino for n in names)) == 20


def test_a_set_half_way_through_its_binds_is_never_someone_elses_file():
    # What a second run sees before it takes the locks while another pins
    # and unpins: never "not a pin" (a mount listed after the open) nor a
    # FileNotFoundError (a file gone between lstat and open).
    import time
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import NOT_A_PIN, inspect

    the_set = spec.build('vs', ['net', 'uts', 'pid'])
    churn = os.fork()
    if churn == 0:  # pragma: no cover - the other run
        deadline = time.time() + 3
        while time.time() < deadline:
            engine.ensure_present(the_set)
            engine.ensure_absent(the_set)
        os._exit(0)
    seen, deadline = [], time.time() + 3
    try:
        while time.time() < deadline:
            for loc in the_set.locations.values():
                state = inspect(loc)
                if state.state == NOT_A_PIN:
                    seen.append((loc.path, state.detail))
    finally:
        os.waitpid(churn, 0)
    assert seen == []
