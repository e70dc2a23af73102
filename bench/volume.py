"""The start page, the case list and the 計画管理書 of one organisation among all the country's.

    .venv/bin/python bench/volume.py [--organisations 1741] [--cases 100000] [--database-url URL] [--requests 30]

One run:

a) generates `--organisations` organisations and `--cases` cases spread over them by size, with their
   history, meetings, findings, minutes and reminders (shingi.generate: bulk inserts through the project's
   own tables, every procedure and state, opened over twelve fiscal years), then serves the service with
   uvicorn in a subprocess (one worker, loopback), as `shingi serve` does;
b) times, as the secretariat of the first organisation (a prefecture, the largest), `--requests` requests
   each of the start page (`/`), the case list (`/api/assessments`), filtered ones, and searches of the
   titles (`/api/search`): median and p90;
c) streams its register as HTML, as .xlsx and for one fiscal year: time to the first byte, total time,
   size, and the server's peak resident memory while it is written (sampled from /proc every 20 ms);
d) the baseline, in the same run on the same database: the organisation's register built whole in memory,
   as it was before it streamed (every row in a list, the HTML rendered in one string, the workbook in
   memory), in a process of its own: its time and peak memory (VmHWM).
Goals printed beside the figures: medians under 50 ms, first byte under 500 ms, server under 250 MB.
SQLite uses a temporary file; a PostgreSQL URL gets a dedicated database `shingi_bench_volume`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == BENCH_DIR:
    sys.path[0] = str(REPO)

import httpx  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402

from bench.transitions import Databases, Server, machine_summary  # noqa: E402
from shingi import migrations  # noqa: E402
from shingi.generate import generate  # noqa: E402
from workflow import accounts  # noqa: E402
from workflow.clock import SystemClock  # noqa: E402
from workflow.db import Database  # noqa: E402
from workflow.engine import Workflows  # noqa: E402
from workflow.models import Assessment, Office  # noqa: E402
from workflow.organisations import EVERY_ORGANISATION, Organisation, of  # noqa: E402
from workflow.policy import Role, system_actor  # noqa: E402

SHIPPED = Workflows.load()
GOAL_MEDIAN_MS = 50.0
GOAL_FIRST_BYTE_MS = 500.0
GOAL_RSS_MB = 250.0
SEED = 20251201


@dataclass(frozen=True)
class Filled:
    seconds: float
    #: The organisation the requests are made in (the first generated: a prefecture, the largest), its
    #: cases, its first office, and a token of its secretariat.
    organisation_id: int
    name: str
    cases: int
    office: str
    token: str


def fill(url: str, organisations: int, cases: int) -> Filled:
    """`organisations` and `cases` in every procedure and state, with their records (shingi.generate), and
    a secretariat with a token in the first organisation."""
    db = Database(url)
    migrations.upgrade(db)
    clock = SystemClock()
    made = generate(db, SHIPPED, clock, organisations=organisations, cases=cases, seed=SEED)
    chosen = made.organisation_ids[0]
    with db.reading(EVERY_ORGANISATION) as session:
        organisation = session.get(Organisation, chosen)
        assert organisation is not None
        held = session.exec(select(func.count()).select_from(Assessment)
                            .where(Assessment.organisation_id == chosen)).one()
        office = session.exec(select(Office.name).where(Office.organisation_id == chosen)
                              .order_by(col(Office.id))).first()
    operator = system_actor("bench", organisation_id=chosen)
    email = "bench-secretariat@shingi.example.org"
    accounts.add_user(db, clock, accounts.NewUser(email=email, display_name="ベンチマーク（事務局）",
                                                  roles={Role.SECRETARIAT}), operator)
    token = accounts.create_token(db, clock, email, operator, name="bench").token
    db.dispose()
    return Filled(made.seconds, chosen, organisation.name, held, office or "", token)


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(client: httpx.Client, path: str, requests: int) -> tuple[float, float]:
    client.get(path).raise_for_status()  # warm
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


def streamed(client: httpx.Client, path: str, pid: int) -> dict[str, float]:
    peak, done = [_rss_mb(pid)], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(_rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    first, size = None, 0
    with client.stream("GET", path, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw():
            first = first or time.perf_counter()
            size += len(chunk)
    total = time.perf_counter()
    done.set()
    sampler.join()
    return {"first_ms": ((first or total) - started) * 1000, "total_s": total - started, "mb": size / 1e6,
            "rss_before": peak[0], "rss_peak": max(peak)}


def baseline_in_memory(url: str, organisation_id: int) -> None:
    """The organisation's register as it was built before it streamed: all rows in a list, one string, one
    workbook."""
    from notifications import papers
    from notifications.formats import sheets_to_xlsx
    from notifications.letterhead import letterhead_of
    from notifications.register import HEADER, SHEET, Register, RegisterFilter, _sheet_values

    db = Database(url)
    env = papers.environment()
    started = time.perf_counter()
    scope = of(organisation_id)
    with db.reading(scope) as session:
        total = session.exec(select(func.count()).select_from(Assessment).where(*RegisterFilter().criteria())).one()
        letterhead = letterhead_of(session, organisation_id)
    register = Register(db, SHIPPED, letterhead, env, RegisterFilter(), total, scope)
    rows = list(register.rows())
    html = env.get_template("papers/register.html").render(kind_title=SHEET, letterhead=register.letterhead,
                                                           rows=rows, total=total)
    html_seconds = time.perf_counter() - started
    workbook = sheets_to_xlsx({SHEET: [HEADER, *map(_sheet_values, rows)]})
    print(json.dumps({"html_s": html_seconds, "total_s": time.perf_counter() - started, "html_mb": len(html) / 1e6,
                      "xlsx_mb": len(workbook) / 1e6, "peak_mb": _rss_mb(os.getpid(), "VmHWM")}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=1741)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="postgresql://… (default: SQLite in a temporary file)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--baseline-in-memory", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-organisation", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_in_memory:
        baseline_in_memory(args.baseline_in_memory, args.baseline_organisation)
        return
    print(machine_summary())
    with tempfile.TemporaryDirectory(prefix="shingi-bench-volume-") as workdir:
        databases = Databases(args.database_url, "shingi_bench_volume", Path(workdir))
        databases.create()
        try:
            url = databases.url_for("volume")
            print(f"database: {databases.kind}; generating {args.organisations:,} organisations and "
                  f"{args.cases:,} cases …", flush=True)
            filled = fill(url, args.organisations, args.cases)
            print(f"generated in {filled.seconds:.1f} s")
            with Server("bench._apps:shingi_app", url, Path(workdir)) as server, \
                    httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {filled.token}"},
                                 timeout=120) as client:
                assert server.proc is not None
                pid = server.proc.pid
                print(f"\nrequests as the secretariat of {filled.name} ({filled.cases:,} of its cases; "
                      f"{args.requests} each; goal: median < {GOAL_MEDIAN_MS:.0f} ms)")
                for label, path in (("start page /", "/"), ("case list", "/api/assessments?limit=50"),
                                    ("case list, published", "/api/assessments?state=published&limit=50"),
                                    ("case list, one office", f"/api/assessments?office={filled.office}&limit=50"),
                                    ("search, no hit", "/api/search?q=宛名番号"),
                                    ("search, one hit", "/api/search?q=第42号"),
                                    ("search, 20 of many", "/api/search?q=住民基本台帳")):
                    median, p90 = timed(client, path, args.requests)
                    print(f"  {label:<24} median {median:7.1f} ms   p90 {p90:7.1f} ms")
                print(f"\nthe register, streamed (goal: first byte < {GOAL_FIRST_BYTE_MS:.0f} ms, "
                      f"server < {GOAL_RSS_MB:.0f} MB)")
                for label, path in (("HTML", "/api/papers/register"), (".xlsx", "/api/papers/register?format=xlsx"),
                                    ("HTML, one fiscal year", "/api/papers/register?fiscal_year=2020")):
                    figures = streamed(client, path, pid)
                    print(f"  {label:<24} first byte {figures['first_ms']:8.0f} ms   total {figures['total_s']:6.1f} s"
                          f"   {figures['mb']:6.1f} MB   server RSS {figures['rss_before']:.0f} → peak "
                          f"{figures['rss_peak']:.0f} MB")
            baseline = json.loads(subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--baseline-in-memory", url,
                 "--baseline-organisation", str(filled.organisation_id)],
                capture_output=True, text=True, check=True, cwd=REPO).stdout.strip().splitlines()[-1])
            print("\nbaseline: the register built whole in memory (a process of its own, same database)")
            print(f"  HTML {baseline['html_mb']:.1f} MB in {baseline['html_s']:.1f} s (nothing sent before the end); "
                  f"with the .xlsx {baseline['total_s']:.1f} s; peak memory {baseline['peak_mb']:.0f} MB")
        finally:
            databases.drop()


if __name__ == "__main__":
    main()
