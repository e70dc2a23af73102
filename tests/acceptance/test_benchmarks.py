"""The benchmarks still run: each script of bench/ on a small load, on the suite's kind of database. Their
figures are not checked here (a test is no place to time anything; BENCHMARKS.md has the figures)."""

import os
import subprocess
import sys

from tests.helpers.core import ROOT
from tests.helpers.database import POSTGRES_URL

DATABASE = ["--database-url", POSTGRES_URL] if POSTGRES_URL else []


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args, *DATABASE], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_transitions_benchmark_runs_with_its_baselines():
    out = _run("bench/transitions.py", "--seconds", "0.5", "--warmup", "0.2", "--concurrency", "1",
               "--cases-per-client", "2", "--micro-seconds", "0.05")
    assert "advance / bare =" in out and "fresh / shared" in out


def test_the_reminders_benchmark_runs_with_its_goal():
    out = _run("bench/reminders.py", "--count", "200", "--spread-seconds", "1")
    assert "p99" in out


def test_the_volume_benchmark_runs_with_its_baseline():
    out = _run("bench/volume.py", "--organisations", "20", "--cases", "2000", "--requests", "2")
    assert "first byte" in out and "baseline: the register built whole in memory" in out


def test_the_load_benchmark_runs_the_mix_with_its_baseline():
    # The mix on this suite's database; the fault scenarios (PostgreSQL, a minute or more each) run apart.
    out = _run("bench/load.py", "--scenario", "mix", "--duration", "8", "--clients", "4", "--cases", "12")
    assert "baseline: the same mix on 1 web instance" in out and "p99 ms" in out
    assert "every answered write stored" in out
