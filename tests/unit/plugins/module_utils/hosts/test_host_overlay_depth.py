"""A host on the machine's root where /etc and /var are overlays over overlays already (a test sandbox
inside a container, the demo run one sandbox deeper): the kernel stacks two overlayfs levels at most, so the
host's copy-on-write layers are laid over the deeper overlay's own layers, or the start fails saying why."""

import os

import pytest

from nsoracle import ip_netns_list, sh

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.hosts import cow, engine, spec as hostspec
from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo, syscalls


def own_mount_namespace():
    # the test's process only (each test runs in a forked child of its own sandbox)
    syscalls.unshare(syscalls.CLONE_NEWNS)
    syscalls.mount(None, '/', None, syscalls.MS_REC | syscalls.MS_PRIVATE)


def overlay(target, lower, layers):
    for sub in ('upper', 'work'):
        os.makedirs(os.path.join(layers, sub), exist_ok=True)
    syscalls.mount('overlay', target, 'overlay', 0, f'lowerdir={lower},upperdir={layers}/upper,workdir={layers}/work')


@pytest.fixture
def deeper(tmp_path):
    """/etc and /var one overlay level deeper than the sandbox's, laid over themselves as sandboxes do."""
    own_mount_namespace()
    layers = tmp_path / 'deeper'
    syscalls.mount('tmpfs', str(tmp_path), 'tmpfs', 0, 'mode=0755')
    for directory in ('/etc', '/var'):
        overlay(directory, directory, str(layers / directory[1:]))
    if syscalls.statfs_type('/etc') != syscalls.OVERLAYFS_MAGIC:
        pytest.skip('this sandbox has no overlay /etc')
    with open('/etc/nsfd-deeper', 'w') as out:
        out.write('written one level deeper\n')
    os.unlink('/etc/hostname')  # a whiteout in the deeper layer: the host must not see the file
    return tmp_path


def enter(name, *argv, **kwargs):
    return sh('nsenter', f'--mount=/run/mntns/{name}', f'--pid=/run/pidns/{name}', '--', *argv, **kwargs)


def test_a_host_starts_where_etc_and_var_are_overlays_over_overlays(deeper):
    data_dir = str(deeper / 'hosts')
    result = engine.converge(hostspec.build(name='deep', data_dir=data_dir))
    assert result.changed and result.host['running'], result.as_dict()
    # the machine's files as the machine sees them, the deeper layer's changes included
    assert enter('deep', 'cat', '/etc/nsfd-deeper').stdout == 'written one level deeper\n'
    assert enter('deep', 'cat', '/etc/hostname').stdout == 'deep\n'  # written by the host, not the deleted one
    enter('deep', 'sh', '-c', 'echo inside > /etc/nsfd-inside; echo inside > /var/nsfd-inside')
    assert not os.path.exists('/etc/nsfd-inside') and not os.path.exists('/var/nsfd-inside')
    assert not os.path.exists('/etc/hostname')
    assert os.path.exists(os.path.join(data_dir, 'deep', 'etc', 'upper', 'nsfd-inside'))
    assert enter('deep', 'findmnt', '-n', '-o', 'FSTYPE', '/etc').stdout.split()[-1] == 'overlay'
    assert not engine.converge(hostspec.build(name='deep', data_dir=data_dir)).changed
    assert engine.converge(hostspec.build(name='deep', data_dir=data_dir, state='absent')).changed
    assert 'deep' not in ip_netns_list()


def test_an_overlay_that_cannot_be_taken_apart_fails_the_start_saying_why(tmp_path):
    own_mount_namespace()
    syscalls.mount('tmpfs', str(tmp_path), 'tmpfs', 0, 'mode=0755')
    # /etc shows an overlay (over /usr/share, one level) laid over another directory than /etc: two levels,
    # and the layer below is no sandbox's /etc to uncover
    os.makedirs(str(tmp_path / 'one'))
    overlay(str(tmp_path / 'one'), '/usr/share', str(tmp_path / 'l1'))
    overlay('/etc', str(tmp_path / 'one'), str(tmp_path / 'l3'))
    data_dir = str(tmp_path / 'hosts')
    # (the lab locks' directory, /run/nsfd-labs, may stay)
    before = (sorted(ip_netns_list()), sorted(set(os.listdir('/run')) - {'nsfd-labs'}))
    with pytest.raises(NamespaceError) as exc:
        engine.converge(hostspec.build(name='deep', data_dir=data_dir))
    text = str(exc.value)
    assert 'copy-on-write /etc' in text and 'stacks at most two overlayfs levels' in text, text
    assert 'root:' in text, text
    assert (sorted(ip_netns_list()), sorted(set(os.listdir('/run')) - {'nsfd-labs'})) == before
    assert not [m for m in mountinfo.read() if m.mount_point.startswith('/run/')], 'a pin or mount was left'


def test_the_layers_of_an_overlay_are_read_from_its_options():
    assert mountinfo.overlay_layers('rw,lowerdir=/etc,upperdir=/run/.cow/etc/u,workdir=/run/.cow/etc/w') == (
        ['/etc'],
        '/run/.cow/etc/u',
    )
    # mountinfo's octal escapes, then overlayfs's backslash escapes of ':' and ','
    assert mountinfo.overlay_layers(r'rw,lowerdir=/a\134:b:/c\134,d:/e\040f,upperdir=/u\134,v,workdir=/w') == (
        ['/a:b', '/c,d', '/e f'],
        '/u,v',
    )


def test_the_overlay_that_shows_is_the_one_no_other_sits_on():
    # two sandboxes' overlays stacked on /etc, listed in either order
    text = (
        '330 308 0:53 / /etc rw - overlay overlay rw,lowerdir=/etc,upperdir=/run/.cow/etc/u\n'
        '337 330 0:62 / /etc rw - overlay overlay rw,lowerdir=/etc,upperdir=/run/.sandbox/etc/upper\n'
    )
    for lines in (text, '\n'.join(reversed(text.splitlines()))):
        top = cow.top_mount('/etc', mountinfo.parse(lines))
        assert top.mount_id == 337 and mountinfo.overlay_layers(top.super_options)[1] == '/run/.sandbox/etc/upper'
    assert cow.top_mount('/var', mountinfo.parse(text)) is None
