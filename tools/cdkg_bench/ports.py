"""A free TCP port on the loopback interface (standard library only)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that nothing listens on at the moment of the call, on 127.0.0.1: the system picks
    it. Another process may take it before the caller binds it; the callers start a server on it
    at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
