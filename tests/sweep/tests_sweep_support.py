"""Small helpers of the sweep tests."""

from __future__ import annotations

import socket


def free_port_closed() -> int:
    """A loopback port on which nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
