"""Run every contender side by side, each run in its own throwaway sandbox,
and write the results (JSON) for report.py.

  benchmarks/compare.py [--counts 50,200,1000] [--runs 3] [--naive-max 200] [--naive-runs 1]
                        [--fleet 1,4,8] [--fleet-n 100] [--reuse-naive RESULTS_JSON]
                        [--out docs/performance-results.json]

--counts without 1000 skips it on small machines; --naive-max caps the
naive playbook (it needs minutes per run beyond a few hundred namespaces).
Use scripts/bench, which prepares the virtualenv and runs this then report.py.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import procstat

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SANDBOX = os.path.join(REPO, 'scripts', 'sandbox')


def _busy_fraction(interval=0.5):
    before = procstat.cpu_seconds()
    time.sleep(interval)
    after = procstat.cpu_seconds()
    spent = dict((name, after[name] - before[name]) for name in procstat.FIELDS)
    return 1.0 - (spent['idle'] + spent['iowait']) / max(sum(spent.values()), 1e-9)


def settle(limit=30.0):
    """Wait until the machine is idle: the kernel frees the previous run's
    namespaces asynchronously, and that work must not be billed to the next
    contender."""
    deadline = time.time() + limit
    while time.time() < deadline and _busy_fraction() > 0.05:
        pass


def one_run(args):
    settle()
    argv = [SANDBOX, sys.executable, os.path.join(HERE, 'contender.py')] + [str(a) for a in args]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f'{" ".join(argv[2:])} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_of(runs):
    record = dict(runs[0])
    for key in (
        'first_s',
        'rerun_s',
        'first_cpu_s',
        'rerun_cpu_s',
        'peak_rss_mb',
        'steal_s',
        'ping_s',
        'ping_cpu_s',
        'fleet_batch_s',
        'fleet_batch_cpu_s',
    ):
        values = [r[key] for r in runs if r.get(key) is not None]
        if key not in record:
            continue
        record[key] = round(statistics.median(values), 3) if values else None
    record['runs'] = len(runs)
    record['first_all'] = [r['first_s'] for r in runs]
    record['rerun_all'] = [r['rerun_s'] for r in runs]
    return record


def measure(args, runs):
    results = []
    for _run in range(runs):
        results.append(one_run(args))
        sys.stderr.write(f'  {json.dumps(results[-1])}\n')
    return median_of(results)


def _version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return 'unknown'


def machine():
    import ansible
    import pyroute2

    with open('/proc/meminfo') as handle:
        mem_kb = int(handle.readline().split()[1])
    return {
        'cpus': os.cpu_count(),
        'memory_gib': round(mem_kb / 1048576.0, 1),
        'kernel': platform.release(),
        'python': platform.python_version(),
        'ansible_core': ansible.__version__,
        'pyroute2': getattr(pyroute2, '__version__', 'unknown'),
        'iproute2': _version(['ip', '-V']),
        'date': time.strftime('%Y-%m-%d'),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--counts', default='50,200,1000')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--naive-max', type=int, default=200)
    parser.add_argument(
        '--naive-runs', type=int, default=1, help='runs of the naive playbook (7 minutes each at N=200 on 2 cores)'
    )
    parser.add_argument('--fleet', default='1,4,8')
    parser.add_argument('--fleet-n', type=int, default=100)
    parser.add_argument(
        '--reuse-naive',
        metavar='RESULTS_JSON',
        help='take the naive playbook\'s figures from an earlier results file of this machine '
        'instead of measuring them again (about 30 minutes; they do not depend on this '
        'collection\'s code)',
    )
    parser.add_argument('--out', default=os.path.join(REPO, 'docs', 'performance-results.json'))
    opts = parser.parse_args()
    reused = {}
    if opts.reuse_naive:
        with open(opts.reuse_naive) as handle:
            reused = dict(
                (r['n'], dict(r, reused=True)) for r in json.load(handle)['single_host'] if r['contender'] == 'naive'
            )
    results = {'machine': machine(), 'runs': opts.runs, 'single_host': [], 'fleet': []}
    for count in [int(c) for c in opts.counts.split(',') if c]:
        for contender in ('module', 'role', 'naive', 'batch'):
            if contender == 'naive' and count in reused:
                results['single_host'].append(reused[count])
                continue
            if contender == 'naive' and count > opts.naive_max:
                continue
            sys.stderr.write(f'{contender} N={count}\n')
            runs = opts.naive_runs if contender == 'naive' else opts.runs
            results['single_host'].append(measure([contender, count], runs))
    for hosts in [int(m) for m in opts.fleet.split(',') if m]:
        sys.stderr.write(f'fleet M={hosts} N={opts.fleet_n}\n')
        results['fleet'].append(measure(['fleet', hosts, opts.fleet_n], opts.runs))
    with open(opts.out, 'w') as out:
        json.dump(results, out, indent=1)
        out.write('\n')
    sys.stderr.write(f'wrote {opts.out}\n')


if __name__ == '__main__':
    main()
