"""Wrong or hostile input is refused before anything is touched, with a message naming option and value."""

import hashlib
import os

import pytest

from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import engine, spec as hostspec
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins import engine as pins, spec as pinspec


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path / 'hosts')


def lab(address, **kwargs):
    return dict({'name': 'nsfd-lab', 'address': address}, **kwargs)


def snapshot(data_dir):
    return (
        sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else None,
        sorted(ip_netns_list()),
        sh('findmnt', '-rn', '-o', 'TARGET').stdout,
        sorted(os.listdir('/run')),
        [a for a in sh('ps', '-e', '-o', 'args=').stdout.splitlines() if a.endswith(data_dir)],
    )


def refused(where, expected, **kwargs):
    kwargs.setdefault('data_dir', where)
    before = snapshot(where)
    with pytest.raises(NamespaceError) as exc:
        engine.converge(hostspec.build(**kwargs))
    assert expected in str(exc.value), str(exc.value)
    assert snapshot(where) == before
    return str(exc.value)


@pytest.mark.parametrize(
    'name, expected',
    [
        ('', 'must not be empty'),
        ('-rf', "must not start with '-'"),
        ('a/b', "must not contain '/'"),
        ('..', "must not be '.' or '..'"),
        ('a b', 'not a valid hostname'),
        ('h\n1', 'control characters'),
        ('h\u20281', 'control characters'),
        ('x' * 65, 'not a valid hostname'),
        ('h\u00e9', 'not a valid hostname'),
        ('h_1', 'not a valid hostname'),
        (None, 'must be a string'),
    ],
)
def test_bad_names(data_dir, name, expected):
    message = refused(data_dir, expected, name=name)
    assert repr(name) in message


@pytest.mark.parametrize(
    'options, expected',
    [
        ({'hostname': 'a b'}, "hostname 'a b' is not a valid hostname"),
        ({'hostname': 'x' * 65}, 'is not a valid hostname'),
        ({'hostname': 'h1\n'}, "hostname 'h1\\n' is not a valid hostname"),
        ({'root': 'relative/root'}, "root 'relative/root' must be 'overlay' or the absolute path"),
        ({'root': '/nonexistent-root'}, "root '/nonexistent-root' is not a distribution root tree"),
        ({'root': '/'}, "it is the machine's own root"),
        ({'root': '/etc/hostname'}, 'has no /usr/bin or /etc directory'),
        ({'data_dir': 'relative'}, "data_dir 'relative' must be an absolute path"),
        ({'data_dir': '/'}, 'must not be the root directory'),
        ({'data_dir': '/etc'}, "data_dir '/etc' must be a directory of its own"),
        ({'state': 'running'}, "state 'running' must be one of"),
        ({'lab': 'nsfd-lab'}, "lab must be a dictionary"),
        ({'lab': {'name': 'nsfd-lab'}}, 'lab.address is required'),
        ({'lab': lab('10.77.0.1')}, "lab.address '10.77.0.1' needs a prefix length"),
        ({'lab': lab('10.77.0.300/24')}, "lab.address '10.77.0.300/24' must be an address"),
        ({'lab': lab('10.77.0.0/24')}, "lab.address '10.77.0.0/24' is not a usable host address"),
        ({'lab': lab('10.77.0.255/24')}, 'is not a usable host address'),
        ({'lab': lab('10.77.0.254/24')}, "is the lab bridge's own address"),
        ({'lab': lab('10.77.0.1/32')}, "lab.address '10.77.0.1/32' is a subnet of one address"),
        ({'lab': lab('fd00::1/128')}, "lab.address 'fd00::1/128' is a subnet of one address"),
        ({'lab': lab('10.77.0.1/24', gateway='10.78.0.1')}, "lab.gateway '10.78.0.1' must be a usable address"),
        ({'lab': lab('10.77.0.1/24', bridge='a' * 16)}, 'is not a valid interface name'),
        ({'lab': lab('10.77.0.1/24', interface='lo')}, "lab.interface 'lo' is a name the kernel keeps for itself"),
        ({'lab': lab('10.77.0.1/24', interface='e/0')}, "lab.interface 'e/0' is not a valid interface name"),
        ({'lab': lab('10.77.0.1/24', name='../x')}, "lab.name '../x' must not contain '/'"),
        ({'lab': lab('10.77.0.1/24', vlan=3)}, "lab has unknown key(s) 'vlan'"),
        ({'shared_paths': '/opt'}, 'shared_paths must be a list'),
        ({'shared_paths': ['relative']}, "shared_paths: 'relative' is not an absolute path"),
        ({'shared_paths': ['/opt\nx']}, 'is not an absolute path without control characters'),
        ({'shared_paths': ['/']}, "shared_paths: '/' cannot be shared"),
        ({'shared_paths': ['/tmp/']}, "shared_paths: '/tmp' cannot be shared: the host has its own /tmp"),
        ({'shared_paths': ['/proc/1']}, 'the host has its own /proc'),
        ({'shared_paths': ['/tmp/../etc']}, "shared_paths: '/etc' cannot be shared: the host has its own /etc"),
        ({'shared_paths': ['/var/']}, 'the host has its own /var'),
        ({'shared_paths': ['/nonexistent-dir']}, "'/nonexistent-dir' is not a directory on this machine"),
        ({'shared_paths': ['/usr', '/usr/']}, "shared_paths names '/usr' twice"),
    ],
)
def test_bad_options(data_dir, options, expected):
    refused(data_dir, expected, name='h1', **options)


@pytest.mark.parametrize('sub', ['a,b', 'a:b', 'a\\b'])
def test_paths_overlayfs_would_split_are_refused_before_anything_is_made(tmp_path, data_dir, sub):
    bad = str(tmp_path / sub)
    refused(data_dir, f'data_dir {bad!r} must not contain', name='h1', data_dir=bad)
    assert not os.path.exists(bad)
    for part in ('usr/bin', 'etc'):
        os.makedirs(os.path.join(bad, part))
    refused(data_dir, f'root {bad!r} must not contain', name='h1', root=bad)


def test_a_name_pinned_by_a_plain_namespace_is_refused(data_dir):
    pins.ensure_present(pinspec.build(name='blue', types=['net', 'uts']))
    message = refused(data_dir, 'the name is taken: /run/utsns/blue is a uts namespace pin', name='blue')
    assert 'no host record' in message
    gone = engine.absent(hostspec.build(name='blue', state='absent', data_dir=data_dir))
    assert not gone.changed and gone.warnings and 'blue' in ip_netns_list()


def test_two_hosts_with_one_address_and_an_address_outside_the_lab(data_dir):
    engine.converge(hostspec.build(name='h1', data_dir=data_dir, lab=lab('10.77.0.1/24')))
    refused(data_dir, 'lab.address 10.77.0.1/24 is already the address of host h1', name='h2', lab=lab('10.77.0.1/24'))
    refused(data_dir, 'outside the lab subnet', name='h2', lab=lab('10.78.0.2/24'))
    refused(data_dir, 'outside the lab subnet', name='h2', lab=lab('10.77.0.2/16'))
    # another lab is another subnet
    engine.converge(hostspec.build(name='h2', data_dir=data_dir, lab=lab('10.78.0.2/24', name='lab2')))


def test_the_bridge_and_a_host_never_share_an_address(data_dir):
    engine.converge(hostspec.build(name='h1', data_dir=data_dir, lab=lab('10.77.0.1/24')))
    # the bridge has 10.77.0.254 (h1's gateway): no host gets it
    refused(
        data_dir,
        'lab.address 10.77.0.254/24 is an address of bridge labbr0 of lab nsfd-lab',
        name='h2',
        lab=lab('10.77.0.254/24', gateway='10.77.0.100'),
    )
    # h1 has 10.77.0.1: the bridge does not get it as another host's gateway
    refused(
        data_dir,
        'lab.gateway 10.77.0.1 is the address of host h1 in lab nsfd-lab',
        name='h2',
        lab=lab('10.77.0.2/24', gateway='10.77.0.1'),
    )


def test_hosts_of_two_data_dirs_on_one_lab_never_share_an_address(tmp_path, data_dir):
    engine.converge(hostspec.build(name='h1', data_dir=data_dir, lab=lab('10.77.0.1/24')))
    refused(
        str(tmp_path / 'other'),
        'lab.address 10.77.0.1/24 is already the address of host h1',
        name='h2',
        lab=lab('10.77.0.1/24'),
    )


def test_a_running_host_started_with_other_settings_fails_and_rebooted_applies_them(data_dir):
    engine.converge(hostspec.build(name='h1', data_dir=data_dir))
    refused(data_dir, "hostname 'other' (running with 'h1')", name='h1', hostname='other')
    result = engine.converge(hostspec.build(name='h1', state='rebooted', hostname='other', data_dir=data_dir))
    assert result.host['hostname'] == 'other'
    assert sh('nsenter', '--uts=/run/utsns/h1', 'hostname').stdout.strip() == 'other'
    moved = engine.converge(
        hostspec.build(
            name='h1', state='rebooted', hostname='other', data_dir=data_dir, lab=lab('10.79.0.1/24', name='lab-a')
        )
    )
    assert moved.host['address'] == '10.79.0.1/24' and 'lab-a' in ip_netns_list()
    engine.converge(
        hostspec.build(
            name='h1', state='rebooted', hostname='other', data_dir=data_dir, lab=lab('10.80.0.1/24', name='lab-b')
        )
    )
    assert sorted(ip_netns_list()) == ['h1', 'lab-b'], 'the lab no host uses any more is gone'


def test_a_host_is_no_lab(data_dir):
    refused(data_dir, "lab.name 'h1' is the name of a host", name='h1', lab=lab('10.77.0.1/24', name='h1'))
    engine.converge(hostspec.build(name='h1', data_dir=data_dir))
    refused(data_dir, "lab.name 'h1' is the name of a host", name='h2', lab=lab('10.77.0.2/24', name='h1'))
    engine.converge(hostspec.build(name='h3', data_dir=data_dir, lab=lab('10.77.0.3/24')))
    refused(data_dir, 'the name is taken: /run/netns/nsfd-lab is a net namespace pin', name='nsfd-lab')


def test_long_names_get_a_stable_short_lab_end():
    assert hostspec.lab_end_name('web1') == 'lab-' + hashlib.sha256(b'web1').hexdigest()[:11]
    long_one = hostspec.lab_end_name('a-rather-long-host-name')
    assert len(long_one) <= 15 and long_one == hostspec.lab_end_name('a-rather-long-host-name')
    assert long_one != hostspec.lab_end_name('a-rather-long-host-name2')


def planned_refusal(expected, **kwargs):
    """Refused by the checks alone: in check mode, so a run on a version
    without them plans instead of writing into the machine's directories."""
    with pytest.raises(NamespaceError) as exc:
        engine.converge(hostspec.build(**kwargs), check_mode=True)
    assert expected in str(exc.value), str(exc.value)
    return str(exc.value)


@pytest.mark.parametrize(
    'data_dir',
    [
        '/var/lib',
        '/home',
        '/usr/lib',
        '/usr/local/hosts',
        '/run/netns',
        '/run/netns/x',
        '/run/utsns',
        '/run/nsfd-labs',
        '/sys/fs/cgroup',
        '/proc/self',
        '/root',
        '/tmp',
        '//etc',
        '/var//lib/',
        '/var/lib/apt/..',
        '/./home',
    ],
)
def test_a_data_dir_that_is_no_directory_of_its_own_is_refused(data_dir):
    # issue 22: state: absent with data_dir /var/lib removed /var/lib/apt
    message = planned_refusal('must be a directory of its own', name='apt', data_dir=data_dir, state='absent')
    assert repr(data_dir) in message
    planned_refusal('must be a directory of its own', name='h1', data_dir=data_dir)


def test_a_data_dir_is_judged_where_it_leads(tmp_path):
    (tmp_path / 'to-etc').symlink_to('/etc')
    (tmp_path / 'to-proc').symlink_to('/proc/self/fdinfo')
    planned_refusal(
        "('/etc' once resolved) must be a directory of its own", name='h1', data_dir=str(tmp_path / 'to-etc')
    )
    planned_refusal('must be a directory of its own', name='h1', data_dir=str(tmp_path / 'to-proc' / 'hosts'))
    (tmp_path / 'real').mkdir()
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    assert hostspec.build(name='h1', data_dir=str(tmp_path / 'link' / 'hosts')).data_dir == str(
        tmp_path / 'real' / 'hosts'
    )


def test_a_data_dir_on_a_kernel_filesystem_is_refused(tmp_path):
    mounted = tmp_path / 'proc'
    mounted.mkdir()
    sh('mount', '-t', 'proc', 'proc', str(mounted))  # in the test's own mount namespace
    planned_refusal('is on proc, a kernel filesystem', name='h1', data_dir=str(mounted / 'sys'))


@pytest.mark.parametrize(
    'shared, own',
    [
        ('//etc', '/etc'),
        ('//tmp', '/tmp'),
        ('//', '/'),
        ('/./etc', '/etc'),
        ('/usr/../etc', '/etc'),
        ('//run/', '/run'),
        ('//proc/1', '/proc'),
    ],
)
def test_shared_paths_are_judged_once_resolved(data_dir, shared, own):
    # issue 22: //etc passed the refusal of /etc and the host's init rewrote the machine's /etc/hostname
    planned_refusal(f'the host has its own {own}', name='h1', data_dir=data_dir, shared_paths=[shared])


def test_a_shared_path_that_leads_to_a_hosts_own_directory_is_refused(tmp_path, data_dir):
    (tmp_path / 'to-etc').symlink_to('/etc')
    (tmp_path / 'to-root').symlink_to('/')
    planned_refusal(
        "'/etc' cannot be shared: the host has its own /etc (given as",
        name='h1',
        data_dir=data_dir,
        shared_paths=[str(tmp_path / 'to-etc')],
    )
    planned_refusal("'/' cannot be shared", name='h1', data_dir=data_dir, shared_paths=[str(tmp_path / 'to-root')])
    (tmp_path / 'checkout').mkdir()
    (tmp_path / 'to-checkout').symlink_to(tmp_path / 'checkout')
    built = hostspec.build(name='h1', data_dir=data_dir, shared_paths=[str(tmp_path / 'to-checkout')])
    assert built.shared_paths == [str(tmp_path / 'checkout')]
