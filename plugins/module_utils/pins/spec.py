# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A validated description of one named namespace (set) and its pins.

Everything a caller can get wrong is checked here, before anything is
looked at or changed.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.create import CreateOptions
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.names import (
    check_name,
    check_pin_dir,
    check_pin_path,
    check_types,
    unprintable,
)
from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import location

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.create import IdMap, TimeOffsets
    from ansible_collections.nsfd.namespaces.plugins.module_utils.pins.pinstate import PinLocation

HOST_NAME_MAX = 64
CLOCKS = ('monotonic', 'boottime')


# eq=False: build() sets given afterwards, and a spec stays compared and hashed by identity.
@dataclasses.dataclass(eq=False)
class Spec:
    name: str
    types: list[str]
    locations: dict[str, PinLocation]  # type -> PinLocation
    source_pid: int | None = None
    source_path: str | None = None
    force: bool = False
    options: CreateOptions = dataclasses.field(default_factory=CreateOptions)
    # The properties the caller asked to be checked on existing namespaces.
    wanted: dict[str, Any] = dataclasses.field(default_factory=dict)
    # The options that chose the pin paths, as the user wrote them, for errors.
    given: str = dataclasses.field(init=False, default='')

    def __post_init__(self) -> None:
        # None given for options or wanted means the defaults.
        self.options = self.options or CreateOptions()
        self.wanted = self.wanted or {}
        self.given = f'name={self.name!r}'

    @property
    def attach(self) -> bool:
        return self.source_pid is not None or self.source_path is not None


def parse_id_map(entries: Iterable[Any] | None, field: str) -> IdMap:
    """uid_map/gid_map entries: 'inside outside count' strings or dicts with
    those keys. Returns [(inside, outside, count)]."""
    result: IdMap = []
    for index, entry in enumerate(entries or []):
        where = f'{field}[{index}]'
        if isinstance(entry, dict):
            unknown = set(entry) - set(('inside', 'outside', 'count'))
            if unknown:
                raise NamespaceError(f'{where} has unknown keys {", ".join(sorted(unknown))}')
            values: list[Any] = [entry.get('inside'), entry.get('outside'), entry.get('count', 1)]
        elif isinstance(entry, str):
            values = entry.split()
        else:
            raise NamespaceError(f'{where} must be "inside outside count" or a dict')
        if any(isinstance(v, (bool, float)) for v in values):
            raise NamespaceError(f'{where} must hold three integers (inside outside count), not {entry!r}')
        try:
            values = [int(v) for v in values]
        except (TypeError, ValueError):
            raise NamespaceError(f'{where} must hold three integers (inside outside count), not {entry!r}')
        if len(values) != 3 or values[0] < 0 or values[1] < 0 or values[2] < 1:
            raise NamespaceError(f'{where} must be "inside outside count" with count >= 1, not {entry!r}')
        if values[0] + values[2] > 2**32 or values[1] + values[2] > 2**32:
            raise NamespaceError(f'{where} {entry!r} goes past the 32-bit id range')
        result.append(tuple(values))
    if len(result) > 340:
        raise NamespaceError(f'{field} has {len(result)} lines; the kernel takes at most 340')
    return result


def parse_offsets(offsets: dict[Any, Any] | None) -> TimeOffsets:
    """time_offsets: {clock: seconds (int, float or 'SECS NSECS')} ->
    {clock: (secs, nsecs)} with 0 <= nsecs < 1e9 as the kernel wants."""
    result: TimeOffsets = {}
    for clock, value in (offsets or {}).items():
        if clock not in CLOCKS:
            raise NamespaceError(f'time_offsets has unknown clock {clock!r}; use {" or ".join(CLOCKS)}')
        try:
            if isinstance(value, bool):
                raise TypeError('a boolean is not a number of seconds')
            if isinstance(value, str) and len(value.split()) == 2:
                secs, nsecs = (int(v) for v in value.split())
            else:
                total = round(float(value) * 1000000000)
                secs, nsecs = divmod(int(total), 1000000000)
        except (TypeError, ValueError, OverflowError):
            raise NamespaceError(f'time_offsets.{clock} must be a finite number of seconds, not {value!r}')
        if not 0 <= nsecs < 1000000000:
            raise NamespaceError(f'time_offsets.{clock} nanoseconds must be in [0, 999999999], not {value!r}')
        if abs(secs) > 2**62:
            raise NamespaceError(f'time_offsets.{clock} {value!r} is out of range for the kernel')
        result[clock] = (secs, nsecs)
    return result


def _check_host_field(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise NamespaceError(f'{field} must be a string, not {value!r}')
    if len(value.encode('utf-8')) > HOST_NAME_MAX:
        raise NamespaceError(f'{field} {value!r} is longer than {HOST_NAME_MAX} bytes')
    if unprintable(value):
        raise NamespaceError(f'{field} {value!r} must not contain NUL, newlines or other control characters')
    return value


def _needs(types: Sequence[str], nstype: str, field: str, value: Any) -> None:
    if value not in (None, [], {}) and nstype not in types:
        raise NamespaceError(f"{field} applies to {nstype} namespaces: add '{nstype}' to type")


def _check_location(
    name: str | None, types: Sequence[str], pin_dir: str | None, path: str | None
) -> tuple[str, str | None, str | None]:
    """The name and where its pins go: (name, pin_dir, path), checked."""
    if path is not None:
        path = check_pin_path(path)
        if len(types) != 1:
            raise NamespaceError(f'path names one pin, so it takes exactly one type, not {", ".join(types)}')
        if pin_dir is not None:
            raise NamespaceError('path and pin_dir are mutually exclusive')
        if name is None:
            name = os.path.basename(path)
    if name is None:
        raise NamespaceError('name is required (or path)')
    check_name(name)
    if pin_dir is not None:
        pin_dir = check_pin_dir(pin_dir)
        if len(types) != 1:
            raise NamespaceError(
                'pin_dir sets the directory of one type; with several types '
                f'({", ".join(types)}) each keeps its default directory',
                hint='Use one task per type to put pins in other directories.',
            )
    return name, pin_dir, path


def _check_source(types: Sequence[str], source_pid: int | None, source_path: str | None) -> str | None:
    """The namespace to attach to, if any: source_path, checked."""
    if source_pid is not None and source_path is not None:
        raise NamespaceError('source_pid and source_path are mutually exclusive')
    if source_pid is not None:
        if isinstance(source_pid, bool) or not isinstance(source_pid, int) or source_pid < 1:
            raise NamespaceError(f'source_pid must be a positive process id, not {source_pid!r}')
    if source_path is not None:
        source_path = check_pin_path(source_path, 'source_path')
        if len(types) != 1:
            raise NamespaceError('source_path names one namespace, so it takes exactly one type')
    return source_path


def _create_options(
    types: Sequence[str],
    attaching: bool,
    hostname: str | None,
    domainname: str | None,
    uid_map: list[Any] | None,
    gid_map: list[Any] | None,
    time_offsets: dict[Any, Any] | None,
) -> CreateOptions:
    _needs(types, 'uts', 'hostname', hostname)
    _needs(types, 'uts', 'domainname', domainname)
    _needs(types, 'user', 'uid_map', uid_map)
    _needs(types, 'user', 'gid_map', gid_map)
    _needs(types, 'time', 'time_offsets', time_offsets)
    if attaching and (uid_map or gid_map or time_offsets):
        raise NamespaceError(
            'uid_map, gid_map and time_offsets are fixed when a namespace is created; '
            'they cannot be given with source_pid or source_path'
        )
    return CreateOptions(
        hostname=_check_host_field(hostname, 'hostname'),
        domainname=_check_host_field(domainname, 'domainname'),
        uid_map=parse_id_map(uid_map, 'uid_map'),
        gid_map=parse_id_map(gid_map, 'gid_map'),
        time_offsets=parse_offsets(time_offsets),
    )


def _wanted(options: CreateOptions) -> dict[str, Any]:
    """The options as existing namespaces report them (lists, not tuples), only those given."""
    wanted: dict[str, Any] = {}
    for key in ('hostname', 'domainname'):
        if getattr(options, key) is not None:
            wanted[key] = getattr(options, key)
    for key in ('uid_map', 'gid_map'):
        if getattr(options, key):
            wanted[key] = [list(e) for e in getattr(options, key)]
    if options.time_offsets:
        wanted['time_offsets'] = dict((k, list(v)) for k, v in options.time_offsets.items())
    return wanted


def build(
    name: str | None = None,
    types: str | Sequence[str] = 'net',
    pin_dir: str | None = None,
    path: str | None = None,
    source_pid: int | None = None,
    source_path: str | None = None,
    force: bool = False,
    hostname: str | None = None,
    domainname: str | None = None,
    uid_map: list[Any] | None = None,
    gid_map: list[Any] | None = None,
    time_offsets: dict[Any, Any] | None = None,
) -> Spec:
    types = check_types(types)
    given_path, given_pin_dir = path, pin_dir
    name, pin_dir, path = _check_location(name, types, pin_dir, path)
    source_path = _check_source(types, source_pid, source_path)
    attaching = source_pid is not None or source_path is not None
    options = _create_options(types, attaching, hostname, domainname, uid_map, gid_map, time_offsets)
    locations = dict((t, location(name, t, pin_dir=pin_dir, path=path)) for t in types)
    result = Spec(
        name,
        types,
        locations,
        source_pid=source_pid,
        source_path=source_path,
        force=bool(force),
        options=options,
        wanted=_wanted(options),
    )
    if path is not None:
        result.given = f'path={given_path!r}'
    elif pin_dir is not None:
        result.given = f'name={name!r}, pin_dir={given_pin_dir!r}'
    return result
