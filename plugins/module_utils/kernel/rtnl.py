# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A plain rtnetlink socket: requests, dumps and attribute parsing.

Reading what a namespace holds is the hot path of every rerun, and
pyroute2's general message decoder costs milliseconds per namespace; the
few fixed headers and attributes the state needs decode in microseconds
with struct. Changes still go through pyroute2.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from collections.abc import Iterator

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLA_TYPE_MASK = 0x3FFF  # drop NLA_F_NESTED / NLA_F_NET_BYTEORDER

HEADER = struct.Struct('=IHHII')
ATTR = struct.Struct('=HH')
_ERRNO = struct.Struct('=i')
_DUMP_RETRIES = 5


def attr(kind: int, fmt: str, value: int | bytes) -> bytes:
    """One netlink attribute with a struct-packed payload."""
    payload = struct.pack(fmt, value)
    return ATTR.pack(ATTR.size + len(payload), kind) + payload


def attributes(buf: bytes, offset: int, end: int) -> dict[int, bytes]:
    """{type: payload bytes} of the attributes in buf[offset:end]."""
    found: dict[int, bytes] = {}
    while offset + ATTR.size <= end:
        length, kind = ATTR.unpack_from(buf, offset)
        if length < ATTR.size:
            break
        start, stop = offset + ATTR.size, offset + length
        found[kind & NLA_TYPE_MASK] = buf[start:stop]
        offset += (length + 3) & ~3
    return found


@overload
def u32(payload: bytes) -> int: ...


@overload
def u32(payload: None) -> None: ...


def u32(payload: bytes | None) -> int | None:
    return struct.unpack_from('=I', payload)[0] if payload is not None else None


@overload
def text(payload: bytes) -> str: ...


@overload
def text(payload: None) -> None: ...


def text(payload: bytes | None) -> str | None:
    return payload.split(b'\0', 1)[0].decode('utf-8', 'replace') if payload is not None else None


class Socket:
    """A NETLINK_ROUTE socket in the network namespace of the calling
    thread at creation time (see netns_socket.rtnl_in for another one)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
        self._sock.bind((0, 0))
        self._seq = 0

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, msg_type: int, flags: int, body: bytes) -> int:
        self._seq += 1
        self._sock.send(HEADER.pack(HEADER.size + len(body), msg_type, flags, self._seq, 0) + body)
        return self._seq

    def _messages(self, seq: int) -> Iterator[tuple[int, int, bytes, int, int]]:
        """(type, flags, buffer, body offset, end) of each reply to seq,
        until the end of a dump or the single answer."""
        while True:
            buf = self._sock.recv(1 << 20)
            offset = 0
            while offset + HEADER.size <= len(buf):
                length, msg_type, flags, msg_seq = HEADER.unpack_from(buf, offset)[:4]
                if length < HEADER.size:
                    return
                end = offset + length
                if msg_seq == seq:
                    yield msg_type, flags, buf, offset + HEADER.size, end
                    if msg_type == NLMSG_DONE or not flags & NLM_F_MULTI:
                        return
                offset += (length + 3) & ~3

    def request(self, msg_type: int, body: bytes, flags: int = NLM_F_ACK) -> bytes | None:
        """Send one request; returns the payload of the answer (None for a
        plain ack). A kernel error is raised as OSError."""
        seq = self._send(msg_type, NLM_F_REQUEST | flags, body)
        for reply_type, _flags, buf, start, end in self._messages(seq):
            if reply_type == NLMSG_ERROR:
                code = -_ERRNO.unpack_from(buf, start)[0]
                if code:
                    raise OSError(code, f'netlink request {msg_type}: {os.strerror(code)}')
                return None
            return buf[start:end]
        return None

    def dump(self, msg_type: int, body: bytes) -> list[tuple[bytes, int, int]]:
        """[(buffer, body offset, end)] of every message of a dump. A dump
        the kernel marks as interrupted (the table changed meanwhile) is
        read again."""
        for _attempt in range(_DUMP_RETRIES):
            seq = self._send(msg_type, NLM_F_REQUEST | NLM_F_DUMP, body)
            found: list[tuple[bytes, int, int]] = []
            interrupted = False
            for reply_type, flags, buf, start, end in self._messages(seq):
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
                if reply_type == NLMSG_ERROR:
                    code = -_ERRNO.unpack_from(buf, start)[0]
                    raise OSError(code, f'netlink dump {msg_type}: {os.strerror(code)}')
                if reply_type != NLMSG_DONE:
                    found.append((buf, start, end))
            if not interrupted:
                return found
        raise OSError(errno.EAGAIN, f'netlink dump {msg_type} kept changing while read')
