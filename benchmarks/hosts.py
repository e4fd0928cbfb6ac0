"""Time namespace hosts as a molecule user meets them (docs/performance.md, "Namespace hosts").

  benchmarks/hosts.py [--counts 1,8,32] [--runs 3] [--molecule-hosts 8] [--out FILE]

For each count N: ansible-playbook starting N hosts (benchmarks/playbooks/hosts.yml,
what nsfd.namespaces.molecule_create does: one namespace_host task per host, each
cabled to the lab), checking they run, then removing them; each run in its own
throwaway sandbox (scripts/sandbox). Then `molecule test` of someone else's small
role (tests/molecule_user, through scripts/molecule-user) on --molecule-hosts
platforms. Prints a Markdown table and writes the JSON to --out. Run as root.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import contender  # noqa: E402


def lifecycle(count):
    """Inside a sandbox: {create_s, destroy_s} for count hosts."""
    workdir = tempfile.mkdtemp(prefix='nsfd-bench-hosts-')
    try:
        return _lifecycle(count, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _lifecycle(count, workdir):
    create = contender.hosts_playbook(workdir, count, 'started')
    running = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout
    pinned = len(re.findall(r'^host\d+\b', running, re.M))
    if pinned != count:
        raise SystemExit(f'{count} hosts asked, {pinned} pinned')
    destroy = contender.hosts_playbook(workdir, count, 'absent')
    left = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout
    if left.strip():
        raise SystemExit(f'left behind after absent: {left}')
    return {'create_s': round(create, 2), 'destroy_s': round(destroy, 2)}


def molecule(hosts):
    """`molecule test` of tests/molecule_user on hosts platforms: the seconds scripts/molecule-user reports."""
    proc = subprocess.run(
        [os.path.join(REPO, 'scripts', 'molecule-user'), '--hosts', str(hosts), 'test'],
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r'molecule-user: molecule test took (\d+) s', proc.stdout + proc.stderr)
    if proc.returncode != 0 or not found:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit(f'molecule test on {hosts} hosts failed ({proc.returncode})')
    return int(found.group(1))


def main(argv):
    if argv[1:2] == ['--inside']:
        print(json.dumps(lifecycle(int(argv[2]))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument('--counts', default='1,8,32')
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--molecule-hosts', type=int, default=8)
    parser.add_argument('--out', default=os.path.join(REPO, 'benchmarks', 'results', 'hosts.json'))
    opts = parser.parse_args(argv[1:])
    results = {'lifecycle': [], 'molecule': None, 'cpus': os.cpu_count()}
    for count in [int(c) for c in opts.counts.split(',') if c]:
        runs = []
        for _run in range(opts.runs):
            out = subprocess.run(
                [
                    os.path.join(REPO, 'scripts', 'sandbox'),
                    sys.executable,
                    os.path.abspath(__file__),
                    '--inside',
                    str(count),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
        results['lifecycle'].append(
            {
                'hosts': count,
                'create_s': statistics.median(r['create_s'] for r in runs),
                'destroy_s': statistics.median(r['destroy_s'] for r in runs),
                'runs': runs,
            }
        )
    if opts.molecule_hosts:
        results['molecule'] = {'hosts': opts.molecule_hosts, 'test_s': molecule(opts.molecule_hosts)}
    os.makedirs(os.path.dirname(opts.out), exist_ok=True)
    with open(opts.out, 'w') as handle:
        json.dump(results, handle, indent=1)
    print('| hosts | create (s) | per host (s) | destroy (s) |')
    print('|---:|---:|---:|---:|')
    for row in results['lifecycle']:
        per_host = row['create_s'] / row['hosts']
        print(f'| {row["hosts"]} | {row["create_s"]:.1f} | {per_host:.2f} | {row["destroy_s"]:.1f} |')
    if results['molecule']:
        done = results['molecule']
        print(f'\nmolecule test of a small role on {done["hosts"]} hosts: {done["test_s"]} s')


if __name__ == '__main__':
    main(sys.argv)
