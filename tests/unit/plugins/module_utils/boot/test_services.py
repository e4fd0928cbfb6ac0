"""services: netns_config's `services` checked before anything is touched,
then placed (a drop-in each) and taken out again once undeclared; the
sandbox runs no systemd, so the unit files are what is read and written."""

import os

import pytest

from nsoracle import sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.boot import services
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.netconfig.spec import validate


def _boot(tmp_path, state='present'):
    return {'unit_dir': str(tmp_path / 'units'), 'unit_name': 'nsfd-netns.service', 'state': state}


def _unit(tmp_path, name):
    os.makedirs(str(tmp_path / 'units'), exist_ok=True)
    with open(str(tmp_path / 'units' / name), 'w') as handle:
        handle.write('[Service]\nExecStart=/bin/true\n')


def _dropins(tmp_path):
    found = []
    for top, _dirs, names in os.walk(str(tmp_path / 'units')):
        found.extend(
            os.path.relpath(os.path.join(top, n), str(tmp_path / 'units')) for n in names if n.endswith('.conf')
        )
    return sorted(found)


def test_the_boot_unit_and_unit_dir_come_from_the_boot_option(tmp_path):
    boot = _boot(tmp_path)
    assert services.boot_unit_of(boot) == 'nsfd-netns.service'
    assert services.boot_unit_of(_boot(tmp_path, 'absent')) == '' and services.boot_unit_of(None) == ''
    assert services.unit_dir_of(boot) == str(tmp_path / 'units')
    assert services.unit_dir_of(None) == '/etc/systemd/system'


@pytest.mark.parametrize(
    'name, words',
    [
        ('nsfd-netns.service', 'is the boot unit'),
        ('web/../x.service', 'namespaces[0].services[0]'),
    ],
)
def test_check_refuses_a_service_that_cannot_have_its_dropin(tmp_path, name, words):
    decls = validate([{'name': 'blue', 'services': [name]}])
    with pytest.raises(NamespaceError) as exc:
        services.check(decls, None, _boot(tmp_path))
    assert words in str(exc.value) and exc.value.name == 'blue'
    assert 'Nothing was changed' in str(exc.value)


def test_check_skips_namespaces_declared_absent(tmp_path):
    decls = validate([{'name': 'blue', 'state': 'absent'}, {'name': 'red', 'services': ['web.service']}])
    services.check(decls, None, _boot(tmp_path))


def test_declared_services_are_placed_and_undeclared_ones_taken_out(tmp_path):
    sh('ip', 'netns', 'add', 'blue')
    _unit(tmp_path, 'web.service')
    _unit(tmp_path, 'old.service')
    boot = _boot(tmp_path)
    step = services.ServicesStep(None, boot)
    step(validate([{'name': 'blue', 'services': ['old.service']}]), [])
    assert _dropins(tmp_path) == ['old.service.d/50-nsfd-netns.conf']
    with open(str(tmp_path / 'units' / 'old.service.d' / '50-nsfd-netns.conf')) as handle:
        assert 'NetworkNamespacePath=/run/netns/blue' in handle.read()

    step = services.ServicesStep(None, boot)
    kept = step(
        validate([{'name': 'blue', 'services': ['web.service']}]), [{'name': 'old.service', 'namespace': 'blue'}]
    )
    assert [s['name'] for s in kept] == ['web.service']
    assert [d.split('/')[0] for d in _dropins(tmp_path)] == ['web.service.d']
    assert [(r['unit'], r['state'], r['changed']) for r in step.results] == [
        ('web.service', 'present', True),
        ('old.service', 'absent', True),
    ]
    assert step.failed == []


def test_a_failing_service_is_reported_and_an_undeclared_one_kept_in_the_record(tmp_path):
    sh('ip', 'netns', 'add', 'blue')
    boot = _boot(tmp_path)
    step = services.ServicesStep(None, boot)
    # web.service has no unit file, gone.service's drop-in cannot be removed: both fail
    os.makedirs(str(tmp_path / 'units' / 'gone.service.d' / '50-nsfd-netns.conf' / 'x'))  # a directory: not removable
    kept = step(
        validate([{'name': 'blue', 'services': ['web.service']}]), [{'name': 'gone.service', 'namespace': 'red'}]
    )
    assert [s['name'] for s in kept] == ['web.service', 'gone.service']
    assert len(step.failed) == 2 and step.failed[0].startswith('web.service in blue: ')
    assert "unit 'web.service' does not exist" in step.failed[0]
    assert step.failed[1].startswith('gone.service out of red: ')
    assert [r['failed'] for r in step.results] == [True, True]


def test_check_mode_writes_nothing_and_needs_no_pin(tmp_path):
    _unit(tmp_path, 'web.service')
    step = services.ServicesStep(None, _boot(tmp_path), check_mode=True)
    step(validate([{'name': 'blue', 'services': ['web.service']}]), [])
    assert step.failed == [] and step.results[0]['changed'] is True
    assert _dropins(tmp_path) == []
