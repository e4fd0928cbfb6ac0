"""The benchmark workload, in the shape each contender takes it.

N network namespaces bench0000..; each has a veth pair to the host (eth0
inside, bhNNNN on the host), a /30 with the host end .1 and the inside end
.2, both ends up, lo up, and a default route inside via the host end.
"""

import ipaddress
import json
import os

BASE = ipaddress.ip_network('10.128.0.0/9')


def items(count):
    """[{name, host_if, host_ip, ns_ip}] for the playbooks and batch files."""
    result = []
    first = int(BASE.network_address)
    for i in range(count):
        net = first + 4 * i
        result.append(
            {
                'name': f'bench{i:04d}',
                'host_if': f'bh{i:04d}',
                'host_ip': str(ipaddress.ip_address(net + 1)),
                'ns_ip': str(ipaddress.ip_address(net + 2)),
            }
        )
    return result


def declaration(count):
    """The netns_config / netns role declaration."""
    return [
        {
            'name': it['name'],
            'links': [
                {
                    'name': 'eth0',
                    'kind': 'veth',
                    'addresses': [it['ns_ip'] + '/30'],
                    'peer': {'name': it['host_if'], 'addresses': [it['host_ip'] + '/30']},
                }
            ],
            'routes': [{'dst': 'default', 'via': it['host_ip']}],
        }
        for it in items(count)
    ]


def write_batch_files(count, directory):
    """iproute2 batch files: one for the host side, one per namespace.
    Returns (host file, [(namespace, file)])."""
    host = os.path.join(directory, 'host.batch')
    per_ns = []
    with open(host, 'w') as out:
        for it in items(count):
            out.write(
                f'netns add {it["name"]}\n'
                f'link add {it["host_if"]} type veth peer name eth0 netns {it["name"]}\n'
                f'addr add {it["host_ip"]}/30 dev {it["host_if"]}\n'
                f'link set {it["host_if"]} up\n'
            )
    for it in items(count):
        path = os.path.join(directory, f'{it["name"]}.batch')
        with open(path, 'w') as out:
            out.write(
                'link set lo up\n'
                f'addr add {it["ns_ip"]}/30 dev eth0\n'
                'link set eth0 up\n'
                f'route add default via {it["host_ip"]}\n'
            )
        per_ns.append((it['name'], path))
    return host, per_ns


def write_vars(count, path, key):
    with open(path, 'w') as out:
        json.dump({key: declaration(count) if key == 'netns_namespaces' else items(count)}, out)
    return path
