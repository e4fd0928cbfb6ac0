"""The machine-wide CPU counters of /proc/stat, in seconds, for the
harness (is the machine idle?) and the contenders (how much CPU did the
hypervisor steal during a run?)."""

import os

FIELDS = ('user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal')


def cpu_seconds():
    """{field: seconds} summed over all CPUs since boot."""
    with open('/proc/stat') as handle:
        ticks = handle.readline().split()[1 : 1 + len(FIELDS)]
    hertz = float(os.sysconf('SC_CLK_TCK'))
    return dict((name, int(value) / hertz) for name, value in zip(FIELDS, ticks))
