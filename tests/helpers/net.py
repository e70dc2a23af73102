"""The local network: a free TCP port on 127.0.0.1 (for servers started by tests)."""

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
