from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import mountinfo

SAMPLE = (
    '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n'
    '30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw\n'
    '31 30 0:25 /netns /run/netns rw shared:6 - tmpfs tmpfs rw\n'
    '40 31 0:4 net:[4026532281] /run/netns/blue rw shared:6 - nsfs nsfs rw\n'
    '41 30 0:4 mnt:[4026532300] /run/mntns/with\\040space rw unbindable - nsfs nsfs rw\n'
)


def test_parse_reads_mount_points_types_and_propagation():
    mounts = mountinfo.parse(SAMPLE)
    assert [m.mount_point for m in mounts] == ['/', '/run', '/run/netns', '/run/netns/blue', '/run/mntns/with space']
    assert mounts[3].fstype == 'nsfs' and mounts[3].root == 'net:[4026532281]'
    assert mounts[3].propagation == ['shared:6']
    assert mounts[4].propagation == ['unbindable']


def test_nsfs_mounts_and_mount_points():
    mounts = mountinfo.parse(SAMPLE)
    assert [m.mount_point for m in mountinfo.nsfs_mounts(mounts)] == ['/run/netns/blue', '/run/mntns/with space']
    assert mountinfo.is_mount_point('/run/netns', mounts)
    assert not mountinfo.is_mount_point('/run/netns/red', mounts)


def test_the_live_table_has_a_root():
    assert any(m.mount_point == '/' for m in mountinfo.read())
