"""Every test runs in a forked child inside its own kernel sandbox.

The child enters new mount, net, uts and ipc namespaces (tests/sandbox),
runs the test's whole protocol (fixtures included), sends its reports to
the parent, kills whatever the test left running, and exits: its namespaces,
pins, links and copy-on-write /etc and /var die with it.
"""

import json
import os
import select
import signal
import sys
import time

import pytest
from _pytest.runner import runtestprotocol

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
COLLECTIONS = os.path.join(REPO, '.cache', 'collections')

# Make this checkout importable as ansible_collections.nsfd.namespaces.
_link = os.path.join(COLLECTIONS, 'ansible_collections', 'nsfd', 'namespaces')
if not os.path.lexists(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    os.symlink('../../../..', _link)
sys.path.insert(0, COLLECTIONS)
sys.path.insert(0, TESTS)

import sandbox  # noqa: E402  (needs the path above)

DEFAULT_TIMEOUT = float(os.environ.get('NSFD_TEST_TIMEOUT', '300'))


def pytest_configure(config):
    config.addinivalue_line('markers', 'timeout_s(seconds): wall-clock limit of one test in its sandbox')


def _timeout(item):
    marker = item.get_closest_marker('timeout_s')
    return float(marker.args[0]) if marker else DEFAULT_TIMEOUT


def _run_child(item, write_fd):  # pragma: no cover - runs in the forked child
    code = 0
    try:
        os.setpgid(0, 0)
        sandbox.enter()
        reports = runtestprotocol(item, log=False)
        data = [item.config.hook.pytest_report_to_serializable(config=item.config, report=r) for r in reports]
        sandbox.reap_all()
        payload = json.dumps(data).encode()
        while payload:
            written = os.write(write_fd, payload)
            payload = payload[written:]
    except BaseException as exc:  # noqa: B902 - anything must reach the parent
        code = 1
        try:
            os.write(write_fd, json.dumps({'crash': f'{type(exc).__name__}: {exc}'}).encode())
        except OSError:
            pass
    finally:
        os._exit(code)


def _read_all(read_fd, pid, deadline):
    chunks = []
    while True:
        left = deadline - time.time()
        if left <= 0:
            return None
        ready = select.select([read_fd], [], [], left)[0]
        if not ready:
            return None
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


def _kill_tree(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _failure(item, when, text):
    from _pytest.reports import TestReport

    return TestReport(item.nodeid, item.location, {}, 'failed', text, when, [], 0.0)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        os.close(read_fd)
        _run_child(item, write_fd)
    os.close(write_fd)
    limit = _timeout(item)
    raw = _read_all(read_fd, pid, time.time() + limit)
    os.close(read_fd)
    if raw is None:
        _kill_tree(pid)
    status = os.waitpid(pid, 0)[1]
    reports = []
    if raw is None:
        reports = [
            _failure(item, 'call', f'test timed out after {limit:g}s in its sandbox; its process tree was killed')
        ]
    else:
        try:
            decoded = json.loads(raw.decode() or 'null')
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            reports = [item.config.hook.pytest_report_from_serializable(config=item.config, data=d) for d in decoded]
            for report in reports:
                # JSON turned a skip's (path, line, reason) tuple into a list
                if report.skipped and isinstance(report.longrepr, list):
                    report.longrepr = tuple(report.longrepr)
        else:
            why = decoded.get('crash') if isinstance(decoded, dict) else None
            if why is None:
                why = (
                    f'killed by signal {os.WTERMSIG(status)}'
                    if os.WIFSIGNALED(status)
                    else f'exited with status {os.WEXITSTATUS(status)}'
                )
            reports = [_failure(item, 'call', f'the test process died without a report: {why}')]
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
