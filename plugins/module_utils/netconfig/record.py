# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The record of which network namespaces a caller (the netns role) manages
on a host, so that pruning removes what it created and nothing else.

A JSON file {"namespaces": [names], "files": {name: [paths]}, "services":
[{name, namespace, ...}], "links": {name: [{name, kind, segment, vni}]}} on
persistent storage: /run is wiped by a reboot, the record must not be.
"files" lists the /etc/netns/NAME/ files the declarations wrote (relative
paths), so that removing NAME removes them too; "services" the systemd
services placed in the namespaces (a drop-in each), so that a service no
longer declared is taken out again; "links" the links declared for a fleet
segment (a bridge and a vxlan each), so that once the segment, or its id,
no longer declares them they are deleted even without purge (a stale vxlan
keeps flooding the old peers, a stale bridge keeps a route to the subnet).
All three are left out while empty.

The record is an intent log. Before a run touches anything it records every
name it may create (intent()); names leave it only once they are gone
(after()). A run killed at any point thus leaves a record that lists at
least every namespace and file that exists because of it.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from ansible_collections.nsfd.namespaces.plugins.module_utils import fileio
from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import name_problem


if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping
    from typing import Any

    # {name, kind, segment[, vni]}: a link made for a segment (segment_entry)
    LinkEntry = dict[str, Any]
    # {name, namespace, restart, writable_etc, bind_etc}: a service as recorded
    Service = dict[str, Any]


SERVICE_FLAGS = ('restart', 'writable_etc', 'bind_etc')


LINK_ENTRY_KEYS = ('name', 'kind', 'segment', 'vni')


class Record:
    def __init__(
        self,
        names: Iterable[str] = (),
        files: Mapping[str, Iterable[str]] | None = None,
        services: Iterable[Service] = (),
        links: Mapping[str, Iterable[LinkEntry]] | None = None,
    ) -> None:
        self.names = set(names)
        self.files = dict((n, set(f)) for n, f in (files or {}).items() if f and n in self.names)
        self.services = list(services)
        # {namespace: [link entries]}, each entry once, in a stable order
        self.links = dict((n, _unique(entries)) for n, entries in (links or {}).items() if entries and n in self.names)

    def managed(self) -> list[str]:
        return sorted(self.names)

    def with_services(self, services: Iterable[Service]) -> Record:
        return Record(self.names, self.files, services, self.links)

    def with_links(self, links: Mapping[str, Iterable[LinkEntry]]) -> Record:
        return Record(self.names, self.files, self.services, links)

    def content(self) -> str:
        data: dict[str, Any] = {'namespaces': self.managed()}
        if self.files:
            data['files'] = dict((n, sorted(f)) for n, f in sorted(self.files.items()))
        if self.services:
            data['services'] = self.services
        if self.links:
            data['links'] = dict(sorted(self.links.items()))
        return json.dumps(data, indent=2, sort_keys=True) + '\n'


def _unique(entries: Iterable[LinkEntry]) -> list[LinkEntry]:
    found: list[LinkEntry] = []
    for entry in entries:
        if entry not in found:
            found.append(entry)
    return sorted(found, key=lambda e: (e['segment'], e['name']))


def segment_entry(link: dict[str, Any]) -> LinkEntry:
    """What the record keeps of a link declared for a segment: enough to
    tell later that an existing link is the one made (its kind, a vxlan's VNI)."""
    entry = {'name': link['name'], 'kind': link['kind'], 'segment': link['segment']}
    if link['vxlan'] is not None:
        entry['vni'] = link['vxlan']['vni']
    return entry


def declared_links(declared: Iterable[dict[str, Any]]) -> dict[str, list[LinkEntry]]:
    """{namespace: entries} of the links the namespaces declared present
    declare for a segment."""
    found: dict[str, list[LinkEntry]] = {}
    for decl in declared:
        entries = [segment_entry(link) for link in decl['links'] if link['segment'] is not None]
        if decl['state'] != 'absent' and entries:
            found[decl['name']] = entries
    return found


def stale_links(
    recorded: Record, declared: list[dict[str, Any]], leaving: Iterable[str] = ()
) -> dict[str, list[LinkEntry]]:
    """{namespace: entries} of the recorded segment links no longer declared
    as they were (another segment, kind or VNI under that name counts as not
    declared), in the namespaces still there: declared present, or not
    declared at all (a removed segment's namespace without prune). A
    namespace declared absent or pruned (leaving) goes with all its links."""
    wanted = declared_links(declared)
    absent = set(d['name'] for d in declared if d['state'] == 'absent') | set(leaving)
    stale: dict[str, list[LinkEntry]] = {}
    for name, entries in recorded.links.items():
        left = [e for e in entries if e not in wanted.get(name, [])]
        if left and name not in absent:
            stale[name] = left
    return stale


def links_after(
    intended: Record, declared: Iterable[dict[str, Any]], failed: Collection[str]
) -> dict[str, list[LinkEntry]]:
    """The segment links to record after a run: those declared, and those of
    a namespace whose run failed (their deletion may not have happened)."""
    wanted = declared_links(declared)
    return dict(
        (name, entries if name in failed else [e for e in entries if e in wanted.get(name, [])])
        for name, entries in intended.links.items()
    )


def _parse_services(services: Any) -> list[Service]:
    if not isinstance(services, list):
        raise ValueError('services is not a list')
    for service in services:
        if (
            not isinstance(service, dict)
            or not isinstance(service.get('name'), str)
            or not isinstance(service.get('namespace'), str)
            or not set(service) <= set(('name', 'namespace') + SERVICE_FLAGS)
            or not all(isinstance(service[flag], bool) for flag in SERVICE_FLAGS if flag in service)
        ):
            raise ValueError(
                f'services holds {service!r}, not {{name, namespace}} with boolean {", ".join(SERVICE_FLAGS)}'
            )
    return services


def _relative(rel: str) -> bool:
    norm = os.path.normpath(rel)
    return norm == rel and not os.path.isabs(rel) and rel != '.' and not rel.startswith('..')


def _parse(text: str) -> Record:
    data = json.loads(text)
    names = data['namespaces']
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError('namespaces is not a list of names')
    for name in names:
        # a record is data on disk: a name in it must be as safe as a declared one before prune acts on it
        problem = name_problem(name)
        if problem:
            raise ValueError(f'namespaces holds {name!r}, which {problem}')
    files = data.get('files', {})
    if not isinstance(files, dict):
        raise ValueError('files is not an object')
    for name, paths in files.items():
        if not isinstance(paths, list):
            raise ValueError(f'files[{name!r}] is not a list of paths')
        for rel in paths:
            if not isinstance(rel, str) or not _relative(rel):
                raise ValueError(
                    f'files[{name!r}] holds {rel!r}, not a normalised relative path inside /etc/netns/{name}'
                )
    return Record(names, files, _parse_services(data.get('services', [])), _parse_links(data.get('links', {}), names))


def _parse_links(links: Any, names: Collection[str]) -> dict[str, list[LinkEntry]]:
    if not isinstance(links, dict):
        raise ValueError('links is not an object')
    for name, entries in links.items():
        if name not in names or not isinstance(entries, list):
            raise ValueError(f'links[{name!r}] is not a list of links of a recorded namespace')
        for entry in entries:
            # a recorded link may be deleted without purge: it must be as well-formed as a declared one
            if (
                not isinstance(entry, dict)
                or not set(('name', 'kind', 'segment')) <= set(entry)
                or not set(entry) <= set(LINK_ENTRY_KEYS)
                or not all(
                    isinstance(entry[k], str) and not name_problem(entry[k]) for k in ('name', 'kind', 'segment')
                )
                or 'vni' in entry
                and (isinstance(entry['vni'], bool) or not isinstance(entry['vni'], int))
            ):
                raise ValueError(f'links[{name!r}] holds {entry!r}, not {{name, kind, segment[, vni]}}')
    return links


def read(path: str) -> Record:
    """The Record at path (empty when there is no record yet)."""
    text = fileio.read_text(path)
    if text is None:
        return Record()
    try:
        return _parse(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NamespaceError(
            f'the record {path} is not {{"namespaces": [names], "files": {{name: [paths]}}, "services": '
            f'[services], "links": {{name: [links]}}}}: {exc}',
            path=path,
            hint='Fix or remove the file; without it, nothing is pruned.',
        )


def to_prune(recorded: Record, declared: Iterable[dict[str, Any]]) -> list[str]:
    """Recorded names no longer declared at all (neither present nor absent)."""
    named = set(d['name'] for d in declared)
    return sorted(recorded.names - named)


def declared_services(declared: Iterable[dict[str, Any]]) -> list[Service]:
    """The services of the namespaces declared present, as the record holds them."""
    return [
        dict(service, namespace=decl['name'])
        for decl in declared
        if decl['state'] != 'absent'
        for service in decl['services']
    ]


def undeclared_services(recorded: Record, declared: Iterable[dict[str, Any]]) -> list[Service]:
    """Recorded services no longer declared in any namespace (to be taken out)."""
    names = set(service['name'] for service in declared_services(declared))
    return [service for service in recorded.services if service['name'] not in names]


def intent(recorded: Record, declared: list[dict[str, Any]]) -> Record:
    """What to record before acting: every recorded name, file and service,
    plus the namespaces, files and services declared present."""
    names = set(recorded.names)
    files = dict((n, set(f)) for n, f in recorded.files.items())
    for decl in declared:
        if decl['state'] != 'absent':
            names.add(decl['name'])
            files.setdefault(decl['name'], set()).update(decl['files'])
    links = dict((n, list(e)) for n, e in recorded.links.items())
    for name, entries in declared_links(declared).items():
        links[name] = links.get(name, []) + entries
    return Record(names, files, declared_services(declared) + undeclared_services(recorded, declared), links)


def after(intended: Record, gone: Iterable[str], exists: Callable[[str, str], bool]) -> Record:
    """What the record holds after a run: the intent, less the names now
    gone and the files no longer on disk (exists(name, rel) says)."""
    names = intended.names - set(gone)
    files = dict((n, set(r for r in f if exists(n, r))) for n, f in intended.files.items() if n in names)
    return Record(names, files, intended.services, intended.links)


def write(path: str, record: Record, check_mode: bool = False) -> bool:
    """Write the record when it differs; True when it did (or would)."""
    content = record.content()
    if not check_mode:
        _remove_leftovers(path)
    if fileio.read_text(path) == content:
        return False
    if not check_mode:
        fileio.write_atomically(path, content)
    return True


def _remove_leftovers(path: str) -> None:
    """Temporary files of a write killed before its rename. Only a run
    holding the host lock writes the record, so none is in use now."""
    directory, base = os.path.split(path)
    try:
        entries = os.listdir(directory or '.')
    except OSError:
        return
    for entry in entries:
        if entry.startswith(f'.{base}.'):
            fileio.remove(os.path.join(directory, entry))
