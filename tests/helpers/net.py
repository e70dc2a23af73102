"""The local network: a free TCP port on 127.0.0.1, and `shingi serve` started on one (for tests that
drive the service as a real process)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(env: Mapping[str, str], timeout: float = 120) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`shingi serve` with the environment's settings (over the test's own) on a free port, once it
    answers `GET /api/assessments`: the process and its base URL. Killed at the end if still running."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "shingi.cli", "serve"],
                               env={**os.environ, **env, "SHINGI_PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail("shingi serve exited before it answered")
            try:
                if httpx.get(f"{base}/api/assessments", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"shingi serve did not answer within {timeout:.0f} s")
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
