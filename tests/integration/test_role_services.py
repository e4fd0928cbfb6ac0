"""The netns role's `services` (issue 14) on this sandbox as a host: the
namespace entry's services get their netns_service drop-ins in the same run,
netns_config never sees the key, a second run changes nothing, check mode
writes nothing, and a service no longer declared is taken out again (only
what the role recorded, in netns_config's record). systemd is not running here: the booted-host test
(test_booted_service.py) starts the service for real."""

import json
import os
import re
import subprocess

import pytest

from playbook import ansible_playbook

UNIT = 'nsfd-test-web.service'
KEPT = 'nsfd-test-kept.service'
DROPIN = f'/etc/systemd/system/{UNIT}.d/50-nsfd-netns.conf'
RECORD = '/var/lib/nsfd-netns/managed.json'
FLAGS = {'restart': False, 'writable_etc': False, 'bind_etc': True}


def _play(services):
    """The play of the role with blue's services, services given as JSON text."""
    return f'''
- hosts: localhost
  gather_facts: false
  roles:
    - role: nsfd.namespaces.netns
      vars:
        netns_namespaces:
          - name: blue
            files:
              resolv.conf: "nameserver 10.200.1.1\\n"
            services: {services}
'''


def _role(tmp_path, services, *extra):
    (tmp_path / 'play.yml').write_text(_play(json.dumps(services)))
    result = ansible_playbook(tmp_path, tmp_path / 'play.yml', *extra)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return int(re.search(r'changed=(\d+)', result.stdout).group(1)), result.stdout


def _recorded():
    with open(RECORD) as handle:
        return json.load(handle).get('services', [])


def test_role_places_declared_services_and_takes_out_undeclared_ones(tmp_path):
    os.makedirs('/etc/systemd/system', exist_ok=True)
    for unit in (UNIT, KEPT):
        with open('/etc/systemd/system/' + unit, 'w') as handle:
            handle.write('[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n')
    kept = f'/etc/systemd/system/{KEPT}.d/50-nsfd-netns.conf'
    changed, _out = _role(tmp_path, [UNIT], '--check')
    assert changed and not os.path.exists(DROPIN) and not os.path.exists(RECORD)
    assert subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout == ''

    changed, _out = _role(tmp_path, [UNIT, {'name': KEPT, 'writable_etc': True}])
    assert changed and os.path.exists(kept)
    with open(DROPIN) as handle:
        lines = handle.read().splitlines()
    assert 'NetworkNamespacePath=/run/netns/blue' in lines and 'Requires=nsfd-netns.service' in lines
    assert 'BindReadOnlyPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in lines
    assert _recorded() == [
        dict(FLAGS, name=UNIT, namespace='blue'),
        dict(FLAGS, name=KEPT, namespace='blue', writable_etc=True),
    ]

    assert _role(tmp_path, [{'name': UNIT}, {'name': KEPT, 'writable_etc': True}])[0] == 0, 'nothing to change'

    # only the service no longer declared is taken out
    changed, _out = _role(tmp_path, [{'name': KEPT, 'writable_etc': True}])
    assert changed and not os.path.exists(DROPIN) and os.path.exists(kept)
    assert _recorded() == [dict(FLAGS, name=KEPT, namespace='blue', writable_etc=True)]
    with open(kept) as handle:
        assert 'BindPaths=-/etc/netns/blue/resolv.conf:/etc/resolv.conf' in handle.read().splitlines()

    # an admin's drop-in for another service is not the role's to prune
    os.makedirs('/etc/systemd/system/other.service.d')
    with open('/etc/systemd/system/other.service.d/50-nsfd-netns.conf', 'w') as handle:
        handle.write('[Service]\nNice=1\n')
    changed, _out = _role(tmp_path, [])
    assert changed and not os.path.exists(kept)
    assert os.path.exists('/etc/systemd/system/other.service.d/50-nsfd-netns.conf')
    assert _recorded() == []
    assert _role(tmp_path, [])[0] == 0


def test_a_service_placed_by_a_run_that_failed_half_way_is_still_pruned(tmp_path):
    """The first service gets its drop-in, the second is refused (it does not
    exist), so the run fails before its end. The drop-in written must still
    be the role's to take out when the service is no longer declared."""
    os.makedirs('/etc/systemd/system', exist_ok=True)
    with open('/etc/systemd/system/' + UNIT, 'w') as handle:
        handle.write('[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n')
    (tmp_path / 'play.yml').write_text(_play(json.dumps([UNIT, 'nsfd-test-missing.service'])))
    failed = ansible_playbook(tmp_path, tmp_path / 'play.yml')
    assert failed.returncode != 0 and "'nsfd-test-missing.service' does not exist" in failed.stdout, failed.stdout
    assert os.path.exists(DROPIN)
    changed, _out = _role(tmp_path, [])
    assert changed and not os.path.exists(DROPIN)
    assert _recorded() == []


@pytest.mark.parametrize(
    'services, named',
    [
        ([42], '42'),
        ([{'restart': True}], '{"restart": true}'),
        ([['web.service']], '["web.service"]'),
        ('web.service', '"web.service"'),
        ([{'name': 'web.service', 'bogus': 1}], '"bogus": 1'),
        ([{'name': 7}], '{"name": 7}'),
    ],
)
def test_malformed_services_are_refused_naming_them_before_any_namespace_is_made(tmp_path, services, named):
    """A service that is no unit name or mapping with a name was silently
    dropped (and one already placed then pruned), or failed with a Jinja
    error naming nothing, after netns_config had made the namespaces."""
    (tmp_path / 'play.yml').write_text(_play(json.dumps(services)))
    run = ansible_playbook(tmp_path, tmp_path / 'play.yml')
    fatal = [line for line in run.stdout.splitlines() if line.startswith('fatal:')]
    assert run.returncode != 0 and fatal, run.stdout[-3000:]
    assert 'blue' in fatal[0] and json.dumps(named)[1:-1] in fatal[0], fatal[0]
    assert subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True, check=True).stdout == ''
