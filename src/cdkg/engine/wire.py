"""The wire between the server and an engine child: length-prefixed frames over a Unix socket,
a query request in one frame, and an answer or an error in one or two."""

from __future__ import annotations

import json
import socket
import struct
import time
from dataclasses import asdict
from typing import Any

from cdkg import errors
from cdkg.engine.evaluate import Answer, QueryRequest
from cdkg.errors import CdkgError, InternalError

#: A frame's length prefix: an unsigned 32-bit integer in network byte order.
_LENGTH = struct.Struct("!I")


def frame(payload: bytes) -> bytes:
    return _LENGTH.pack(len(payload)) + payload


def read_frame(sock: socket.socket) -> bytes:
    (length,) = _LENGTH.unpack(_read_exactly(sock, _LENGTH.size))
    return _read_exactly(sock, length)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        chunk = sock.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("the engine process closed the connection")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def request_frame(request: QueryRequest, deadline: float) -> bytes:
    """The request, and how long it may run (a duration: the two processes share no clock)."""
    payload = {**asdict(request), "remaining": max(deadline - time.monotonic(), 0.0)}
    return frame(json.dumps(payload).encode())


def parse_request(frame: bytes) -> tuple[QueryRequest, float]:
    payload = json.loads(frame)
    remaining = float(payload.pop("remaining"))
    for key in ("default_graphs", "named_graphs"):
        payload[key] = tuple(payload[key])
    return QueryRequest(**payload), time.monotonic() + remaining


def error_json(err: CdkgError) -> dict[str, Any]:
    body: dict[str, Any] = err.to_json()["error"]
    return body


def error_from(body: dict[str, Any]) -> CdkgError:
    """An engine child's error, raised again in the server as the same kind."""
    kind = getattr(errors, str(body.get("type")), None)
    if not (isinstance(kind, type) and issubclass(kind, CdkgError)):
        kind = InternalError
    if kind is errors.QuerySyntaxError:
        message = str(body["message"]).split(": ", 1)[-1]
        return errors.QuerySyntaxError(
            message, line=int(body["line"]), column=int(body["column"]), hint=body.get("hint")
        )
    if kind is errors.LoadError:
        kind = InternalError
    err = kind.__new__(kind)
    CdkgError.__init__(err, str(body["message"]), hint=body.get("hint"), spec=body.get("spec"))
    return err


def answer_frames(found: Answer) -> bytes:
    """An answer: its header (media type, rows, truncated) as JSON, then its body."""
    header = {k: v for k, v in asdict(found).items() if k != "body"}
    return frame(json.dumps(header).encode()) + frame(found.body)


def error_frame(err: CdkgError) -> bytes:
    return frame(json.dumps({"error": error_json(err)}).encode())
