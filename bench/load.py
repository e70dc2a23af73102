"""Load and faults: a realistic mix on two web instances and two workers sharing one database, and what
the record keeps through a database restart, a killed web instance and a killed worker.

    .venv/bin/python bench/load.py [--scenario mix|restart-db|kill-web|kill-worker|soak|all]
                                   [--duration S] [--clients N] [--database-url URL]

The processes are the product's own (`shingi serve --port P` with SHINGI_SCHEDULER=false, `shingi
worker`), on 127.0.0.1. The load generator is client threads, each with one keep-alive connection per
instance, sending its requests to the instances in turn: 90 % reads (the case list, a case, the start
page, the findings paper), 10 % writes (an advance with the version last read, a finding raised).

Scenarios, each with the baseline it is compared with, measured in the same run:

* mix         — the mix for --duration (60 s); baseline: the same mix on one instance, no worker;
* restart-db  — PostgreSQL restarted a third of the way in (a private cluster, initdb in a temporary
                folder); no request hangs past its timeout, the service heals by itself (recovery time);
                baseline: the load before the restart;
* kill-web    — one web instance killed with SIGKILL a third of the way in; baseline: the load before;
* kill-worker — 10,000 reminders falling due over --duration (30 s), one of two workers killed with
                SIGKILL mid-delivery; baseline: the same reminders and workers, no kill;
* soak        — the mix for --duration (600 s): no error, resident memory of each process grows < 10 %
                from the end of the warm-up to the end; baseline: the first minute against the last.

After every load the record is checked: each write answered 2xx is stored, each case's history runs
1 … version and ends in its state, each act has its audit entry, and the audit chain verifies.

SQLite (no --database-url, or sqlite:///…) runs on a temporary file with one web instance and one
worker, the mix and the soak only. A PostgreSQL URL's server gets a database of this run's own,
dropped at the end; nothing else on it is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == BENCH_DIR:
    sys.path[0] = str(REPO)

import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from bench import reminders as reminder_bench  # noqa: E402
from notifications.models import Heartbeat, Notice, Reminder  # noqa: E402
from shingi import migrations  # noqa: E402
from workflow import accounts, audit, service  # noqa: E402
from workflow.clock import TOKYO, SystemClock  # noqa: E402
from workflow.db import Database, normalise_url  # noqa: E402
from workflow.engine import Workflows  # noqa: E402
from workflow.models import Assessment, AuditEntry, HistoryEntry  # noqa: E402
from workflow.organisations import EVERY_ORGANISATION  # noqa: E402
from workflow.policy import Role, system_actor  # noqa: E402
from workflow.records import Finding  # noqa: E402

HOST = "127.0.0.1"
SCENARIOS = ("mix", "restart-db", "kill-web", "kill-worker", "soak")
DEFAULT_SECONDS = {"mix": 60.0, "restart-db": 30.0, "kill-web": 30.0, "kill-worker": 30.0, "soak": 600.0}
POSTGRES_ONLY = {"restart-db", "kill-web", "kill-worker"}  # several instances on one database

#: The mix, by weight: 90 reads to 10 writes.
MIX = (("list", 30), ("case", 30), ("dashboard", 15), ("paper", 15), ("advance", 6), ("finding", 4))
KINDS = tuple(kind for kind, _ in MIX)
LAG_GOAL_SECONDS = 2.0
MEMORY_GOAL = 0.10
SYSTEM = system_actor("bench")


# --- processes -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def service_env(database_url: str, workdir: Path) -> dict[str, str]:
    """The settings every process of the run shares; none of the caller's own SHINGI_ settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SHINGI_") and k not in ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")}
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "SHINGI_DATABASE_URL": database_url, "SHINGI_FILES_DIR": str(workdir / "files"),
        "SHINGI_SCHEDULER": "false", "SHINGI_READY_REQUIRES_SCHEDULER": "true", "SHINGI_SMTP_HOST": "",
        # Four processes on one server: (size + overflow) × 4 stays well under max_connections.
        "SHINGI_DATABASE_POOL_SIZE": "4", "SHINGI_DATABASE_POOL_OVERFLOW": "4",
        # A database away answers 503 within seconds rather than holding the request for the defaults.
        "SHINGI_DATABASE_POOL_TIMEOUT_SECONDS": "5", "SHINGI_DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
    })
    return env


class Process:
    """One `shingi serve --port P` (web) or `shingi worker`, its output in a log file of the run's folder."""

    def __init__(self, role: str, number: int, database_url: str, workdir: Path):
        self.role, self.number = role, number
        self.port = free_port() if role == "web" else None
        self.name = f"{role} {number}"
        self.log_path = workdir / f"{role}-{number}.log"
        self.env = service_env(database_url, workdir)
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        command = [sys.executable, "-m", "shingi.cli", "serve", "--host", HOST, "--port", str(self.port)] \
            if self.role == "web" else [sys.executable, "-m", "shingi.cli", "worker"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command, cwd=self.log_path.parent, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def answers(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
        if self.role != "web":
            return True  # a worker shows itself by its heartbeat (wait_for)
        try:
            return httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def interrupt(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # a graceful stop, as an operator's would be

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.interrupt()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""


def start_all(processes: list[Process], db: Database, timeout: float = 120) -> None:
    """Start together (each pays its imports in parallel); ready when webs answer and workers have swept."""
    for process in processes:
        process.start()
    deadline = time.monotonic() + timeout
    waiting = list(processes)
    while waiting and time.monotonic() < deadline:
        beating = swept_by(db)
        waiting = [p for p in waiting if not p.answers() or (p.role == "worker" and p.pid not in beating)]
        time.sleep(0.2)
    if waiting:
        raise RuntimeError(f"{', '.join(p.name for p in waiting)} not ready within {timeout:.0f} s")


def swept_by(db: Database, since: datetime | None = None) -> set[int]:
    """The pids of the schedulers whose heartbeat is in the database (and later than `since`)."""
    with db.reading(EVERY_ORGANISATION) as session:
        beats = session.exec(select(Heartbeat.instance, Heartbeat.beat_at)).all()
    return {int(instance.rsplit(":", 1)[1]) for instance, beat_at in beats if since is None or beat_at > since}


def stop_all(processes: list[Process]) -> None:
    """All asked to stop at once (each takes a moment to finish its work), then waited for."""
    for process in processes:
        process.interrupt()
    for process in processes:
        process.stop()


class Cluster:
    """A PostgreSQL cluster of the run's own in a temporary folder, to restart without disturbing anyone
    (run as the `postgres` user when the bench runs as root)."""

    def __init__(self, workdir: Path) -> None:
        versions = Path("/usr/lib/postgresql")
        self.bin = versions / max(os.listdir(versions), key=int) / "bin"
        self.root = workdir / "cluster"
        self.root.mkdir()
        self.data, self.port = self.root / "data", free_port()
        workdir.chmod(0o755)
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str, *extra: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.root / "log"),
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c fsync=off", action, *extra)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")  # every connection is cut, as a failover or a restart does

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._ctl("stop", "-m", "immediate")


# --- the database of a scenario --------------------------------------------------------------------

def is_postgres(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgresql", "postgres:"))


class Store:
    """A scenario's database: one of its own on the PostgreSQL server of `server_url`, or a SQLite file."""

    def __init__(self, server_url: str | None, name: str, workdir: Path):
        self.postgres = is_postgres(server_url)
        if self.postgres:
            server = make_url(normalise_url(server_url))
            self.admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
            self.name = f"{name}_{os.getpid()}"
            self.url = server.set(database=self.name).render_as_string(hide_password=False)
        else:
            self.url = f"sqlite:///{workdir / (name + '.db')}"
        self.db: Database | None = None

    def create(self) -> Database:
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._admin(f'CREATE DATABASE "{self.name}"')
        self.db = Database(self.url)
        migrations.upgrade(self.db)  # once, before the processes start (each would otherwise race to)
        return self.db

    def drop(self) -> None:
        if self.db is not None:
            self.db.dispose()
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(sql)


# --- the people and cases the load works on --------------------------------------------------------

@dataclass
class Case:
    """A case a client owns: the version and state its last answer gave."""

    id: int
    version: int
    state: str
    stale: bool = False  # an answer was lost or refused: read the case again before the next advance


def seed(db: Database, count: int) -> tuple[str, list[Case]]:
    """A secretariat with an API token, and `count` full assessments under the subcommittee's review,
    made through the services as the secretariat's own requests would make them."""
    clock, workflows = SystemClock(), Workflows.load()
    email = "load@shingi.example.org"
    accounts.add_user(db, clock, accounts.NewUser(email=email, display_name="負荷試験 事務局",
                                                  roles={Role.SECRETARIAT}), SYSTEM)
    token = accounts.create_token(db, clock, email, SYSTEM, name="load").token
    cases = []
    for n in range(count):
        case = service.create_assessment(db, workflows, clock, service.NewAssessment(
            title=f"負荷試験の事務 {n + 1}", office="情報政策課", target_count=300_000, handler_count=100,
            serious_incident=False), SYSTEM)
        case = service.advance(db, workflows, clock, case.id, event="start_pre_check", expected_version=case.version,
                               inputs={}, actor=SYSTEM)
        cases.append(Case(case.id, case.version, case.state))
    return token, cases


# --- the load generator ----------------------------------------------------------------------------

@dataclass
class Sample:
    kind: str
    instance: int
    started: float  # time.monotonic()
    seconds: float
    outcome: str  # the status code, or the transport error's name

    @property
    def ok(self) -> bool:
        return self.outcome.startswith("2")

    @property
    def ended(self) -> float:
        return self.started + self.seconds


@dataclass
class Answered:
    """What the service said it stored: the highest version answered per case, the findings raised."""

    versions: dict[int, int] = field(default_factory=dict)
    findings: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def advanced(self, case_id: int, version: int) -> None:
        with self.lock:
            self.versions[case_id] = max(version, self.versions.get(case_id, 0))

    def raised(self, finding_id: int) -> None:
        with self.lock:
            self.findings.add(finding_id)


FINDING = {"raised_by": "櫻井委員", "kind": "question", "section": "Ⅲ リスク対策 7. 特定個人情報の保管・消去",
           "text": "バックアップの保管場所と消去の手順を、委託先を含めて具体的に示されたい。"}


class Load:
    """Client threads over the web instances in turn; each client advances only its own cases, so that a
    409 means a lost answer, never a race between clients. An instance that refuses connections is left
    out from then on, as a load balancer's health check would."""

    def __init__(self, instances: list[Process], token: str, cases: list[Case], answered: Answered,
                 clients: int, timeout: float, max_requests: int):
        self.bases = [p.base_url for p in instances]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cases, self.answered = cases, answered
        self.clients, self.timeout = clients, timeout
        self.max_per_client = max(1, max_requests // clients)
        self.down: set[int] = set()
        self.started = 0.0  # when the last run's clock started (after the warm-up)

    def run(self, seconds: float, faults: list[tuple[float, Callable[[], None]]] = ()) -> list[Sample]:
        """The load for `seconds`; each fault is called at its offset (seconds from the start)."""
        self.warm()
        stop = threading.Event()
        results: list[list[Sample]] = [[] for _ in range(self.clients)]
        threads = [threading.Thread(target=self._client, args=(n, stop, results[n]), daemon=True)
                   for n in range(self.clients)]
        self.started = start = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            for offset, fault in sorted(faults, key=lambda pair: pair[0]):
                time.sleep(max(0.0, start + offset - time.monotonic()))
                fault()
            time.sleep(max(0.0, start + seconds - time.monotonic()))
        finally:
            stop.set()
            for thread in threads:
                thread.join(self.timeout + 5)
        return sorted((s for samples in results for s in samples), key=lambda s: s.started)

    def warm(self) -> None:
        """Each instance answers each kind once before the clock starts: its first requests pay for what
        it builds once (templates, compiled statements, connections), which is no part of the load."""
        chance = random.Random(-1)
        for instance, base in enumerate(self.bases):
            with httpx.Client(base_url=base, headers=self.headers, timeout=self.timeout) as client:
                for kind in KINDS:
                    self._request(client, instance, kind, self.cases[0], chance)

    def _client(self, number: int, stop: threading.Event, samples: list[Sample]) -> None:
        chance = random.Random(number)
        own = self.cases[number::self.clients] or self.cases[:1]
        clients = [httpx.Client(base_url=base, headers=self.headers, timeout=self.timeout,
                                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
                   for base in self.bases]
        turn = number
        try:
            while not stop.is_set() and len(samples) < self.max_per_client:
                live = [i for i in range(len(self.bases)) if i not in self.down]
                if not live:
                    return
                instance = live[turn % len(live)]
                turn += 1
                kind = chance.choices(KINDS, weights=[w for _, w in MIX])[0]
                case = chance.choice(own)
                if kind == "advance" and case.stale:
                    kind = "case"  # read it again first, as a client that lost its answer does
                samples.append(self._request(clients[instance], instance, kind, case, chance))
        finally:
            for client in clients:
                client.close()

    def _request(self, client: httpx.Client, instance: int, kind: str, case: Case, chance: random.Random) -> Sample:
        started = time.monotonic()
        try:
            response = self._send(client, kind, case, chance)
        except httpx.TransportError as error:
            if isinstance(error, httpx.ConnectError):
                self.down.add(instance)
            if kind == "advance":
                case.stale = True  # it may have been stored: the version is no longer known
            return Sample(kind, instance, started, time.monotonic() - started, type(error).__name__)
        seconds = time.monotonic() - started
        self._learn(kind, case, response)
        return Sample(kind, instance, started, seconds, str(response.status_code))

    def _send(self, client: httpx.Client, kind: str, case: Case, chance: random.Random) -> httpx.Response:
        if kind == "list":
            return client.get("/api/assessments")
        if kind == "case":
            return client.get(f"/api/assessments/{case.id}")
        if kind == "dashboard":
            return client.get("/")
        if kind == "paper":
            return client.get(f"/api/papers/findings/{chance.choice(self.cases).id}")
        if kind == "advance":
            event = "submit_revision" if case.state == "revised" else "request_revision"
            return client.post(f"/api/assessments/{case.id}/events",
                               json={"event": event, "expected_version": case.version})
        return client.post(f"/api/assessments/{case.id}/findings", json=FINDING)

    def _learn(self, kind: str, case: Case, response: httpx.Response) -> None:
        """Keep the client's view of its case, and note each write the service answered 2xx."""
        if kind == "case" and response.status_code == 200:
            body = response.json()
            case.version, case.state, case.stale = body["version"], body["state"], False
        elif kind == "advance" and response.status_code == 200:
            body = response.json()
            case.version, case.state = body["version"], body["state"]
            self.answered.advanced(case.id, case.version)
        elif kind == "advance":
            case.stale = True
        elif kind == "finding" and response.status_code == 201:
            self.answered.raised(response.json()["id"])


# --- figures ---------------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def errors_by_outcome(samples: list[Sample]) -> dict[str, int]:
    return dict(sorted(Counter(s.outcome for s in samples if not s.ok).items()))


def report(title: str, samples: list[Sample], seconds: float) -> None:
    """Requests, errors by status, latency per kind, throughput."""
    ok = sum(s.ok for s in samples)
    errors = errors_by_outcome(samples)
    print(f"  {title}")
    print(f"    requests {len(samples):,} in {seconds:.1f} s = {len(samples) / seconds:,.1f} req/s   "
          f"2xx {ok:,} = {ok / seconds:,.1f}/s   errors: {errors or 'none'}")
    print(f"    {'kind':<10} {'count':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in (*KINDS, "all"):
        times = [s.seconds * 1000 for s in samples if s.ok and (kind == "all" or s.kind == kind)]
        if times:
            print(f"    {kind:<10} {len(times):>7,} {statistics.median(times):>8.1f} {percentile(times, 90):>8.1f} "
                  f"{percentile(times, 99):>8.1f} {max(times):>8.1f}")


def window(samples: list[Sample], start: float, end: float) -> list[Sample]:
    """The requests begun and answered within [start, end): one a fault cut short belongs to the fault."""
    return [s for s in samples if start <= s.started and s.ended < end]


def p99_ms(samples: list[Sample]) -> float:
    return percentile([s.seconds * 1000 for s in samples if s.ok], 99)


def compare(label: str, measured: list[Sample], measured_seconds: float, baseline: list[Sample],
            baseline_seconds: float) -> None:
    rate = sum(s.ok for s in measured) / measured_seconds
    base = sum(s.ok for s in baseline) / baseline_seconds
    print(f"  {label}: throughput {rate:,.1f} / {base:,.1f} 2xx/s = {rate / base if base else float('nan'):.2f}×, "
          f"p99 {p99_ms(measured):.1f} / {p99_ms(baseline):.1f} ms")


# --- what the record holds afterwards --------------------------------------------------------------

def check_record(db: Database, answered: Answered) -> list[str]:
    """Every answered write stored; no case, history or audit entry half-written; the chain verifies."""
    with db.reading(EVERY_ORGANISATION) as session:
        cases = {case.id: case for case in session.exec(select(Assessment)).all()}
        history: dict[int, list[HistoryEntry]] = {}
        for entry in session.exec(select(HistoryEntry).order_by(col(HistoryEntry.id))).all():
            history.setdefault(entry.assessment_id, []).append(entry)
        acts = Counter((entry.action, int(entry.object_id)) for entry in session.exec(
            select(AuditEntry).where(col(AuditEntry.action).in_(("case.created", "case.event", "finding.raised")))))
        findings = set(session.exec(select(Finding.id)).all())
    problems = [f"case {case_id}: answered version {version}, stored "
                f"{cases[case_id].version if case_id in cases else 'nothing'}"
                for case_id, version in answered.versions.items()
                if case_id not in cases or cases[case_id].version < version]
    problems += [f"finding {finding_id}: answered 201, not stored" for finding_id in answered.findings - findings]
    for case in cases.values():
        story = history.get(case.id, [])
        if [entry.version for entry in story] != list(range(1, case.version + 1)):
            problems.append(f"case {case.id}: version {case.version}, history versions "
                            f"{[entry.version for entry in story]}")
        elif story[0].event != "created" or story[-1].to_state != case.state:
            problems.append(f"case {case.id}: history does not begin with its creation or end in its state")
        if acts[("case.created", case.id)] != 1 or acts[("case.event", case.id)] != case.version - 1:
            problems.append(f"case {case.id}: version {case.version}, audit entries: "
                            f"{acts[('case.created', case.id)]} created, {acts[('case.event', case.id)]} events")
    raised = {object_id for action, object_id in acts if action == "finding.raised"}
    problems += [f"finding {finding_id}: stored without its audit entry" for finding_id in findings - raised]
    problems += [f"audit entry of finding {finding_id}, which is not stored" for finding_id in raised - findings]
    verdict = audit.verify(db, SYSTEM)
    if not verdict.ok:
        problems.append(f"audit chain: {verdict.message.en}")
    summary = (f"{len(cases)} cases, {sum(c.version for c in cases.values()):,} history entries, {len(findings):,} "
               f"findings; answered 2xx: {len(answered.versions)} cases advanced, {len(answered.findings):,} findings")
    print(f"  record: {summary}")
    print("  record: every answered write stored, nothing half-written, audit chain verified"
          if not problems else "  record: PROBLEMS\n" + "\n".join(f"    {p}" for p in problems[:20]))
    return problems


# --- scenarios -------------------------------------------------------------------------------------

@dataclass
class Run:
    """What every scenario is given."""

    args: argparse.Namespace
    workdir: Path
    seconds: float

    @property
    def postgres(self) -> bool:
        return is_postgres(self.args.database_url)

    def topology(self, db_url: str) -> list[Process]:
        """Two web instances and two workers on PostgreSQL; one of each on SQLite."""
        count = 2 if is_postgres(db_url) else 1
        return ([Process("web", n + 1, db_url, self.workdir) for n in range(count)]
                + [Process("worker", n + 1, db_url, self.workdir) for n in range(count)])

    def load(self, processes: list[Process], token: str, cases: list[Case], answered: Answered) -> Load:
        webs = [p for p in processes if p.role == "web"]
        return Load(webs, token, cases, answered, self.args.clients, self.args.timeout, self.args.max_requests)

    def describe(self, processes: list[Process], kind: str) -> str:
        return (f"{topology(processes)}, {kind}, {self.args.clients} clients, "
                f"{self.args.cases} cases, request timeout {self.args.timeout:g} s")


def topology(processes: list[Process]) -> str:
    webs = sum(p.role == "web" for p in processes)
    workers = len(processes) - webs
    return (f"{webs} web instance{'s' if webs != 1 else ''} + {workers} worker{'s' if workers != 1 else ''}")


def scenario_mix(run: Run) -> bool:
    store = Store(run.args.database_url, "shingi_bench_load_mix", run.workdir)
    db = store.create()
    try:
        token, cases = seed(db, run.args.cases)
        answered = Answered()
        processes = run.topology(store.url)
        print(f"mix — {run.describe(processes, 'PostgreSQL' if store.postgres else 'SQLite')}, {run.seconds:g} s")
        single = [Process("web", 0, store.url, run.workdir)]  # started with the others; idle until its turn
        try:
            start_all(processes + single, db)
            samples = run.load(processes, token, cases, answered).run(run.seconds)
            stop_all(processes)
            baseline = run.load(single, token, cases, answered).run(run.seconds)
        finally:
            stop_all(processes + single)
        report(topology(processes), samples, run.seconds)
        report("baseline: the same mix on 1 web instance, no worker", baseline, run.seconds)
        compare("instances / baseline", samples, run.seconds, baseline, run.seconds)
        problems = check_record(db, answered)
        return not problems and not errors_by_outcome(samples + baseline)
    finally:
        store.drop()


def scenario_kill_web(run: Run) -> bool:
    store = Store(run.args.database_url, "shingi_bench_load_kill_web", run.workdir)
    db = store.create()
    try:
        token, cases = seed(db, run.args.cases)
        answered = Answered()
        processes = run.topology(store.url)
        victim = processes[0]
        print(f"kill-web — {run.describe(processes, 'PostgreSQL')}, {run.seconds:g} s, "
              f"{victim.name} killed with SIGKILL at {run.seconds / 3:.1f} s")
        killed_at: list[float] = []

        def kill() -> None:
            killed_at.append(time.monotonic())
            victim.kill()

        try:
            start_all(processes, db)
            load = run.load(processes, token, cases, answered)
            samples = load.run(run.seconds, [(run.seconds / 3, kill)])
            start = load.started
        finally:
            stop_all(processes)
        kill_time = killed_at[0]
        before, after = window(samples, start, kill_time), window(samples, kill_time, start + run.seconds)
        report("whole run", samples, run.seconds)
        report("baseline: before the kill (2 web instances)", before, kill_time - start)
        report("after the kill (1 web instance)", after, start + run.seconds - kill_time)
        cut = [s for s in samples if not s.ok and s.ended >= kill_time - 0.01]
        print(f"  at the kill: {len(cut)} requests failed ({errors_by_outcome(cut) or 'none'}), "
              f"all on {victim.name}: {all(s.instance == 0 for s in cut)}")
        compare("after / before", after, start + run.seconds - kill_time, before, kill_time - start)
        problems = check_record(db, answered)
        unexpected = [s for s in samples if not s.ok and s not in cut]
        return not problems and not unexpected
    finally:
        store.drop()


def scenario_restart_db(run: Run) -> bool:
    cluster = Cluster(run.workdir)
    try:
        cluster.start()
        store = Store(cluster.url, "shingi_bench_load_restart", run.workdir)
        db = store.create()
        token, cases = seed(db, run.args.cases)
        answered = Answered()
        processes = run.topology(store.url)
        at = run.seconds / 3
        print(f"restart-db — {run.describe(processes, 'PostgreSQL (a private cluster)')}, {run.seconds:g} s, "
              f"PostgreSQL restarted (pg_ctl restart -m fast) at {at:.1f} s")
        restart: list[float] = []

        def restart_database() -> None:
            restart.append(time.monotonic())
            cluster.restart()
            restart.append(time.monotonic())

        try:
            start_all(processes, db)
            load = run.load(processes, token, cases, answered)
            samples = load.run(run.seconds, [(at, restart_database)])
            start = load.started
            back_at = datetime.now(TOKYO) - timedelta(seconds=time.monotonic() - restart[1])
            time.sleep(2)  # a sweep or two after the load
            workers_back = swept_by(db, back_at) >= {p.pid for p in processes if p.role == "worker"}
        finally:
            stop_all(processes)
        down, back = restart
        report("whole run", samples, run.seconds)
        report("baseline: before the restart", window(samples, start, down), down - start)
        print(f"  the database was away for {back - down:.2f} s (pg_ctl restart)")
        recovered = True
        for number in range(sum(p.role == "web" for p in processes)):
            first = next((s for s in samples if s.instance == number and s.ok and s.started >= back), None)
            if first is None:
                recovered = False
                print(f"  web {number + 1}: no 2xx after the database came back")
                continue
            print(f"  web {number + 1}: recovered {first.ended - back:.2f} s after the database came back "
                  f"({first.ended - down:.2f} s after the restart began)")
        during = [s for s in samples if s.ended >= down and s.started <= back + 5]
        print(f"  around the restart (from its start to 5 s after): {len(during)} requests, "
              f"errors {errors_by_outcome(during) or 'none'}")
        hung = [s for s in samples if s.outcome.endswith("Timeout") or s.seconds > run.args.timeout]
        slowest = max((s.seconds for s in samples), default=0.0)
        print(f"  hung past the {run.args.timeout:g} s timeout: {len(hung)}; slowest answer {slowest:.2f} s")
        print(f"  workers swept again after the restart: {'yes' if workers_back else 'NO'}")
        after = window(samples, back + 5, start + run.seconds)
        compare("after (from 5 s after the restart) / before", after, start + run.seconds - back - 5,
                window(samples, start, down), down - start)
        problems = check_record(db, answered)
        server_errors = [s for s in samples if s.outcome.startswith("5") and s.outcome != "503"]
        store.drop()
        return not problems and not hung and recovered and workers_back and not server_errors
    finally:
        cluster.remove()


def scenario_kill_worker(run: Run) -> bool:
    store = Store(run.args.database_url, "shingi_bench_load_kill_worker", run.workdir)
    db = store.create()
    try:
        users, meetings = reminder_bench.setup(db)
        workers = [Process("worker", n + 1, store.url, run.workdir) for n in range(2)]
        count, spread = run.args.reminders, run.seconds
        print(f"kill-worker — 2 workers (shingi worker), PostgreSQL, {count:,} reminders due over {spread:g} s "
              f"({count / spread:,.0f}/s), one recipient each")
        try:
            start_all(workers, db)
            baseline = deliver(db, users, meetings, count, spread, None)
            print_delivery("baseline: no kill", baseline)
            killed = deliver(db, users, meetings, count, spread, workers[0])
            print_delivery(f"{workers[0].name} killed with SIGKILL mid-delivery", killed)
        finally:
            stop_all(workers)
        return baseline.sound and killed.sound and killed.untouched_p99 < LAG_GOAL_SECONDS
    finally:
        store.drop()


@dataclass
class Delivery:
    count: int
    lags: list[float]  # seconds, of every reminder sent
    untouched: list[float]  # of those not waiting at the kill
    sent: int
    notices: int
    distinct: int
    killed_after: int | None = None  # reminders sent when the worker was killed

    @property
    def duplicates(self) -> int:
        return self.notices - self.distinct

    @property
    def losses(self) -> int:
        return self.count - self.distinct

    @property
    def sound(self) -> bool:
        return self.duplicates == 0 and self.losses == 0 and self.sent == self.count

    @property
    def untouched_p99(self) -> float:
        return percentile(self.untouched, 99)


def deliver(db: Database, users: list[int], meetings: list[int], count: int, spread: float,
            victim: Process | None) -> Delivery:
    """`count` reminders due over `spread` seconds from a moment ahead; the victim is killed once half are out."""
    lead = 2.0
    reminder_bench.insert(db, users, meetings, count, lead, spread)
    deadline = time.monotonic() + lead + spread + 120
    killed_at, killed_after = None, None
    while time.monotonic() < deadline:
        time.sleep(0.2)
        sent = sent_count(db)
        if victim is not None and killed_at is None and sent >= count // 2:
            killed_at, killed_after = datetime.now(TOKYO), sent
            victim.kill()
        if sent >= count:
            break
    with db.reading(EVERY_ORGANISATION) as session:
        pairs = session.exec(select(Reminder.due_at, Reminder.sent_at).where(Reminder.status == "sent")).all()
        notices = session.exec(select(func.count()).select_from(Notice).where(Notice.channel == "inbox")).one()
        distinct = session.exec(select(func.count(func.distinct(Notice.reminder_id)))
                                .where(Notice.channel == "inbox")).one()
    lags = sorted((sent - due).total_seconds() for due, sent in pairs)
    # Touched: due before the kill and sent after it: waiting at that moment, the killed batch among them.
    untouched = sorted((sent - due).total_seconds() for due, sent in pairs
                       if killed_at is None or not (due < killed_at < sent))
    return Delivery(count, lags, untouched, len(pairs), notices, distinct, killed_after)


def sent_count(db: Database) -> int:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(func.count()).select_from(Reminder).where(Reminder.status == "sent")).one()


def print_delivery(title: str, delivery: Delivery) -> None:
    print(f"  {title}")
    if delivery.killed_after is not None:
        print(f"    killed after {delivery.killed_after:,} reminders were sent")
    print(f"    sent {delivery.sent:,} of {delivery.count:,}; inbox notices {delivery.notices:,}; "
          f"duplicates {delivery.duplicates}; losses {delivery.losses}")
    if delivery.lags:
        print(f"    lag, all:       p50 {statistics.median(delivery.lags):6.3f} s   "
              f"p99 {percentile(delivery.lags, 99):6.3f} s   max {delivery.lags[-1]:6.3f} s")
    if delivery.killed_after is not None and delivery.untouched:
        untouched_p99 = delivery.untouched_p99
        print(f"    lag, untouched: p50 {statistics.median(delivery.untouched):6.3f} s   p99 {untouched_p99:6.3f} s   "
              f"max {delivery.untouched[-1]:6.3f} s   ({delivery.sent - len(delivery.untouched):,} waiting at the "
              f"kill left out; goal p99 < {LAG_GOAL_SECONDS:g} s → {'met' if untouched_p99 < LAG_GOAL_SECONDS else 'NOT met'})")


def scenario_soak(run: Run) -> bool:
    store = Store(run.args.database_url, "shingi_bench_load_soak", run.workdir)
    db = store.create()
    try:
        token, cases = seed(db, run.args.cases)
        answered = Answered()
        processes = run.topology(store.url)
        warmup = min(60.0, run.seconds / 10)
        print(f"soak — {run.describe(processes, 'PostgreSQL' if store.postgres else 'SQLite')}, {run.seconds:g} s "
              f"(memory from {warmup:g} s on)")
        memory: dict[str, list[int]] = {}

        def sample_memory() -> None:
            for process in processes:
                memory.setdefault(process.name, []).append(process.rss_kib())

        try:
            start_all(processes, db)
            load = run.load(processes, token, cases, answered)
            samples = load.run(run.seconds, [(warmup, sample_memory)])
            start = load.started
            sample_memory()
        finally:
            stop_all(processes)
        minute = min(60.0, (run.seconds - warmup) / 2)
        first = window(samples, start + warmup, start + warmup + minute)
        last = window(samples, start + run.seconds - minute, start + run.seconds)
        report("whole run", samples, run.seconds)
        report(f"baseline: the first {minute:g} s after the warm-up", first, minute)
        report(f"the last {minute:g} s", last, minute)
        compare("last / first", last, minute, first, minute)
        grown = False
        for name, (warm, end) in memory.items():
            growth = (end - warm) / warm
            grown = grown or growth >= MEMORY_GOAL
            print(f"  memory {name:<9} VmRSS {warm / 1024:7.1f} MiB → {end / 1024:7.1f} MiB  {growth:+6.1%}  "
                  f"(goal < {MEMORY_GOAL:.0%})")
        problems = check_record(db, answered)
        return not problems and not errors_by_outcome(samples) and not grown
    finally:
        store.drop()


RUNNERS = {"mix": scenario_mix, "restart-db": scenario_restart_db, "kill-web": scenario_kill_web,
           "kill-worker": scenario_kill_worker, "soak": scenario_soak}


def _interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="mix")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds of load (kill-worker: over which the reminders fall due); default "
                             + ", ".join(f"{name} {seconds:g}" for name, seconds in DEFAULT_SECONDS.items()))
    parser.add_argument("--database-url", default=None,
                        help="postgresql://user@host:port/db (a database of the run's own is made on that "
                             "server), or sqlite:///… / nothing for SQLite on a temporary file")
    parser.add_argument("--clients", type=int, default=8, help="client threads (8)")
    parser.add_argument("--cases", type=int, default=40, help="cases the load works on (40)")
    parser.add_argument("--reminders", type=int, default=10_000, help="kill-worker: reminders due (10,000)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a request may take (10)")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="requests per load at most")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.cases < 1 or (args.duration is not None and args.duration <= 0):
        parser.error("--clients, --cases and --duration must be positive")
    if args.database_url and not is_postgres(args.database_url):
        args.database_url = None  # SQLite: a temporary file of the run's own, never the one named
    chosen = SCENARIOS if args.scenario == "all" else (args.scenario,)
    # SIGTERM becomes an exception, so that the finally blocks stop the processes and drop the databases.
    signal.signal(signal.SIGTERM, _interrupted)
    workdir = Path(tempfile.mkdtemp(prefix="shingi-load-"))
    failed = []
    try:
        for name in chosen:
            if name in POSTGRES_ONLY and not args.database_url:
                print(f"{name}: skipped (several instances on one database need PostgreSQL: --database-url)\n")
                continue
            run = Run(args, workdir, args.duration or DEFAULT_SECONDS[name])
            # Client and service share the machine: a busy one makes every figure lower and noisier.
            print(f"{name}: {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.2f} at the start")
            began = time.monotonic()
            sound = RUNNERS[name](run)
            print(f"  {name}: {'PASSED' if sound else 'FAILED'} ({time.monotonic() - began:.0f} s)\n")
            if not sound:
                failed.append(name)
    except KeyboardInterrupt:
        print("interrupted; processes stopped and databases dropped", file=sys.stderr)
        return 130
    finally:
        if not failed:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:  # the processes' logs are kept, to see why
        print(f"failed: {', '.join(failed)} (the processes' logs: {workdir})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
