"""The clock, the file store, the services (`core`) and the app over them, the scheduler's jobs, and
the steps the scheduler takes (following changes, delivering due reminders)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from notifications.delivery import Deliverer
from notifications.following import Follower
from shingi import bootstrap
from shingi.config import Settings
from shingi.scheduler import Jobs
from workflow.clock import TOKYO, FixedClock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.files import FileStore

#: The repository's root (the folder of pyproject.toml).
ROOT = Path(__file__).resolve().parents[2]

#: The instant every test starts at, unless it moves the clock: Mon 2 Jun 2025, 09:00 in Tokyo.
START = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)

#: The shipped procedures, loaded once.
SHIPPED = Workflows.load()


@pytest.fixture(scope="session")
def workflows() -> Workflows:
    return SHIPPED


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def files(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "files")


@pytest.fixture
def core(db: Database, workflows: Workflows, clock: FixedClock, files: FileStore) -> bootstrap.Core:
    """The services as the composition root builds them, on the test's database, clock and files."""
    settings = Settings(database_url=db.url, migrate_on_start=False, files_dir=files.root, scheduler=False)
    return bootstrap.build(settings, database=db, workflows=workflows, clock=clock, files=files)


@pytest.fixture
def app(core: bootstrap.Core):
    # The scheduler does not run in the background of tests: a test that needs it calls its jobs itself.
    return bootstrap.web_app(core)


def with_web_options(app, **options: Any) -> None:
    """The running app as if started with these settings (cookie_secure, max_upload_bytes …)."""
    services = app.state.services
    app.state.services = replace(services, options=replace(services.options, **options))


@pytest.fixture
def trust_tokens_for(app) -> Callable[[float], None]:
    """Set how long the running app trusts a token's look-up (SHINGI_TOKEN_CACHE_SECONDS)."""
    return lambda seconds: with_web_options(app, token_cache_seconds=seconds)


@pytest.fixture
def jobs(core: bootstrap.Core) -> Jobs:
    return core.jobs()


def follow_changes(db: Database, clock: FixedClock, workflows: Workflows | None = None) -> int:
    """What the scheduler does after every commit: the reminders of changed subjects recomputed."""
    return Follower(db, workflows or SHIPPED, clock, None).follow()


def deliver_due(db: Database, clock: FixedClock, workflows: Workflows | None = None, *, limit: int = 500) -> int:
    """The scheduler's delivery of due reminders (changes are not followed first)."""
    return Deliverer(db, workflows or SHIPPED, clock, None).deliver_due(limit=limit)


@pytest.fixture
def project_root() -> Path:
    return ROOT
