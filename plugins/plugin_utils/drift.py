# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet drift report: what the netns role's converge, run in check
mode, would change on each host, as data a CI job gates on and as a table a
person reads (the nsfd.namespaces.drift_report playbook, through the
netns_drift and netns_drift_table filters).

The input is each host's registered netns_config result (the role's
netns_result): namespaces[].details (kind, object, before, after) beside
namespaces[].changes, services[].changes and boot.changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import TypedDict

    class Row(TypedDict):
        """One change; the values are the module's, as registered."""

        host: str
        namespace: Any
        kind: Any
        object: Any
        before: Any
        after: Any
        change: Any

    class HostEntry(TypedDict):
        status: str
        changes: int
        msg: str

    class Report(TypedDict):
        drift: bool
        errors: bool
        count: int
        hosts: dict[str, HostEntry]
        changes: list[Row]


IN_SYNC, DRIFT, FAILED, SKIPPED, NO_RESULT = 'in sync', 'drift', 'failed', 'skipped', 'no result'
ERRORS = (FAILED, SKIPPED, NO_RESULT)
COLUMNS = ('HOST', 'NAMESPACE', 'KIND', 'OBJECT', 'BEFORE', 'AFTER')
WIDEST = 48  # a cell longer than this is cut, with '...'


def _row(host: str, namespace: Any, text: Any, detail: object) -> Row:
    detail = detail if isinstance(detail, dict) else {}
    return {
        'host': host,
        'namespace': namespace,
        'kind': detail.get('kind') or 'change',
        'object': detail.get('object') or '',
        'before': detail.get('before'),
        'after': detail.get('after'),
        'change': text,
    }


def _host_rows(host: str, result: Mapping[str, Any]) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    problems: list[str] = []
    for namespace in result.get('namespaces') or []:
        changes = namespace.get('changes') or []
        details = namespace.get('details') or []
        for index, text in enumerate(changes):
            rows.append(_row(host, namespace.get('name'), text, details[index] if index < len(details) else None))
        if namespace.get('failed'):
            problems.append(f"namespace '{namespace.get('name')}': {(namespace.get('msg') or 'failed')}")
    for service in result.get('services') or []:
        for text in service.get('changes') or []:
            rows.append(
                _row(
                    host,
                    service.get('namespace'),
                    text,
                    {
                        'kind': 'service',
                        'object': service.get('unit'),
                        'before': None if service.get('state') == 'present' else 'placed',
                        'after': 'placed' if service.get('state') == 'present' else None,
                    },
                )
            )
        if service.get('failed'):
            problems.append(f'service {service.get("unit")}: {(service.get("msg") or "failed")}')
    for text in (result.get('boot') or {}).get('changes') or []:
        path = text.split()[-1] if text.split() and text.split()[-1].startswith('/') else ''
        rows.append(_row(host, '', text, {'kind': 'boot', 'object': path}))
    return rows, problems


def report(results: Iterable[tuple[str, Any]]) -> Report:
    """The report of results: [(host, its registered netns_config result, or None when it has none)].

    {'drift': any change, 'errors': any host without a full result, 'count': the number of changes,
     'hosts': {host: {'status', 'changes', 'msg'}}, 'changes': [{'host', 'namespace', 'kind', 'object', 'before',
     'after', 'change'}]}: one entry per change the role's converge would make, in the order it would make them.
    """
    hosts: dict[str, HostEntry] = {}
    changes: list[Row] = []
    for host, result in results:
        entry: HostEntry = {'status': IN_SYNC, 'changes': 0, 'msg': ''}
        hosts[host] = entry
        if not isinstance(result, dict) or not result:
            entry.update(
                {
                    'status': NO_RESULT,
                    'msg': 'netns_config did not run (the host is unreachable, or a task before it failed)',
                }
            )
            continue
        if result.get('skipped'):
            entry.update(
                {
                    'status': SKIPPED,
                    'msg': 'netns_config was skipped: '
                    f'{(result.get("skip_reason") or result.get("false_condition") or "its condition was false")}',
                }
            )
            continue
        rows, problems = _host_rows(host, result)
        changes.extend(rows)
        entry['changes'] = len(rows)
        if result.get('failed') or result.get('unreachable') or problems:
            entry.update({'status': FAILED, 'msg': '; '.join(problems) or result.get('msg') or 'failed'})
        elif rows:
            entry['status'] = DRIFT
    return {
        'drift': bool(changes),
        'errors': any(h['status'] in ERRORS for h in hosts.values()),
        'count': len(changes),
        'hosts': hosts,
        'changes': changes,
    }


def cell(value: object) -> str:
    """A before or after value as a table cell: '-' for absent, a mapping as 'key value, ...', cut when long."""
    if value is None:
        text = '-'
    elif isinstance(value, dict):
        text = ', '.join(f'{key} {("-" if item is None else item)}' for key, item in value.items())
    elif isinstance(value, bool):
        text = 'yes' if value else 'no'
    else:
        text = str(value)
    text = text.replace('\n', '\\n')
    if len(text) > WIDEST:
        text = text[: WIDEST - 3] + '...'
    return text


def _plural(count: int, word: str) -> str:
    return f'{count} {word}{("" if count == 1 else "s")}'


def table(data: Mapping[str, Any]) -> str:
    """The report (as report() returns it) as text: the changes as a table, then a line per host."""
    rows = [list(COLUMNS)]
    for change in data.get('changes') or []:
        rows.append(
            [
                str(change.get('host') or ''),
                str(change.get('namespace') or '-'),
                str(change.get('kind') or ''),
                cell(change.get('object') or '') if change.get('object') else '-',
                cell(change.get('before')),
                cell(change.get('after')),
            ]
        )
    lines = []
    if len(rows) > 1:
        widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
        for row in rows:
            lines.append('  '.join(value.ljust(widths[column]) for column, value in enumerate(row)).rstrip())
        lines.append('')
    hosts = data.get('hosts') or {}
    for host, entry in hosts.items():
        status = entry.get('status')
        if status == DRIFT:
            words = f'{_plural(entry.get("changes", 0), "difference")} from the declaration'
        elif status == IN_SYNC:
            words = 'in sync with the declaration'
        else:
            words = f'{status.upper()}: {(entry.get("msg") or "")}'
        lines.append(f'{host}: {words}')
    if not hosts:
        lines.append('no host to report on')
    elif not data.get('drift') and not data.get('errors'):
        lines.append('no drift: every host is as its declaration says')
    else:
        differences = _plural(data.get('count', 0), 'difference')
        drifted = _plural(sum(1 for h in hosts.values() if h.get('status') == DRIFT), 'host')
        without = (
            f', {_plural(sum(1 for h in hosts.values() if h.get("status") in ERRORS), "host")} without a report'
            if data.get('errors')
            else ''
        )
        lines.append(f'{differences} on {drifted}{without}')
    return '\n'.join(lines)
