"""PostgreSQL restarted in the middle of a load on `shingi serve`: no request answers 500 or hangs past its
timeout (while the database is away, a 503 with Retry-After), every request answered 2xx is in the
database afterwards, and the service works again by itself within seconds.

The server restarted is a cluster of this test's own (initdb into a temporary folder), never the one the
rest of the suite shares."""

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from shingi import migrations
from tests.helpers.net import free_port, serving
from tests.helpers.people import SYSTEM
from workflow import accounts
from workflow.clock import SystemClock
from workflow.db import Database
from workflow.models import Assessment
from workflow.organisations import EVERY_ORGANISATION

PG_BIN = Path("/usr/lib/postgresql") / max(os.listdir("/usr/lib/postgresql"), key=int) / "bin"
NEW_CASE = {"title": "再起動の確認", "office": "市民課", "target_count": 400_000, "handler_count": 10,
            "serious_incident": False}


class Cluster:
    """A PostgreSQL cluster in a temporary folder, run as the `postgres` user when the tests run as root."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="shingi-pg-"))
        self.data, self.port = self.root / "data", free_port()
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(PG_BIN / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.root / "log"),
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", action, *extra)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")  # every connection is cut, as a failover or a restart does

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster():
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.remove()


@pytest.fixture
def served(cluster, tmp_path):
    db = Database(cluster.url)
    migrations.upgrade(db)
    clock = SystemClock()
    accounts.add_user(db, clock, accounts.NewUser(email="restart@example.jp", display_name="事務局",
                                                  roles={"secretariat"}), SYSTEM)
    token = accounts.create_token(db, clock, "restart@example.jp", SYSTEM, name="tests",
                                  lifetime=timedelta(days=1)).token
    env = {"SHINGI_DATABASE_URL": cluster.url, "SHINGI_FILES_DIR": str(tmp_path / "files"),
           "SHINGI_DATABASE_POOL_TIMEOUT_SECONDS": "5", "SHINGI_DATABASE_CONNECT_TIMEOUT_SECONDS": "2"}
    try:
        with serving(env) as (_process, base):
            yield base, {"Authorization": f"Bearer {token}"}, db
    finally:
        db.dispose()


def test_a_database_restart_mid_load_loses_nothing_and_heals_by_itself(cluster, served):
    base, headers, db = served
    answers: list[tuple[float, int, int | None]] = []  # (when, status, case id)
    lock, stop = threading.Lock(), threading.Event()
    hung: list[str] = []

    def load() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=15) as client:
            while not stop.is_set():
                try:
                    response = client.post("/api/assessments", json=NEW_CASE)
                except httpx.TimeoutException as error:
                    hung.append(repr(error))
                    continue
                case_id = response.json()["id"] if response.status_code == 201 else None
                with lock:
                    answers.append((time.monotonic(), response.status_code, case_id))
                if response.status_code == 503:
                    time.sleep(0.1)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    cluster.restart()
    back = time.monotonic()
    time.sleep(4.0)
    stop.set()
    for thread in threads:
        thread.join(30)

    statuses = {status for _, status, _ in answers}
    assert statuses <= {201, 503}, sorted(statuses)  # never a 500
    assert not hung, hung
    recovered = [when for when, status, _ in answers if status == 201 and when > back]
    assert recovered and recovered[0] - back < 3.0, "the service did not work again within 3 s of the restart"
    created = {case_id for _, status, case_id in answers if status == 201}
    with db.reading(EVERY_ORGANISATION) as session:
        stored = set(session.exec(select(Assessment.id)).all())
    assert created <= stored and len(created) >= 10
