# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files that rebuild declared network namespaces at boot, without Ansible.

/run is a tmpfs: a reboot removes every pin, so every namespace and the
links inside it. From netns_config's (validated) declarations this renders

- host.batch: `ip -batch` input that adds the namespaces, sets their nsids
  and creates the links that cross into them, with the host ends' settings;
- namespaces.sh: per namespace one `ip -n NAME -batch -` (lo, bridges,
  dummies, link settings, addresses, routes), then its sysctls; every
  namespace is attempted, the exit status says whether all succeeded;
- a oneshot systemd unit whose ExecStart lines run those two, enabled by
  symlinks (what `systemctl enable` does, also where systemd is not running).

iproute2 batch files split on blanks and treat `#` as a comment, and the
unit and the script are parsed by systemd and sh, so every name that goes
into them must be plain: checked before anything is written.
"""

import os
import re

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.boot.options import BootOptions  # noqa: F401 pylint: disable=unused-import
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2
    from pipes import quote

PLAIN = re.compile(r'^[A-Za-z0-9_.@+-]+$')
HEADER = '# Managed by nsfd.namespaces (netns_persist): changes here are overwritten.\n'
MAIN_TABLE = 254


def check_plain(decls):
    """Every namespace and interface name that goes into the boot files."""
    for index, decl in enumerate(decls):
        where = 'namespaces[%d]' % index
        names = [(where + '.name', decl['name'])]
        for i, link in enumerate(decl['links']):
            at = '%s.links[%d]' % (where, i)
            names += [(at + '.name', link['name']), (at + '.parent', link['parent']), (at + '.master', link['master'])]
            if link['peer']:
                names += [(at + '.peer.name', link['peer']['name']), (at + '.peer.master', link['peer']['master'])]
        for i, route in enumerate(decl['routes']):
            names.append(('%s.routes[%d].dev' % (where, i), route['dev']))
        for path, value in names:
            if value is not None and not PLAIN.match(value):
                raise NamespaceError('%s: %r cannot go into the boot files (iproute2 batch, sh, systemd): only letters, '
                                     'digits and _.@+- are allowed' % (path, value), name=decl['name'],
                                     hint='Rename it, or do not persist (netns_persist: false). Nothing was changed.')


def _end_lines(end, is_link):
    """Settings of one link end, already in the namespace being filled."""
    name = end['name']
    lines = []
    if end['mtu'] is not None:
        lines.append('link set dev %s mtu %d' % (name, end['mtu']))
    if is_link and end['address'] is not None:
        lines.append('link set dev %s address %s' % (name, end['address']))
    if end['master'] is not None:
        lines.append('link set dev %s master %s' % (name, end['master']))
    lines += ['addr add %s dev %s' % (address, name) for address in end['addresses']]
    lines.append('link set dev %s %s' % (name, end['state']))
    return lines


def host_batch(decls):
    lines = [HEADER.rstrip('\n'), '# ip -batch: the namespaces, their nsids, and the links that cross into them.']
    for decl in decls:
        lines.append('netns add %s' % decl['name'])
        if decl['nsid'] is not None:
            lines.append('netns set %s %d' % (decl['name'], decl['nsid']))
    for decl in decls:
        ns = decl['name']
        for link in decl['links']:
            kind, peer = link['kind'], link['peer']
            if kind == 'veth' and peer['netns']:
                lines.append('link add name %s netns %s type veth peer name %s netns %s'
                             % (link['name'], ns, peer['name'], peer['netns']))
            elif kind == 'veth':
                lines.append('link add name %s type veth peer name %s netns %s' % (peer['name'], link['name'], ns))
                lines += _end_lines(peer, is_link=False)
            elif kind == 'vlan':
                lines.append('link add link %s name %s netns %s type vlan id %d'
                             % (link['parent'], link['name'], ns, link['vlan_id']))
            elif kind in ('macvlan', 'ipvlan'):
                lines.append('link add link %s name %s netns %s type %s mode %s'
                             % (link['parent'], link['name'], ns, kind, link['mode']))
            elif kind == 'physical':
                lines.append('link set dev %s netns %s' % (link['parent'], ns))
    return '\n'.join(lines) + '\n'


def _route_line(route):
    parts = ['route replace', str(route['dst'])]
    if route['via'] is not None:
        parts.append('via %s' % route['via'])
    if route['dev'] is not None:
        parts.append('dev %s' % route['dev'])
    if route['src'] is not None:
        parts.append('src %s' % route['src'])
    if route['metric'] is not None:
        parts.append('metric %d' % route['metric'])
    if route['table'] != MAIN_TABLE:
        parts.append('table %d' % route['table'])
    parts.append('proto static')
    return ' '.join(parts)


def namespace_batch(decl, peers_here):
    """What `ip -n NAME -batch` runs to fill one namespace. peers_here are
    the veth ends that other namespaces' links put in this one."""
    lines = ['link set lo up'] if decl['loopback'] else []
    lines += ['link set dev %s name %s' % (l['parent'], l['name']) for l in decl['links'] if l['kind'] == 'physical']
    lines += ['link add %s type %s' % (l['name'], l['kind']) for l in decl['links'] if l['kind'] in ('bridge', 'dummy')]
    # bridges first, so that their ports can be attached
    for link in sorted(decl['links'], key=lambda l: l['kind'] != 'bridge'):
        lines += _end_lines(link, is_link=True)
    for peer in peers_here:
        lines += _end_lines(peer, is_link=False)
    lines += [_route_line(route) for route in decl['routes']]
    return '\n'.join(lines) + '\n'


def namespaces_script(decls, options):
    peers_in = {}
    for decl in decls:
        for link in decl['links']:
            if link['peer'] and link['peer']['netns']:
                peers_in.setdefault(link['peer']['netns'], []).append(link['peer'])
    out = ['#!/bin/sh', HEADER.rstrip('\n'),
           '# Fills each declared network namespace (links, addresses, routes, sysctls),',
           '# after `ip -batch %s` created them. Every namespace is' % os.path.join(options.boot_dir, 'host.batch'),
           '# attempted even when an earlier one fails; the exit status says whether all did.',
           'ip=%s' % quote(options.ip_command), 'sysctl=%s' % quote(options.sysctl_command), 'rc=0']
    for decl in decls:
        name = decl['name']
        out += ['', '# namespace %s' % name,
                '"$ip" -n %s -batch - <<\'NSFD_NETNS_BATCH\' || rc=1' % quote(name),
                namespace_batch(decl, peers_in.get(name, [])).rstrip('\n'), 'NSFD_NETNS_BATCH']
        for path, value in sorted(decl['sysctls'].items()):
            # sysctl(8) takes the /-separated form, so keys of links with dots work
            key = path[len('/proc/sys/'):]
            out.append('"$ip" netns exec %s "$sysctl" -q -w %s || rc=1' % (quote(name), quote('%s=%s' % (key, value))))
    out.append('exit $rc')
    return '\n'.join(out) + '\n'


def unit(options):
    return '\n'.join([
        HEADER.rstrip('\n'),
        '# Rebuilds the network namespaces declared for this host at boot, without',
        '# Ansible. The ExecStart lines can be run by hand, in order.',
        '[Unit]',
        'Description=Network namespaces declared with nsfd.namespaces',
        'DefaultDependencies=no',
        'After=local-fs.target',
        'Before=network-pre.target network-online.target',
        'Wants=network-pre.target',
        '',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=%s -batch %s' % (options.ip_command, os.path.join(options.boot_dir, 'host.batch')),
        'ExecStart=/bin/sh %s' % os.path.join(options.boot_dir, 'namespaces.sh'),
        '',
        '[Install]',
        'WantedBy=%s' % ' '.join(options.wanted_by),
    ]) + '\n'


def render(decls, options):
    """{path: (content, mode)} of every boot file for the present namespaces."""
    present = [d for d in decls if d['state'] == 'present']
    check_plain(present)
    return {
        os.path.join(options.boot_dir, 'host.batch'): (host_batch(present), 0o644),
        os.path.join(options.boot_dir, 'namespaces.sh'): (namespaces_script(present, options), 0o755),
        options.unit_path: (unit(options), 0o644),
    }


class Change(object):
    def __init__(self, text, path, before=None, after=None):
        self.text = text
        self.path = path
        self.before = before
        self.after = after


def _file_mode(path):
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def _written_by_us(path):
    """A file at path that this collection did not write (a package's unit of
    the same name, an admin's file) is neither overwritten nor removed."""
    if not os.path.lexists(path):
        return True
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    return HEADER.rstrip('\n') in (fileio.read_text(path) or '').splitlines()[:2]


def _refuse_foreign(paths):
    for path in paths:
        if not _written_by_us(path):
            raise NamespaceError('%s exists and was not written by nsfd.namespaces (its first lines lack %r): it is '
                                 'neither overwritten nor removed' % (path, HEADER.rstrip('\n')), path=path,
                                 hint='Choose another unit_name or boot_dir, or move that file away. Nothing was changed.')


def _managed_files(options):
    return [options.boot_file('host.batch'), options.boot_file('namespaces.sh'), options.unit_path]


def ensure_present(decls, options, check_mode=False):
    """Write what differs, enable the unit. Returns [Change]."""
    rendered = render(decls, options)
    _refuse_foreign(_managed_files(options))
    for link in options.wants_links():
        if os.path.lexists(link) and not os.path.islink(link):
            raise NamespaceError('%s is not a symlink: it is not replaced' % link, path=link,
                                 hint='Move it away. Nothing was changed.')
    changes = []
    for path, (content, mode) in sorted(rendered.items()):
        before = fileio.read_text(path)
        if before != content:
            changes.append(Change('%s %s' % ('write' if before is None else 'update', path), path, before, content))
            if not check_mode:
                fileio.write_atomically(path, content, mode)
        elif _file_mode(path) != mode:
            changes.append(Change('set mode of %s to %04o' % (path, mode), path))
            if not check_mode:
                os.chmod(path, mode)
    for link in options.wants_links():
        if os.path.islink(link) and os.readlink(link) == options.unit_path:
            continue
        changes.append(Change('enable %s: link %s' % (options.unit_name, link), link))
        if not check_mode:
            if not os.path.isdir(os.path.dirname(link)):
                os.makedirs(os.path.dirname(link), 0o755)
            fileio.remove(link)
            os.symlink(options.unit_path, link)
    return changes


def ensure_absent(options, check_mode=False):
    """Disable and remove the unit and the boot files. Returns [Change]."""
    files = _managed_files(options)
    _refuse_foreign(files)
    # only the links that enable this very unit file
    links = [link for link in options.wants_links() if os.path.islink(link) and os.readlink(link) == options.unit_path]
    changes = []
    for path in links + files:
        if os.path.lexists(path):
            changes.append(Change('remove %s' % path, path, fileio.read_text(path) if not os.path.islink(path) else None, ''))
            if not check_mode:
                fileio.remove(path)
    if os.path.isdir(options.boot_dir) and not [n for n in os.listdir(options.boot_dir)
                                                if os.path.join(options.boot_dir, n) not in files]:
        changes.append(Change('remove directory %s' % options.boot_dir, options.boot_dir))
        if not check_mode:
            os.rmdir(options.boot_dir)
    return changes
