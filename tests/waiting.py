"""Waiting for what another process does (a child reaching exec, a pin appearing): poll, fail after a timeout."""

import time


def wait_for(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, 'condition not met in time'
        time.sleep(0.02)
