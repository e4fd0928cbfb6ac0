"""The netns_config host lock: one real run at a time, check mode never
creates the lock file, and a run that waits too long says who holds it."""

import os

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import hostlock


def test_a_second_run_waits_then_fails_naming_the_lock_and_its_holder(tmp_path):
    path = str(tmp_path / 'netns.lock')
    with hostlock.acquire(path):
        for check_mode in (False, True):
            with pytest.raises(NamespaceError) as exc:
                hostlock.acquire(path, check_mode=check_mode, timeout=0.3)
            assert path in str(exc.value) and f'pid {os.getpid()}' in str(exc.value)
            assert 'EWOULDBLOCK' in str(exc.value) or 'EAGAIN' in str(exc.value)
    # released: the next run gets it at once, and so do two check runs together
    hostlock.acquire(path, timeout=0).release()
    with hostlock.acquire(path, check_mode=True, timeout=0), hostlock.acquire(path, check_mode=True, timeout=0):
        pass


def test_check_mode_does_not_create_the_lock_file(tmp_path):
    path = str(tmp_path / 'netns.lock')
    with hostlock.acquire(path, check_mode=True, timeout=0):
        assert not os.path.exists(path)


def test_a_symlink_in_place_of_the_lock_is_refused(tmp_path):
    target = tmp_path / 'elsewhere'
    target.write_text('keep\n')
    path = tmp_path / 'netns.lock'
    path.symlink_to(target)
    with pytest.raises(NamespaceError) as exc:
        hostlock.acquire(str(path), timeout=0)
    assert str(path) in str(exc.value) and 'ELOOP' in str(exc.value)
    assert target.read_text() == 'keep\n'
