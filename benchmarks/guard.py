"""The regression guard of `make test` (stage bench-guard): the role, the
module alone and `ip -batch` at N=200, side by side in one run, each in its
own throwaway sandbox; fails when a ratio exceeds its limit in
guard-limits.json (about twice the ratio measured on the landed code).

  benchmarks/guard.py [--limits benchmarks/guard-limits.json] [--rounds 2]

Ratios, never absolute times: the machine may be slower than the one the
limits were measured on, and a ratio of two contenders measured moments
apart cancels that. The ratios are of CPU time (user + system of every
process a run started): unlike wall time it does not grow when other work
shares the cores, as it does on a busy CI machine. Each contender runs
--rounds times, interleaved, and its cheapest run counts (noise only ever
adds time). Wall-time ratios are printed beside them, for reading only.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from compare import one_run  # noqa: E402

COUNT = 200
# name -> (numerator contender, phase), (denominator contender, phase)
RATIOS = {
    'role/module, first converge': (('role', 'first'), ('module', 'first')),
    'role/module, no-op rerun': (('role', 'rerun'), ('module', 'rerun')),
    'module/ip-batch, first converge': (('module', 'first'), ('batch', 'first')),
}


def measure(rounds):
    best = {}
    for _round in range(rounds):
        for contender in ('batch', 'module', 'role'):
            result = one_run([contender, COUNT])
            sys.stderr.write(f'  {json.dumps(result)}\n')
            for phase in ('first', 'rerun'):
                for unit in ('cpu_s', 's'):
                    value = result[f'{phase}_{unit}']
                    if value is not None:
                        key = (contender, phase, unit)
                        best[key] = min(best.get(key, value), value)

    def ratio(name, unit):
        (top, top_phase), (bottom, bottom_phase) = RATIOS[name]
        return best[(top, top_phase, unit)] / best[(bottom, bottom_phase, unit)]

    return dict((name, (ratio(name, 'cpu_s'), ratio(name, 's'))) for name in RATIOS)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--limits', default=os.path.join(HERE, 'guard-limits.json'))
    parser.add_argument('--rounds', type=int, default=2)
    opts = parser.parse_args()
    with open(opts.limits) as handle:
        limits = json.load(handle)['limits']
    ratios = measure(opts.rounds)
    failed = []
    print(f'bench-guard, N={COUNT} (cheapest of {opts.rounds} runs each), CPU-time ratios:')
    for name in RATIOS:
        cpu, wall = ratios[name]
        verdict = 'ok' if cpu <= limits[name] else 'OVER THE LIMIT'
        print(f'  {name:<32} {cpu:6.2f}x  (limit {limits[name]:.2f}x; wall {wall:.2f}x)  {verdict}')
        if verdict != 'ok':
            failed.append(name)
    if failed:
        print(
            f'bench-guard: {", ".join(failed)} regressed; profile it (docs/performance.md) '
            f'before raising a limit in {os.path.relpath(opts.limits)}'
        )
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
