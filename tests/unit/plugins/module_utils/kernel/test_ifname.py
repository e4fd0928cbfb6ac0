"""The one interface-name rule, against the kernel itself: what it accepts the kernel takes, and what it
refuses for the kernel's own reasons the kernel refuses too (a veth pair in the test's sandbox)."""

import subprocess

import pytest

from ansible_collections.nsfd.namespaces.plugins.module_utils.kernel import ifname

KERNEL_REFUSES = ['a' * 16, 'a/b', 'a:b', 'a b', 'a\tb', '.', '..', '']
WE_REFUSE_TOO = ['all', 'default', 'e\x1b0', 'e\u20280']
ACCEPTED = ['eth0', 'a' * 15, 'v-1.2_x@y', 'ünï', '-lead', '123']


def _kernel_takes(name):
    proc = subprocess.run(
        ['ip', 'link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', 'nsfd-peer0'],
        capture_output=True,
        check=False,
    )
    if proc.returncode == 0:
        subprocess.run(['ip', 'link', 'del', 'dev', name], check=True)
    return proc.returncode == 0


@pytest.mark.parametrize('name', ACCEPTED)
def test_a_name_the_rule_accepts_the_kernel_takes(name):
    assert ifname.problem(name) is None
    assert _kernel_takes(name)


@pytest.mark.parametrize('name', KERNEL_REFUSES)
def test_a_name_the_kernel_refuses_the_rule_refuses_saying_why(name):
    assert ifname.problem(name)
    assert not _kernel_takes(name)


@pytest.mark.parametrize('name', WE_REFUSE_TOO + [None, 5])
def test_names_of_proc_sys_control_characters_and_non_strings_are_refused(name):
    assert ifname.problem(name)
