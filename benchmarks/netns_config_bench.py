"""Time netns_config's converge for N namespaces, each with a veth to the host,
an address on both ends, lo up and a default route: first run and no-op rerun.

Run it in a throwaway sandbox (it touches /run/netns and links):
  scripts/sandbox .cache/venv/bin/python benchmarks/netns_config_bench.py 50 200 1000
Prints one JSON line per N. Module time = converge() in this process,
without Ansible's start-up; peak RSS of this process.
"""

import json
import os
import resource
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, '.cache', 'collections'))

from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig import converge  # noqa: E402


def workload(count):
    namespaces = []
    for i in range(count):
        third, fourth = divmod(i, 64)
        base = f'10.{100 + third // 256}.{third % 256}.{fourth * 4}'
        prefix = base.rsplit('.', maxsplit=1)[0]
        host_ip, ns_ip = f'{prefix}.{fourth * 4 + 1}', f'{prefix}.{fourth * 4 + 2}'
        namespaces.append(
            {
                'name': f'bench{i:04d}',
                'links': [
                    {
                        'name': 'eth0',
                        'kind': 'veth',
                        'addresses': [ns_ip + '/30'],
                        'peer': {'name': f'bh{i:04d}', 'addresses': [host_ip + '/30']},
                    }
                ],
                'routes': [{'dst': 'default', 'via': host_ip}],
            }
        )
    return namespaces


def timed(decl):
    start = time.perf_counter()
    outcomes = converge.converge(decl)
    elapsed = time.perf_counter() - start
    failed = [o.name for o in outcomes if o.failed]
    assert not failed, failed[:3]
    return elapsed, sum(1 for o in outcomes if o.changes)


def main(counts):
    for count in counts:
        decl = workload(count)
        first, changed = timed(decl)
        rerun, changed_again = timed(decl)
        assert changed == count and changed_again == 0, (changed, changed_again)
        print(
            json.dumps(
                {
                    'n': count,
                    'first_s': round(first, 3),
                    'rerun_s': round(rerun, 3),
                    'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
                }
            )
        )
        sys.stdout.flush()
        converge.converge([{'name': n['name'], 'state': 'absent'} for n in decl])


if __name__ == '__main__':
    main([int(a) for a in sys.argv[1:]] or [50, 200])
