"""Run one contender once, first converge and rerun, inside the throwaway
sandbox the harness (compare.py) put this process in. Prints one JSON line:
{contender, n, first_s, rerun_s, peak_rss_mb}.

  contender.py module|role|naive|batch N
  contender.py fleet M N

Wall time is measured around the whole command (ansible-playbook with its
start-up, the module process, or every ip invocation); peak RSS is the
largest process of the run (ru_maxrss of the waited-for descendants: for
`module` that is the module process itself).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import procstat  # noqa: E402
import workload  # noqa: E402

PYTHON = sys.executable


def _ansible_env(workdir, forks=1):
    cfg = os.path.join(workdir, 'ansible.cfg')
    with open(cfg, 'w') as out:
        out.write(
            f'[defaults]\nforks = {forks}\nhost_key_checking = false\ninterpreter_python = {PYTHON}\n'
            '[connection]\npipelining = true\n'
        )
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=cfg,
        ANSIBLE_HOME=os.path.join(workdir, 'ansible-home'),
        ANSIBLE_LOCAL_TEMP=os.path.join(workdir, 'tmp'),
        ANSIBLE_REMOTE_TEMP=os.path.join(workdir, 'rtmp'),
        ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.cache', 'collections'),
        ANSIBLE_NOCOLOR='1',
    )
    return env


def _run(argv, env=None, **kwargs):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, **kwargs)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f'{argv[:3]} failed with {proc.returncode}')
    return elapsed, proc.stdout


def _playbook(workdir, playbook, vars_path, inventory, forks=1, extra=()):
    argv = [
        os.path.join(os.path.dirname(PYTHON), 'ansible-playbook'),
        '-i',
        inventory,
        os.path.join(HERE, 'playbooks', playbook),
        '-e',
        '@' + vars_path,
    ] + list(extra)
    return _run(argv, env=_ansible_env(workdir, forks))


def _changed(stdout):
    """changed= counts of the PLAY RECAP."""
    return [int(line.split('changed=')[1].split()[0]) for line in stdout.splitlines() if 'changed=' in line]


# CPU time (user + system) of the processes each phase ran, from the
# rusage of reaped children: unlike wall time it does not grow when the
# hypervisor steals the CPU. Filled by _both and batch: [first, rerun].
CPU_TIMES = []


def _children_cpu_s():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _both(run):
    start = _children_cpu_s()
    first, out1 = run()
    middle = _children_cpu_s()
    rerun, out2 = run()
    CPU_TIMES[:] = [middle - start, _children_cpu_s() - middle]
    assert sum(_changed(out2)) == 0, f'the rerun changed something: {out2[-2000:]}'
    assert all(c > 0 for c in _changed(out1)), out1[-2000:]
    return first, rerun


def role(count, workdir):
    vars_path = workload.write_vars(count, os.path.join(workdir, 'vars.json'), 'netns_namespaces')
    return _both(lambda: _playbook(workdir, 'role.yml', vars_path, 'localhost,', extra=['-c', 'local']))


def naive(count, workdir):
    vars_path = workload.write_vars(count, os.path.join(workdir, 'vars.json'), 'bench_items')
    return _both(lambda: _playbook(workdir, 'naive.yml', vars_path, 'localhost,', extra=['-c', 'local']))


def module(count, workdir):
    """The module as Ansible runs it on the host, minus Ansible: one process
    reading its arguments from a file."""
    args = os.path.join(workdir, 'args.json')
    with open(args, 'w') as out:
        json.dump({'ANSIBLE_MODULE_ARGS': {'namespaces': workload.declaration(count)}}, out)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, '.cache', 'collections'))
    argv = [PYTHON, os.path.join(REPO, 'plugins', 'modules', 'netns_config.py'), args]

    def once():
        elapsed, out = _run(argv, env=env)
        return elapsed, f'changed={int(json.loads(out)["changed"])}'

    return _both(once)


def batch(count, workdir):
    """iproute2 batch mode, the floor a shell script reaches. Not idempotent:
    there is no rerun."""
    host, per_ns = workload.write_batch_files(count, workdir)
    cpu_start = _children_cpu_s()
    start = time.perf_counter()
    _run(['ip', '-batch', host])
    for name, path in per_ns:
        _run(['ip', '-n', name, '-batch', path])
    elapsed = time.perf_counter() - start
    CPU_TIMES[:] = [_children_cpu_s() - cpu_start, None]
    return elapsed, None


def hosts_playbook(workdir, count, state):
    """Start (started) or remove (absent) namespace hosts host1..hostCOUNT with playbooks/hosts.yml.

    Returns the playbook's wall time in seconds."""
    argv = [
        os.path.join(os.path.dirname(PYTHON), 'ansible-playbook'),
        '-i',
        'localhost,',
        '-c',
        'local',
        os.path.join(HERE, 'playbooks', 'hosts.yml'),
        '-e',
        f'host_count={count}',
        '-e',
        f'host_state={state}',
        '-e',
        f'host_data_dir={os.path.join(workdir, "hosts")}',
        # the hosts run Ansible with this checkout's Python, wherever it lives
        '-e',
        json.dumps({'host_shared_paths': [REPO]}),
    ]
    return _run(argv, env=_ansible_env(workdir))[0]


# Ansible's own floor on the same fleet, measured in the same run as the role:
# FLOOR[name] = (wall s, CPU s) of one ansible.builtin.ping per host (forks =
# M) and of `ip -batch` building the workload on every host at once.
FLOOR = {}


def _inside(host):
    """argv prefix that runs a command in the namespace host's mount, net and pid namespaces (ip reads
    /proc/1/ns/net: the host's /proc, of its own pid namespace)."""
    return ['nsenter', f'--mount=/run/mntns/{host}', f'--net=/run/netns/{host}', f'--pid=/run/pidns/{host}', '--']


def _batch_script(count):
    """A shell script that builds the workload with ip -batch, as batch() does, fed to sh on stdin."""
    lines = ['set -e', "ip -batch - <<'EOF'"]
    for it in workload.items(count):
        lines += [
            f'netns add {it["name"]}',
            f'link add {it["host_if"]} type veth peer name eth0 netns {it["name"]}',
            f'addr add {it["host_ip"]}/30 dev {it["host_if"]}',
            f'link set {it["host_if"]} up',
        ]
    lines.append('EOF')
    for it in workload.items(count):
        lines += [
            f"ip -n {it['name']} -batch - <<'EOF'",
            'link set lo up',
            f'addr add {it["ns_ip"]}/30 dev eth0',
            'link set eth0 up',
            f'route add default via {it["host_ip"]}',
            'EOF',
        ]
    return '\n'.join(lines) + '\n'


def _fleet_floor(names, count, workdir, inventory):
    with open(os.path.join(workdir, 'ping.yml'), 'w') as out:
        out.write('- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n')
    argv = [
        os.path.join(os.path.dirname(PYTHON), 'ansible-playbook'),
        '-i',
        inventory,
        os.path.join(workdir, 'ping.yml'),
    ]
    start = _children_cpu_s()
    FLOOR['ping'] = (_run(argv, env=_ansible_env(workdir, len(names)))[0], _children_cpu_s() - start)
    script = _batch_script(count)
    start, began = _children_cpu_s(), time.perf_counter()
    procs = [subprocess.Popen(_inside(name) + ['sh'], stdin=subprocess.PIPE, text=True) for name in names]
    for proc in procs:
        proc.communicate(script)
    assert all(proc.returncode == 0 for proc in procs), 'ip -batch failed on a host'
    FLOOR['batch'] = (time.perf_counter() - began, _children_cpu_s() - start)
    # the role starts from hosts without the workload, as the batch did
    for name in names:
        _run(_inside(name) + ['ip', '-all', 'netns', 'delete'])


def fleet(hosts, count, workdir):
    """M namespace hosts (nsfd.namespaces.namespace_host), N namespaces each, forks = M."""
    names = [f'host{i + 1}' for i in range(hosts)]
    hosts_playbook(workdir, hosts, 'started')
    try:
        inventory = os.path.join(workdir, 'fleet.ini')
        with open(inventory, 'w') as out:
            out.write('[fleet]\n')
            for name in names:
                out.write(f'{name} ansible_host={name} ansible_connection=nsfd.namespaces.nsenter\n')
        _fleet_floor(names, count, workdir, inventory)
        time.sleep(2)  # the kernel frees the deleted namespaces asynchronously
        vars_path = workload.write_vars(count, os.path.join(workdir, 'vars.json'), 'netns_namespaces')
        return _both(lambda: _playbook(workdir, 'role.yml', vars_path, inventory, forks=hosts))
    finally:
        hosts_playbook(workdir, hosts, 'absent')


def main(argv):
    steal_before = procstat.cpu_seconds()['steal']
    kind = argv[1]
    workdir = tempfile.mkdtemp(prefix='nsfd-bench-')
    if kind == 'fleet':
        hosts, count = int(argv[2]), int(argv[3])
        first, rerun = fleet(hosts, count, workdir)
        record = {
            'contender': 'fleet',
            'hosts': hosts,
            'n': count,
            'ping_s': round(FLOOR['ping'][0], 3),
            'ping_cpu_s': round(FLOOR['ping'][1], 3),
            'fleet_batch_s': round(FLOOR['batch'][0], 3),
            'fleet_batch_cpu_s': round(FLOOR['batch'][1], 3),
        }
    else:
        count = int(argv[2])
        first, rerun = globals()[kind](count, workdir)
        record = {'contender': kind, 'n': count}
    record.update(
        {
            'first_s': round(first, 3),
            'rerun_s': None if rerun is None else round(rerun, 3),
            'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1),
            'first_cpu_s': round(CPU_TIMES[0], 3),
            'rerun_cpu_s': None if CPU_TIMES[1] is None else round(CPU_TIMES[1], 3),
            'steal_s': round(procstat.cpu_seconds()['steal'] - steal_before, 2),
        }
    )
    print(json.dumps(record))


if __name__ == '__main__':
    main(sys.argv)
