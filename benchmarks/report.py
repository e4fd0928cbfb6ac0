"""Turn compare.py's results into docs/performance-table.md and
docs/performance.png (matplotlib, no display needed).

  benchmarks/report.py [docs/performance-results.json]
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(HERE), 'docs')
LABELS = {
    'module': 'netns_config module alone',
    'role': 'netns role (ansible-playbook)',
    'naive': 'naive playbook (ip_netns + ip loops)',
    'batch': 'ip -batch (floor)',
}


def _s(value):
    return '—' if value is None else f'{value:.2f} s'


def _spread(values):
    values = [v for v in values or [] if v is not None]
    return '' if len(values) < 2 else f' ({min(values):.2f}–{max(values):.2f})'


def single_table(results):
    rows = [
        '| N | contender | first converge, wall | first, CPU | no-op rerun, wall | rerun, CPU | peak RSS | '
        'CPU steal | runs |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in results['single_host']:
        label = LABELS[r['contender']] + (' ¹' if r.get('reused') else '')
        first = _s(r['first_s']) + _spread(r.get('first_all'))
        first_cpu = _s(r.get('first_cpu_s'))
        rerun = _s(r['rerun_s']) + _spread(r.get('rerun_all'))
        rerun_cpu = _s(r.get('rerun_cpu_s'))
        rss = r['peak_rss_mb']
        steal = _s(r.get('steal_s'))
        # n and runs are counts: int() keeps what %d made of them
        rows.append(
            f'| {int(r["n"])} | {label} | {first} | {first_cpu} | {rerun} | {rerun_cpu} | {rss:.0f} MB | {steal} '
            f'| {int(r["runs"])} |'
        )
    return '\n'.join(rows)


def _ratio(a, b, key, digits):
    return f'{a[key] / b[key]:.{digits}f}×' if a and b and a.get(key) and b.get(key) else '—'


def ratio_table(results):
    by = dict(((r['contender'], r['n']), r) for r in results['single_host'])
    rows = [
        '| N | naive / role, first | naive / role, rerun | module / ip -batch, first (wall) | '
        'module / ip -batch, first (CPU) |',
        '|---|---|---|---|---|',
    ]
    for n in sorted(set(r['n'] for r in results['single_host'])):
        role, naive, module, batch = (by.get((c, n)) for c in ('role', 'naive', 'module', 'batch'))
        rows.append(
            f'| {n} | {_ratio(naive, role, "first_s", 0)} | {_ratio(naive, role, "rerun_s", 0)} '
            f'| {_ratio(module, batch, "first_s", 2)} | {_ratio(module, batch, "first_cpu_s", 2)} |'
        )
    return '\n'.join(rows)


def _over(value, floor):
    return f'{value / floor:.2f}×' if value and floor else '—'


def fleet_table(results):
    """The fleet against Ansible's own floor on the same hosts in the same run: one ping per host (what any
    playbook costs) plus, for a first converge, `ip -batch` building the workload on every host at once."""
    cores = results['machine']['cpus']
    rows = [
        '| hosts (forks) | N per host | first converge | no-op rerun | ping floor | ping + ip -batch floor | '
        f'first / floor | rerun / ping floor | first, CPU | CPU / {cores} cores | vs 1 host (first) |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    base = results['fleet'][0]['first_s'] if results['fleet'] else None
    for r in results['fleet']:
        ping = r.get('ping_s')
        floor = ping + r['fleet_batch_s'] if ping and r.get('fleet_batch_s') else None
        first = _s(r['first_s']) + _spread(r.get('first_all'))
        cpu = _s(r['first_cpu_s'] / cores) if r.get('first_cpu_s') else '—'
        # hosts and n are counts: int() keeps what %d made of them
        rows.append(
            f'| {int(r["hosts"])} | {int(r["n"])} | {first} | {_s(r["rerun_s"])} | {_s(ping)} | {_s(floor)} '
            f'| {_over(r["first_s"], floor)} | {_over(r["rerun_s"], ping)} | {_s(r.get("first_cpu_s"))} | {cpu} '
            f'| {r["first_s"] / base:.2f}× |'
        )
    return '\n'.join(rows)


def plot(results, path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    for contender, style in (('naive', 'o-'), ('role', 's-'), ('module', '^-'), ('batch', 'd--')):
        points = sorted(
            (r['n'], r['first_s'], r['rerun_s']) for r in results['single_host'] if r['contender'] == contender
        )
        if not points:
            continue
        left.plot([p[0] for p in points], [p[1] for p in points], style, label=LABELS[contender] + ', first')
        if points[0][2] is not None:
            left.plot(
                [p[0] for p in points], [p[2] for p in points], style, alpha=0.45, label=LABELS[contender] + ', rerun'
            )
    left.set_xscale('log')
    left.set_yscale('log')
    left.set_xlabel('network namespaces on one host (N)')
    left.set_ylabel('wall time, s (median)')
    left.set_title('One host: converge N namespaces (veth, addresses, route)')
    left.grid(True, which='both', alpha=0.3)
    left.legend(fontsize=7)
    fleet = results['fleet']
    if fleet:
        hosts = [r['hosts'] for r in fleet]
        right.plot(hosts, [r['first_s'] for r in fleet], 's-', label='first converge')
        right.plot(hosts, [r['rerun_s'] for r in fleet], 'o-', label='no-op rerun')
        right.plot(hosts, [2.5 * fleet[0]['first_s']] * len(hosts), ':', color='grey', label='2.5 × one host (target)')
        if all(r.get('first_cpu_s') for r in fleet):
            cores = results['machine']['cpus']
            right.plot(
                hosts,
                [r['first_cpu_s'] / cores for r in fleet],
                '--',
                color='black',
                alpha=0.6,
                label=f'first converge, CPU time / {cores} cores (floor)',
            )
        right.set_xlabel(f'simulated hosts M (forks = M), N={fleet[0]["n"]} each')
        right.set_ylabel('wall time, s (median)')
        right.set_title('Fleet: netns role on M hosts')
        right.set_xticks(hosts)
        right.grid(True, alpha=0.3)
        right.legend(fontsize=8)
    m = results['machine']
    fig.suptitle(
        f'nsfd.namespaces, {m["cpus"]} CPUs, Linux {m["kernel"]}, ansible-core {m["ansible_core"]}, '
        f'pyroute2 {m["pyroute2"]}',
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv):
    source = argv[1] if len(argv) > 1 else os.path.join(DOCS, 'performance-results.json')
    with open(source) as handle:
        results = json.load(handle)
    m = results['machine']
    text = [
        f'<!-- generated by benchmarks/report.py from {os.path.basename(source)} -->',
        f'Machine: {m["cpus"]} CPUs, {m["memory_gib"]} GiB, Linux {m["kernel"]}, Python {m["python"]}, ansible-core '
        f'{m["ansible_core"]}, pyroute2 {m["pyroute2"]}, {m["iproute2"]}; measured {m["date"]}.',
        '',
        f'Wall time is the median of {results["runs"]} runs (the naive playbook: see the runs column), '
        'each in a fresh sandbox; in parentheses the fastest and slowest run. '
        'CPU steal is the CPU time the hypervisor gave to other guests during a run (median, from /proc/stat): '
        'this machine is a shared virtual machine, and steal '
        'explains most of the spread between runs. CPU is the user + system time of the processes the run '
        'started (ansible-playbook with its workers and modules, the module, or ip): it does not grow with '
        'steal.',
        '',
    ]
    if any(r.get('reused') for r in results['single_host']):
        text += [
            '¹ From an earlier run on the same machine and day (compare.py --reuse-naive): the naive playbook '
            'does not use this collection, and measuring it takes half an hour.',
            '',
        ]
    text += [single_table(results), '', ratio_table(results), '', fleet_table(results), '']
    with open(os.path.join(DOCS, 'performance-table.md'), 'w') as out:
        out.write('\n'.join(text))
    plot(results, os.path.join(DOCS, 'performance.png'))
    sys.stderr.write('wrote docs/performance-table.md and docs/performance.png\n')


if __name__ == '__main__':
    main(sys.argv)
