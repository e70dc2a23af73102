"""`shingi serve --workers 2` as real processes over real HTTP: two web processes behind one port, the
scheduler once (in the parent), a graceful stop on SIGINT; on the suite's database."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from notifications.models import Heartbeat
from tests.helpers.net import free_port
from workflow.organisations import EVERY_ORGANISATION


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's pid follows the state
            found.append(int(stat.parent.name))
    return found


def _web_processes(pid: int) -> list[int]:
    """uvicorn's spawned web processes (multiprocessing's resource tracker is a child too, but no server)."""
    web = []
    for child in _children(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            web.append(child)
    return web


@pytest.fixture
def two_workers(db):
    port = free_port()
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url, "SHINGI_PORT": str(port), "SHINGI_SWEEP_INTERVAL_SECONDS": "0.5"}
    process = subprocess.Popen([sys.executable, "-m", "shingi.cli", "serve", "--workers", "2"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"shingi serve exited: {process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200 and len(_web_processes(process.pid)) == 2:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("shingi serve --workers 2 did not answer with two web processes within 120 s")
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_two_web_processes_one_scheduler_and_a_graceful_stop(two_workers, db):
    process, base = two_workers
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: httpx.get(f"{base}/api/assessments", timeout=30).status_code, range(40)))
    assert answers == [200] * 40

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.reading(EVERY_ORGANISATION) as session:
            instances = session.exec(select(Heartbeat.instance)).all()
        if instances:
            break
        time.sleep(0.2)
    time.sleep(2)  # a few more sweeps: a web process that swept too would have beaten by now
    with db.reading(EVERY_ORGANISATION) as session:
        instances = session.exec(select(Heartbeat.instance)).all()
    assert [instance.rsplit(":", 1)[1] for instance in instances] == [str(process.pid)]

    process.send_signal(signal.SIGINT)
    assert process.wait(30) == 0
    assert _web_processes(process.pid) == []
