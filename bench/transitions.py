"""How fast a case advances: the real HTTP API against a bare FastAPI + SQLModel baseline.

    .venv/bin/python bench/transitions.py [--seconds S] [--concurrency C] [--database-url URL]

One run measures, in this order:

a) advances per second through `POST /api/assessments/{id}/events` (uvicorn in a subprocess, one
   worker, 127.0.0.1): full-assessment cases are created through the API, driven to
   `subcommittee_review` (start_pre_check), then each client thread alternates `request_revision`
   and `submit_revision` on the cases it owns, sending the version it last read;
b) the baseline, served and driven the same way: a bare FastAPI + SQLModel app whose sync endpoint
   loads one row by id, updates one column, commits and returns it (bench/_apps.py);
c) the engine alone, no database and no HTTP: firing through the shared, prebuilt machine
   (workflow.engine) against building a fresh `transitions.Machine` per call.

SQLite (default) uses temporary files removed at the end. With
`--database-url postgresql://postgres@127.0.0.1:5432/test` the URL's database is used only to
create and finally drop a dedicated database (`--pg-database`, default `shingi_bench_transitions_<pid>`).
The goal is advance ≥ 60 % of bare. See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# Run as a script, this file's folder comes first on sys.path, and this file is named like the
# `transitions` library the engine imports: put the repository there instead.
if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == BENCH_DIR:
    sys.path[0] = str(REPO)

import httpx  # noqa: E402

HOST = "127.0.0.1"
GOAL = 0.60


# --- servers -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """One uvicorn process (one worker, loopback only) serving an app factory ("module:function")."""

    def __init__(self, factory: str, database_url: str, workdir: Path):
        self.factory = factory
        self.database_url = database_url
        self.port = _free_port()
        stem = workdir / f"{factory.rpartition(':')[2]}-{self.port}"
        self.log_path, self.token_file = stem.with_suffix(".log"), stem.with_suffix(".token")
        self.workdir = workdir  # the server's working directory: relative paths land in the temp dir
        self.headers: dict[str, str] = {}  # Authorization, when the service issued a token
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHINGI_") and k != "WEB_CONCURRENCY"}
        env["BENCH_DATABASE_URL"] = self.database_url
        env["BENCH_TOKEN_FILE"] = str(self.token_file)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        command = [
            sys.executable, "-m", "uvicorn", "--factory", self.factory, "--app-dir", str(REPO),
            "--host", HOST, "--port", str(self.port), "--workers", "1",
            "--no-access-log", "--log-level", "warning",
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (kept open for the server's lifetime)
        self.proc = subprocess.Popen(command, cwd=self.workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.factory} exited with {self.proc.returncode}:\n{self.log()}")
                try:
                    if client.get("/health").status_code == 200:
                        if self.token_file.exists():
                            self.headers = {"Authorization": f"Bearer {self.token_file.read_text().strip()}"}
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"{self.factory} did not answer /health within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (runs the lifespan's end)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --- the client loop -----------------------------------------------------------------------------

@dataclass
class Item:
    """One row a client owns: where to post, and the version and state it last read."""

    path: str
    version: int
    state: str


@dataclass
class Result:
    name: str
    seconds: float
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = float("nan")  # CPU seconds the server process used in the window
    client_cpu: float = float("nan")  # CPU seconds this (client) process used in the window

    @property
    def server_cpu_us(self) -> float:
        """Server CPU per successful request, µs: what the work costs, whoever wins the cores."""
        return self.server_cpu / self.ok * 1e6 if self.ok else float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    @property
    def non_ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200) + sum(self.errors.values())

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def _next_event(item: Item) -> str:
    return "request_revision" if item.state == "subcommittee_review" else "submit_revision"


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(name: str, server: Server, owned: list[list[Item]], warmup: float, seconds: float) -> Result:
    """Each thread posts to its own items in turn; requests completing inside the window count."""
    start = time.perf_counter()
    measure_from = start + warmup
    measure_to = measure_from + seconds
    result = Result(name=name, seconds=seconds)
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(items: list[Item]) -> None:
        ok, statuses, errors, latencies = 0, Counter(), Counter(), []
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=30.0, limits=limits) as client:
            i = 0
            while True:
                item = items[i % len(items)]
                i += 1
                t0 = time.perf_counter()
                if t0 >= measure_to or stop.is_set():
                    break
                try:
                    response = client.post(item.path, json={"event": _next_event(item),
                                                            "expected_version": item.version})
                except httpx.HTTPError as exc:
                    t1 = time.perf_counter()
                    if measure_from <= t1 < measure_to:
                        errors[type(exc).__name__] += 1
                    continue
                t1 = time.perf_counter()
                counted = measure_from <= t1 < measure_to
                if response.status_code == 200:
                    body = response.json()
                    item.version = body["version"]
                    item.state = body.get("state", item.state)
                    if counted:
                        ok += 1
                        latencies.append(t1 - t0)
                else:
                    if counted:
                        statuses[response.status_code] += 1
                    _resync(item, response)
        with lock:
            result.ok += ok
            result.statuses.update(statuses)
            result.errors.update(errors)
            result.latencies.extend(latencies)

    threads = [threading.Thread(target=client_loop, args=(items,), daemon=True) for items in owned]
    for thread in threads:
        thread.start()
    try:
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        server0, client0 = _cpu_seconds(server.proc.pid), time.process_time()
        time.sleep(max(0.0, measure_to - time.perf_counter()))
        server1, client1 = _cpu_seconds(server.proc.pid), time.process_time()
        result.server_cpu, result.client_cpu = server1 - server0, client1 - client0
    finally:
        stop.set()  # on an interrupt too: the clients stop before the servers are shut down
        for thread in threads:
            thread.join()
    return result


def _resync(item: Item, response: httpx.Response) -> None:
    """After a 409 take the version and state the server reports, so the loop can go on."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return
    if error.get("current_version"):
        item.version = error["current_version"]
    if error.get("current_state"):
        item.state = error["current_state"]


def _split(items: list[Item], clients: int) -> list[list[Item]]:
    return [items[i::clients] for i in range(clients)]


def setup_cases(server: Server, count: int) -> list[Item]:
    """Full-assessment cases created through the API and moved to subcommittee_review."""
    items = []
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=30.0) as client:
        for n in range(count):
            response = client.post("/api/assessments", json={
                "title": f"ベンチマーク事務 {n + 1}", "office": "ベンチマーク課",
                "target_count": 300_000, "handler_count": 100, "serious_incident": False,
            })
            response.raise_for_status()
            case = response.json()
            assert case["procedure"] == "full_assessment", case["procedure"]
            response = client.post(f"/api/assessments/{case['id']}/events",
                                   json={"event": "start_pre_check", "expected_version": case["version"]})
            response.raise_for_status()
            case = response.json()
            assert case["state"] == "subcommittee_review", case["state"]
            items.append(Item(path=f"/api/assessments/{case['id']}/events", version=case["version"],
                              state=case["state"]))
    return items


def setup_rows(server: Server, count: int) -> list[Item]:
    items = []
    with httpx.Client(base_url=server.base_url, headers=server.headers, timeout=30.0) as client:
        for _ in range(count):
            response = client.post("/rows")
            response.raise_for_status()
            row = response.json()
            items.append(Item(path=f"/rows/{row['id']}", version=row["version"], state="row"))
    return items


# --- databases -----------------------------------------------------------------------------------

class Databases:
    """The database URLs for the two servers, created for the run and removed after it."""

    def __init__(self, url: str | None, pg_database: str, workdir: Path):
        self.kind = "postgresql" if url and url.startswith(("postgresql://", "postgres://", "postgresql+")) else "sqlite"
        self.workdir = workdir
        self.admin_url = url
        self.pg_database = pg_database
        if url and self.kind == "sqlite" and url not in ("sqlite", "sqlite://"):
            print(f"note: {url} ignored; SQLite runs on temporary files in {workdir}")
        if self.kind == "postgresql" and pg_database == self._url_database(url):
            raise SystemExit(f"--pg-database {pg_database!r} is the database of --database-url; choose another")

    @staticmethod
    def _url_database(url: str) -> str:
        from sqlalchemy.engine import make_url

        from workflow.db import normalise_url

        return make_url(normalise_url(url)).database or ""

    def _pg_admin(self, sql: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        # The URL's own database is only a place to connect from; nothing in it is touched.
        conninfo = make_url(self.admin_url.replace("postgresql+psycopg://", "postgresql://")).render_as_string(
            hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(sql)

    def create(self) -> None:
        if self.kind == "postgresql":
            self._pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            self._pg_admin(f'CREATE DATABASE "{self.pg_database}"')

    def url_for(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / (name + '.db')}"
        from sqlalchemy.engine import make_url

        from workflow.db import normalise_url

        return make_url(normalise_url(self.admin_url)).set(database=self.pg_database).render_as_string(
            hide_password=False)

    def wal_note(self, name: str) -> str:
        """SQLite: the size of the write-ahead log (a WAL that never resets slows every read)."""
        if self.kind != "sqlite":
            return ""
        try:
            return f", WAL {(self.workdir / (name + '.db-wal')).stat().st_size / 1e6:.1f} MB"
        except OSError:
            return ""

    def drop(self) -> None:
        if self.kind == "postgresql":
            self._pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')


# --- the engine alone ----------------------------------------------------------------------------

def engine_micro(budget: float = 1.0) -> dict[str, float]:
    """µs per transition: the shared prebuilt machine against a fresh Machine per call."""
    from datetime import UTC, datetime
    from functools import partial

    from transitions import Machine

    from workflow import engine
    from workflow.guards import TransitionContext
    from workflow.models import Assessment

    workflows = engine.Workflows.load()
    procedure = workflows.procedure("full_assessment")
    now = datetime.now(UTC)
    case = Assessment(id=1, title="bench", office="bench", target_count=300_000, handler_count=100,
                      serious_incident=False, level="full", procedure=procedure.name, state="subcommittee_review",
                      version=3, cycle=1, state_entered_at=now, created_at=now, updated_at=now)
    contexts = {
        name: TransitionContext(case=case, event=procedure.events[name], inputs={}, today=now.date(), now=now,
                                actor="bench", workflows=workflows)
        for name in ("request_revision", "submit_revision")
    }
    forth, back = contexts["request_revision"], contexts["submit_revision"]

    def shared() -> None:
        workflows.fire(forth)
        workflows.fire(back)

    # What the engine avoids: a Machine per case (model attached, triggers bound to it).
    transitions = [
        {"trigger": event.name, "source": source, "dest": event.target,
         "conditions": [partial(engine._run_guards, event)], "after": [partial(engine._apply_event, event)]}
        for event in procedure.events.values() for source in event.sources
    ]
    states = list(procedure.states)

    class Model(engine.CaseWorkflow):
        """The engine's model with a __dict__: a Machine of its own binds its triggers to the model."""

    def fresh_one(context: TransitionContext) -> None:
        model = Model(context, procedure)
        Machine(model=model, states=states, transitions=transitions, initial=context.case.state,
                auto_transitions=False, send_event=True, model_attribute="state")
        getattr(model, context.event.name)()

    def fresh() -> None:
        fresh_one(forth)
        fresh_one(back)

    def per_transition_us(fn, label: str) -> tuple[float, float]:
        fn()
        assert case.state == "subcommittee_review", f"{label}: the pair did not come back"
        # calibrate, then best of 5 rounds (each ~budget/5 s)
        n, elapsed = 1, 0.0
        while elapsed < 0.05:
            n *= 2
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            elapsed = time.perf_counter() - t0
        rounds = max(1, int(budget / 5 / (elapsed / n)))
        best = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(rounds):
                fn()
            best.append((time.perf_counter() - t0) / (rounds * 2))
        return min(best) * 1e6, statistics.median(best) * 1e6

    shared_best, shared_median = per_transition_us(shared, "shared")
    fresh_best, fresh_median = per_transition_us(fresh, "fresh")
    return {"shared": shared_best, "shared_median": shared_median, "fresh": fresh_best, "fresh_median": fresh_median}


# --- the run -------------------------------------------------------------------------------------

def machine_summary() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    summary = (f"{cpus} CPU(s) {model}, shared by client and server; Python {platform.python_version()}; "
               f"{platform.system()} {platform.release()}")
    try:
        load = os.getloadavg()[0]
    except OSError:
        return summary
    busy = "  ← the machine is busy: figures will be low and noisy" if load > 0.5 else ""
    return f"{summary}\nload average before the run: {load:.2f}{busy}"


def _merge(name: str, parts: list[Result]) -> Result:
    merged = Result(name=name, seconds=sum(p.seconds for p in parts), server_cpu=0.0, client_cpu=0.0)
    for part in parts:
        merged.ok += part.ok
        merged.statuses.update(part.statuses)
        merged.errors.update(part.errors)
        merged.latencies.extend(part.latencies)
        merged.server_cpu += part.server_cpu
        merged.client_cpu += part.client_cpu
    return merged


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="shingi-bench-"))
    databases = Databases(args.database_url, args.pg_database, workdir)
    clients = args.concurrency
    n_items = clients * args.cases_per_client
    rounds: dict[str, list[Result]] = {"advance": [], "bare": []}
    try:
        databases.create()
        print(f"machine: {machine_summary()}")
        print(f"database: {databases.kind}; {clients} client threads × {args.cases_per_client} rows each; "
              f"{args.rounds} round(s) of {args.warmup:g} s warm-up + {args.seconds:g} s per server\n")

        with Server(args.advance_app, databases.url_for("advance"), workdir) as advance_server, \
                Server(args.bare_app, databases.url_for("bare"), workdir) as bare_server:
            targets = {  # named as their databases (url_for)
                "advance": (advance_server, setup_cases(advance_server, n_items)),
                "bare": (bare_server, setup_rows(bare_server, n_items)),
            }
            print(f"advance: {n_items} cases in subcommittee_review, request_revision ⇄ submit_revision")
            print(f"bare:    {n_items} rows, load → update one column → commit")
            for number in range(1, args.rounds + 1):
                for name, (server, items) in targets.items():  # the other server idles meanwhile
                    result = drive(name, server, _split(items, clients), args.warmup, args.seconds)
                    rounds[name].append(result)
                    print(f"  round {number}  {name:<8} {result.rate:8.1f} req/s  (non-200: {result.non_ok}"
                          f"{databases.wal_note(name)})")
                    if result.non_ok:  # show why, from the server's own log
                        print("  server log (tail):\n" + "\n".join(server.log().splitlines()[-30:]))
        if not args.skip_engine:
            print("engine:  firing without database or HTTP …")
            micro = engine_micro(args.micro_seconds)
    finally:
        try:
            databases.drop()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    advance, bare = _merge("advance", rounds["advance"]), _merge("bare", rounds["bare"])
    ratio = advance.rate / bare.rate if bare.rate else float("nan")
    width = 46
    print(f"\n{'HTTP, ' + databases.kind + f', {clients} clients':<{width}} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'non-200':>8} {'server CPU µs/req':>18} {'CPU % srv/cli':>14}")
    for label, result in (("advance  POST /api/assessments/{id}/events", advance),
                          ("bare     load → update one column → commit", bare)):
        print(f"{label:<{width}} {result.rate:>9.1f} {result.percentile(0.50):>8.2f} {result.percentile(0.99):>8.2f} "
              f"{result.non_ok:>8} {result.server_cpu_us:>18.0f} "
              f"{f'{result.server_cpu / result.seconds:.0%}/{result.client_cpu / result.seconds:.0%}':>14}")
    for result in (advance, bare):
        if result.non_ok:
            detail = {**{str(k): v for k, v in result.statuses.items() if k != 200}, **result.errors}
            print(f"  {result.name}: non-200 responses / errors: {detail}")
    if args.rounds > 1:
        per_round = [a.rate / b.rate if b.rate else float("nan") for a, b in zip(rounds["advance"], rounds["bare"], strict=True)]
        print(f"per-round ratios: {', '.join(f'{r:.1%}' for r in per_round)}")
    verdict = "MET" if ratio >= GOAL else "NOT MET"
    if advance.non_ok or bare.non_ok:
        verdict += " (but some requests failed: the figures are not valid)"
    print(f"advance / bare = {ratio:.1%}   goal: advance ≥ {GOAL:.0%} of bare → {verdict}")
    if advance.ok and bare.ok:
        print(f"server CPU per request, bare / advance = {bare.server_cpu_us / advance.server_cpu_us:.1%}")
    print()
    if not args.skip_engine:
        print(f"{'engine alone (no DB, no HTTP)':<{width}} {'µs/transition':>14} {'median':>9}")
        print(f"{'shared prebuilt machine (Workflows.fire)':<{width}} {micro['shared']:>14.1f} "
              f"{micro['shared_median']:>9.1f}")
        print(f"{'fresh transitions.Machine per call':<{width}} {micro['fresh']:>14.1f} {micro['fresh_median']:>9.1f}")
        print(f"{'fresh / shared':<{width}} {micro['fresh'] / micro['shared']:>13.1f}×")
    return 0 if advance.non_ok == 0 and bare.non_ok == 0 else 1


def _interrupted(*_: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per HTTP benchmark (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each measurement (2)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads, one connection each (4)")
    parser.add_argument("--cases-per-client", type=int, default=4, help="cases (rows) each client owns (4)")
    parser.add_argument("--database-url", default=None,
                        help="postgresql://user@host:port/db to run on PostgreSQL (default: SQLite temp files)")
    parser.add_argument("--pg-database", default=f"shingi_bench_transitions_{os.getpid()}",
                        help="the dedicated PostgreSQL database created and dropped for the run "
                             "(shingi_bench_transitions_<pid>: concurrent runs do not collide)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate advance and bare this many times; figures are over all rounds (1)")
    parser.add_argument("--micro-seconds", type=float, default=1.0, help="time per engine micro-benchmark (1)")
    parser.add_argument("--skip-engine", action="store_true", help="leave out the engine micro-benchmark")
    parser.add_argument("--advance-app", default="bench._apps:shingi_app", help=argparse.SUPPRESS)
    parser.add_argument("--bare-app", default="bench._apps:bare_app", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.cases_per_client < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--concurrency, --cases-per-client, --rounds and --seconds must be positive")
    # SIGTERM is turned into an exception so that the finally blocks stop servers and remove files.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted; servers stopped and temporary files removed", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
