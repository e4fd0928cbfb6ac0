"""What operators' own tools say about namespaces: the tests' oracle.

Everything here asks util-linux, iproute2 or /proc, never the collection's
own code, so the tests check the engine against an independent view.
"""

import json
import os
import subprocess


# Where an operator finds the pins of a namespace host's types: iproute2's
# /run/netns, and the same pattern for the others (what namespace_info lists).
HOST_TYPES = ('mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup')
PIN_DIRS = {nstype: f'/run/{nstype}ns' for nstype in HOST_TYPES}


def sh(*argv, check=True, **kwargs):
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(
            f'{" ".join(argv)} failed (rc={result.returncode})\nstdout: {result.stdout}\nstderr: {result.stderr}'
        )
    return result


def ip(*args, netns=None):
    """`ip -j ARGS` (in the named network namespace), decoded."""
    out = sh(*(['ip'] + (['-n', netns] if netns else []) + ['-j'] + list(args))).stdout
    return json.loads(out) if out.strip() else []


def addrs(link, netns=None):
    """link's addresses (in the named network namespace) as ip shows them, link-local aside: ['10.0.0.1/24']."""
    return sorted(
        f'{a["local"]}/{a["prefixlen"]}'
        for e in ip('addr', 'show', 'dev', link, netns=netns)
        for a in e['addr_info']
        if a.get('scope') != 'link'
    )


def nsfs_mounts():
    """findmnt's list of nsfs mounts: [{target, source, propagation}]."""
    out = sh('findmnt', '-J', '-t', 'nsfs', '-o', 'TARGET,SOURCE,PROPAGATION', check=False).stdout
    if not out.strip():
        return []
    return json.loads(out)['filesystems']


def mounts_at(path):
    return [m for m in nsfs_mounts() if m['target'] == path]


def pin_kind_and_inode(path):
    """('net', 4026532281) as findmnt's SOURCE column shows it: nsfs[net:[4026532281]]."""
    found = mounts_at(path)
    assert len(found) == 1, f'expected exactly one nsfs mount at {path}, found {found!r}'
    source = found[0]['source']
    kind, ino = source[len('nsfs[') : -1].split(':')
    return kind, int(ino.strip('[]'))


def ip_netns_list():
    return sorted(line.split()[0] for line in sh('ip', 'netns', 'list').stdout.splitlines() if line.strip())


def proc_inode(pid, kind):
    link = os.readlink(f'/proc/{pid}/ns/{kind}')
    return int(link.split('[')[1].rstrip(']'))


def lsns(kind):
    """lsns -J -t KIND: {inode: entry}."""
    out = sh('lsns', '-J', '--list', '-t', kind).stdout
    return dict((int(e['ns']), e) for e in json.loads(out)['namespaces'])


def running(pid):
    """Whether pid is a live process: /proc says so, and it is no zombie (the sandbox reaps them late)."""
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except OSError:
        return False
