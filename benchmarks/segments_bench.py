"""Fleet segments: M namespace hosts x S segments (every host a member of
every segment: S namespaces per host, each with a bridge, a VXLAN device and
M-1 flooding entries), through the netns role: first converge, no-op rerun,
then the cost of one more host joining every segment (the run that adds it
everywhere, and its no-op rerun), and a ping across the joined segment.

Run it in a throwaway sandbox (it starts namespace hosts and a lab network):
  scripts/sandbox .cache/venv/bin/python benchmarks/segments_bench.py [--hosts 8] [--segments 20] [--runs 1]
Prints one JSON line per run; wall time is around ansible-playbook (forks =
hosts), CPU is user + system of everything it started.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import contender  # noqa: E402


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(workdir, inventory, vars_path, forks, limit):
    cpu = _cpu()
    elapsed, out = contender._playbook(
        workdir, 'segments.yml', vars_path, inventory, forks=forks, extra=['--limit', ','.join(limit)]
    )
    changed = sum(int(line.split('changed=')[1].split()[0]) for line in out.splitlines() if ' changed=' in line)
    return round(elapsed, 3), round(_cpu() - cpu, 3), changed


def _vars(path, segments, members):
    with open(path, 'w') as out:
        json.dump(
            {
                'netns_underlay_address_var': 'lab_address',
                'netns_prune': True,
                'netns_segments': [
                    {'name': f'seg{i:02d}', 'id': 1000 + i, 'subnet': f'10.200.{i}.0/24', 'members': members}
                    for i in range(segments)
                ],
            },
            out,
        )
    return path


def one_run(hosts, segments):
    workdir = tempfile.mkdtemp(prefix='nsfd-segbench-')
    names = [f'host{i + 1}' for i in range(hosts + 1)]
    contender.hosts_playbook(workdir, len(names), 'started')
    try:
        inventory = os.path.join(workdir, 'fleet.ini')
        with open(inventory, 'w') as out:
            out.write('[fleet]\n')
            for index, name in enumerate(names, start=1):
                out.write(
                    f'{name} ansible_host={name} ansible_connection=nsfd.namespaces.nsenter '
                    f'lab_address=10.77.0.{index}\n'
                )
        members, joined = names[:-1], names
        before = _vars(os.path.join(workdir, 'before.json'), segments, members)
        after = _vars(os.path.join(workdir, 'after.json'), segments, joined)
        record = {'hosts': hosts, 'segments': segments}
        record['first_s'], record['first_cpu_s'], first_changed = _timed(workdir, inventory, before, hosts, members)
        record['rerun_s'], record['rerun_cpu_s'], rerun_changed = _timed(workdir, inventory, before, hosts, members)
        record['join_s'], record['join_cpu_s'], join_changed = _timed(workdir, inventory, after, hosts + 1, joined)
        record['join_rerun_s'], record['join_rerun_cpu_s'], join_rerun_changed = _timed(
            workdir, inventory, after, hosts + 1, joined
        )
        assert (first_changed, rerun_changed, join_changed, join_rerun_changed) == (hosts, 0, hosts + 1, 0), (
            first_changed,
            rerun_changed,
            join_changed,
            join_rerun_changed,
        )
        # the newcomer reaches host1 inside the last segment (ARP flooded over every tunnel)
        subprocess.run(
            [
                'nsenter',
                f'--net=/run/netns/{names[-1]}',
                f'--mount=/run/mntns/{names[-1]}',
                '--',
                'ip',
                'netns',
                'exec',
                f'seg{segments - 1:02d}',
                'ping',
                '-c',
                '1',
                '-W',
                '3',
                _address(segments - 1, segments, joined, 'host1'),
            ],
            check=True,
            capture_output=True,
        )
        return record
    finally:
        contender.hosts_playbook(workdir, len(names), 'absent')


def _address(index, segments, members, host):
    sys.path.insert(0, os.path.join(REPO, '.cache', 'collections'))
    from ansible_collections.nsfd.namespaces.plugins.filter.netns_segment_addresses import netns_segment_addresses

    declared = [
        {'name': f'seg{i:02d}', 'id': 1000 + i, 'subnet': f'10.200.{i}.0/24', 'members': members}
        for i in range(segments)
    ]
    return netns_segment_addresses(declared)[f'seg{index:02d}'][host]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=8)
    parser.add_argument('--segments', type=int, default=20)
    parser.add_argument('--runs', type=int, default=1)
    args = parser.parse_args()
    for _run in range(args.runs):
        print(json.dumps(one_run(args.hosts, args.segments)))
        sys.stdout.flush()


if __name__ == '__main__':
    main()
