"""The start page, the case list and the 計画管理書 at the size of a prefecture with its cities.

    .venv/bin/python bench/volume.py [--cases 100000] [--database-url URL] [--requests 30]

One run:

a) loads `--cases` assessments through the project's own tables (bulk inserts, every procedure and
   state, 40 offices, opened over twelve fiscal years), then serves the service with uvicorn in a
   subprocess (one worker, loopback), as `shingi serve` does;
b) times, as the secretariat, `--requests` requests each of the start page (`/`), the case list
   (`/api/assessments`), filtered ones, and searches of the titles (`/api/search`): median and p90;
c) streams the register as HTML and as .xlsx: time to the first byte, total time, size, and the
   server's peak resident memory while it is written (sampled from /proc every 20 ms);
d) the baseline, in the same run on the same database: the register built whole in memory, as it was
   before it streamed (every row in a list, the HTML rendered in one string, the workbook in memory),
   in a process of its own: its time and peak memory (VmHWM).
Goals printed beside the figures: medians under 50 ms, first byte under 500 ms, server under 250 MB.
SQLite uses a temporary file; a PostgreSQL URL gets a dedicated database `shingi_bench_volume`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == BENCH_DIR:
    sys.path[0] = str(REPO)

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from bench.transitions import Databases, Server, machine_summary  # noqa: E402
from shingi import migrations  # noqa: E402
from workflow.columns import table_of  # noqa: E402
from workflow.db import Database  # noqa: E402
from workflow.engine import Workflows  # noqa: E402
from workflow.models import Assessment  # noqa: E402
from workflow.organisations import DEFAULT_ORGANISATION, EVERY_ORGANISATION  # noqa: E402

SHIPPED = Workflows.load()
GOAL_MEDIAN_MS = 50.0
GOAL_FIRST_BYTE_MS = 500.0
GOAL_RSS_MB = 250.0
OFFICES = [f"{name}課" for name in (
    "市民", "市民税", "資産税", "納税", "国民健康保険", "介護保険", "障害福祉", "子育て支援", "保育", "健康増進",
    "生活福祉", "高齢福祉", "年金", "住宅", "教育総務", "学務", "人事", "情報政策", "戸籍住民", "保健予防",
    "地域福祉", "児童家庭", "医療助成", "税制", "収納", "環境", "防災", "選挙管理", "会計", "総務",
    "企画", "財政", "福祉総務", "後期高齢者医療", "水道料金", "下水道", "都市計画", "建築指導", "農政", "商工")]
SUBJECTS = ["住民基本台帳", "個人住民税", "固定資産税", "国民健康保険", "介護保険", "児童手当", "生活保護",
            "予防接種", "障害者福祉", "就学援助", "後期高齢者医療", "子ども・子育て支援"]


def load_cases(url: str, count: int) -> float:
    """`count` assessments in every procedure and state, bulk-inserted; returns the seconds it took."""
    db = Database(url)
    migrations.upgrade(db)
    started = time.perf_counter()
    rows, chooser = [], random.Random(20251201)
    procedures = [(name, list(procedure.states)) for name, procedure in SHIPPED.procedures.items()
                  if name != "consultation"]
    table = table_of(Assessment)
    with db.engine.begin() as connection:
        for number in range(1, count + 1):
            procedure, states = procedures[number % len(procedures)]
            opened = datetime(2014, 4, 1, tzinfo=UTC) + timedelta(days=chooser.randrange(12 * 365))
            state = chooser.choice(states)
            published = opened.date() + timedelta(days=200) if state in ("published", "under_review") else None
            rows.append({
                "title": f"{chooser.choice(SUBJECTS)}に関する事務（第{number}号）", "office": OFFICES[number % 40],
                "kind": "assessment", "target_count": chooser.randrange(1, 500_000),
                "handler_count": chooser.randrange(1, 2_000), "serious_incident": number % 97 == 0,
                "level": {"basic_assessment": "basic", "focused_assessment": "focused"}.get(procedure, "full"),
                "procedure": procedure, "state": state, "is_public": state == "published", "version": 1,
                "cycle": 1, "planned_holding_date": opened.date() + timedelta(days=365),
                "comment_start": opened.date() + timedelta(days=60), "comment_end": opened.date() + timedelta(days=90),
                "published_on": published, "submitted_on": published,
                "annual_review_due": published and published + timedelta(days=365),
                "reassessment_due": published and published + timedelta(days=5 * 365 - 1),
                "state_entered_at": opened, "created_at": opened, "updated_at": opened,
                "organisation_id": DEFAULT_ORGANISATION,
            })
            if len(rows) == 5000:
                connection.execute(insert(table), rows)
                rows = []
        if rows:
            connection.execute(insert(table), rows)
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds


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


def baseline_in_memory(url: str) -> None:
    """The register as it was built before it streamed: all rows in a list, one string, one workbook."""
    from notifications import papers
    from notifications.formats import sheets_to_xlsx
    from notifications.letterhead import letterhead_of
    from notifications.register import HEADER, SHEET, Register, RegisterFilter, _sheet_values

    db = Database(url)
    env = papers.environment()
    started = time.perf_counter()
    with db.reading(EVERY_ORGANISATION) as session:
        total = session.exec(select(func.count()).select_from(Assessment)).one()
    with db.reading(EVERY_ORGANISATION) as session:
        letterhead = letterhead_of(session, DEFAULT_ORGANISATION)
    register = Register(db, SHIPPED, letterhead, env, RegisterFilter(), total, EVERY_ORGANISATION)
    rows = list(register.rows())
    html = env.get_template("papers/register.html").render(kind_title=SHEET, letterhead=register.letterhead,
                                                           rows=rows, total=total)
    html_seconds = time.perf_counter() - started
    workbook = sheets_to_xlsx({SHEET: [HEADER, *map(_sheet_values, rows)]})
    print(json.dumps({"html_s": html_seconds, "total_s": time.perf_counter() - started, "html_mb": len(html) / 1e6,
                      "xlsx_mb": len(workbook) / 1e6, "peak_mb": _rss_mb(os.getpid(), "VmHWM")}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="postgresql://… (default: SQLite in a temporary file)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--baseline-in-memory", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_in_memory:
        baseline_in_memory(args.baseline_in_memory)
        return
    print(machine_summary())
    with tempfile.TemporaryDirectory(prefix="shingi-bench-volume-") as workdir:
        databases = Databases(args.database_url, "shingi_bench_volume", Path(workdir))
        databases.create()
        try:
            url = databases.url_for("volume")
            print(f"database: {databases.kind}; loading {args.cases:,} cases …", flush=True)
            print(f"loaded in {load_cases(url, args.cases):.1f} s")
            with Server("bench._apps:shingi_app", url, Path(workdir)) as server, \
                    httpx.Client(base_url=server.base_url, headers=server.headers, timeout=120) as client:
                assert server.proc is not None
                pid = server.proc.pid
                print(f"\nrequests as the secretariat ({args.requests} each; goal: median < {GOAL_MEDIAN_MS:.0f} ms)")
                for label, path in (("start page /", "/"), ("case list", "/api/assessments?limit=50"),
                                    ("case list, published", "/api/assessments?state=published&limit=50"),
                                    ("case list, one office", "/api/assessments?office=市民課&limit=50"),
                                    ("search, no hit", "/api/search?q=宛名番号"),
                                    ("search, one hit", "/api/search?q=第4242号"),
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
                [sys.executable, str(Path(__file__).resolve()), "--baseline-in-memory", url],
                capture_output=True, text=True, check=True, cwd=REPO).stdout.strip().splitlines()[-1])
            print("\nbaseline: the register built whole in memory (a process of its own, same database)")
            print(f"  HTML {baseline['html_mb']:.1f} MB in {baseline['html_s']:.1f} s (nothing sent before the end); "
                  f"with the .xlsx {baseline['total_s']:.1f} s; peak memory {baseline['peak_mb']:.0f} MB")
        finally:
            databases.drop()


if __name__ == "__main__":
    main()
