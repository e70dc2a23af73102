"""Fixtures: a real database (a SQLite file, or PostgreSQL when SHINGI_TEST_DATABASE_URL says so),
a settable clock, the API app over them, and factories for cases in any state.

On PostgreSQL each test process creates its own database on the server and drops it at the end, so
parallel workers (pytest-xdist) never share tables. Every test starts with empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from notifications.delivery import Deliverer
from notifications.following import Follower
from shingi import bootstrap, migrations
from shingi.config import Settings
from shingi.scheduler import Jobs
from workflow import accounts, resolutions, service
from workflow.audit import GENESIS
from workflow.calendar import DEFAULT_CALENDAR
from workflow.clock import TOKYO, FixedClock
from workflow.db import Database, normalise_url
from workflow.engine import Workflows
from workflow.files import FileStore
from workflow.models import Assessment
from workflow.policy import system_actor

POSTGRES_URL = os.environ.get("SHINGI_TEST_DATABASE_URL")

# Property tests check properties, not speed: a loaded 2-core CI machine must not fail them on time.
hypothesis.settings.register_profile("shingi", deadline=None, print_blob=True)
hypothesis.settings.load_profile("shingi")
#: Every table, children first (the audit head is reset, not emptied).
TABLES = tuple(table.name for table in reversed(SQLModel.metadata.sorted_tables) if table.name != "audit_head")

#: The actor of service-level tests: the system acting for the secretariat.
SYSTEM = system_actor("事務局 テスト")

#: The instant every test starts at, unless it moves the clock: Mon 2 Jun 2025, 09:00 in Tokyo.
START = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"shingi: database PostgreSQL ({make_url(normalise_url(POSTGRES_URL)).render_as_string()})"
    return "shingi: database SQLite (a temporary file)"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not POSTGRES_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'shingi-test.db'}"
        return
    server = make_url(normalise_url(POSTGRES_URL))
    name = f"shingi_test_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:  # an unreachable server fails the run
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrations.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_database: Database) -> Iterator[Database]:
    yield migrated_database
    with migrated_database.writing() as session:
        if migrated_database.is_sqlite:
            for table in TABLES:
                session.execute(text(f"DELETE FROM {table}"))
        else:
            session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        session.execute(text(f"UPDATE audit_head SET last_seq = 0, length = 0, last_hash = '{GENESIS}'"))


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
    return Follower(db, workflows or SHIPPED, DEFAULT_CALENDAR, clock, None).follow()


def deliver_due(db: Database, clock: FixedClock, workflows: Workflows | None = None, *, limit: int = 500) -> int:
    """The scheduler's delivery of due reminders (changes are not followed first)."""
    return Deliverer(db, workflows or SHIPPED, clock, None).deliver_due(limit=limit)


# --- people -------------------------------------------------------------------------------------

REVIEWING_BODY = "テスト市情報公開・個人情報保護審議会 特定個人情報保護評価部会"
OTHER_BODY = "別市個人情報保護審議会"

#: One person per role the policy knows, and the ones it must keep out.
ROLES: dict[str, dict[str, Any]] = {
    "secretariat": {"roles": {"secretariat"}},
    "chair": {"roles": {"member"}, "bodies": {REVIEWING_BODY: "chair"}},
    "member": {"roles": {"member"}, "bodies": {REVIEWING_BODY: "member"}},
    "other_member": {"roles": {"member"}, "bodies": {OTHER_BODY: "member"}},
    "office": {"roles": {"office"}, "office": "市民課"},
    "other_office": {"roles": {"office"}, "office": "市民税課"},
    "admin": {"roles": {"admin"}},
}


@dataclass
class Person:
    role: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def person(db: Database, clock: FixedClock) -> Callable[[str], Person]:
    """person("member") → a user of that role with an API token (made on first use)."""
    made: dict[str, Person] = {}

    def get(role: str) -> Person:
        if role not in made:
            email = f"{role.replace('_', '-')}@example.jp"
            accounts.add_user(db, clock, accounts.NewUser(email=email, display_name=f"{role} テスト", **ROLES[role]),
                              SYSTEM)
            issued = accounts.create_token(db, clock, email, SYSTEM, name="tests", lifetime=timedelta(days=3650))
            made[role] = Person(role, email, issued.token)
        return made[role]

    return get


@pytest.fixture
def public(app) -> Iterator[TestClient]:
    """A client with no account: the public (over HTTPS, so that Secure cookies are kept)."""
    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def client(app, person) -> Iterator[TestClient]:
    """A client signed in (by API token) as the secretariat."""
    with TestClient(app, raise_server_exceptions=False, headers=person("secretariat").headers) as test_client:
        yield test_client


# --- factories ----------------------------------------------------------------------------------

#: The body that reviews the factories' cases unless a test names another (no test user sits on it).
DEFAULT_BODY = "既定市個人情報保護審議会 特定個人情報保護評価部会"

FULL = {"title": "住民基本台帳に関する事務", "office": "市民課", "target_count": 430_000, "handler_count": 120,
        "serious_incident": False, "body": DEFAULT_BODY}
FOCUSED = {**FULL, "target_count": 150_000}
BASIC = {**FULL, "target_count": 5_000}

#: Events (with inputs) that walk a full assessment along its main road, and the state each reaches.
#: Dates fit START's clock: the public comment has ended by the time it is closed.
ROAD = {
    "public_comment": [("open_public_comment", {"comment_start": "2025-04-01", "comment_end": "2025-04-30"})],
    "subcommittee_review": [("close_public_comment", {"comment_count": 0})],
    "revised": [("request_revision", {})],
    "reviewed_again": [("submit_revision", {})],
    "reported_to_plenary": [("@adopt", {"kind": "subcommittee_report"}),
                            ("report_to_plenary", {"reported_on": "2025-05-20"})],
    "published": [("@adopt", {"kind": "reply"}),
                  ("publish", {"submitted_on": "2025-05-26", "published_on": "2025-05-30"})],
}

#: How to reach each state of each procedure from its initial state.
PATHS: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {
    "full_assessment": {
        "drafted": [],
        "public_comment": ROAD["public_comment"],
        "subcommittee_review": ROAD["public_comment"] + ROAD["subcommittee_review"],
        "revised": ROAD["public_comment"] + ROAD["subcommittee_review"] + ROAD["revised"],
        "reported_to_plenary": ROAD["public_comment"] + ROAD["subcommittee_review"] + ROAD["reported_to_plenary"],
        "published": ROAD["public_comment"] + ROAD["subcommittee_review"] + ROAD["reported_to_plenary"]
        + ROAD["published"],
        "withdrawn": [("withdraw", {"reason": "事務の廃止"})],
    },
}
for _procedure in ("focused_assessment", "basic_assessment"):
    PATHS[_procedure] = {
        "drafted": [],
        "published": ROAD["published"][1:],  # no reply needed below a full assessment
        "withdrawn": [("withdraw", {"reason": "事務の廃止"})],
    }
PATHS["consultation"] = {
    "consulted": [],
    "under_deliberation": [("start_deliberation", {})],
    "reported_to_plenary": [("start_deliberation", {}), ("@adopt", {"kind": "subcommittee_report"}),
                            ("report_to_plenary", {"reported_on": "2025-05-20"})],
    "replied": [("start_deliberation", {}), ("@adopt", {"kind": "reply"}), ("reply", {})],
    "withdrawn": [("withdraw", {"reason": "諮問の取下げ"})],
}
CONSULTATION = {"title": "個人番号を含む作業の再委託について", "office": "行財政支援課", "consultation_type": "re_outsourcing",
                "body": DEFAULT_BODY}
PROCEDURE_CASES = {"full_assessment": FULL, "focused_assessment": FOCUSED, "basic_assessment": BASIC,
                   "consultation": CONSULTATION}


def adopt_resolution(db: Database, clock: FixedClock, case: Assessment, kind: str) -> None:
    """Draft and adopt this cycle's subcommittee report or reply, as the record guards require."""
    resolution = resolutions.draft(db, clock, case.id, resolutions.ResolutionKind(kind), SYSTEM,
                                   text=f"{case.title}について審議した結果、現段階における評価としては妥当である。")
    resolutions.adopt(db, clock, resolution.id, clock.now().date(), "部会長", SYSTEM)


@pytest.fixture
def make_case(db: Database, workflows: Workflows, clock: FixedClock) -> Callable[..., Assessment]:
    """make_case(state="published", procedure="full_assessment", **overrides) → a case in that state."""

    def make(state: str | None = None, procedure: str = "full_assessment", **overrides: Any) -> Assessment:
        state = state or ("consulted" if procedure == "consultation" else "drafted")
        fields = {**PROCEDURE_CASES[procedure], **overrides}
        if procedure == "consultation":
            case = service.create_consultation(db, workflows, clock, service.NewConsultation(**fields), SYSTEM)
        else:
            case = service.create_assessment(db, workflows, clock, service.NewAssessment(**fields), SYSTEM)
        for event, inputs in PATHS[case.procedure][state]:
            if event == "@adopt":
                adopt_resolution(db, clock, case, inputs["kind"])
                continue
            case = service.advance(db, workflows, clock, case.id, event=event, expected_version=case.version,
                                   inputs=inputs, actor=SYSTEM)
        assert case.state == state
        return case

    return make


#: Events whose guards need an adopted record, and the record.
RECORD_GUARDS = {("full_assessment", "report_to_plenary"): "subcommittee_report",
                 ("full_assessment", "publish"): "reply",
                 ("consultation", "report_to_plenary"): "subcommittee_report",
                 ("consultation", "reply"): "reply"}


@pytest.fixture
def prepare_for(db: Database, clock: FixedClock) -> Callable[[Assessment, str], None]:
    """prepare_for(case, event): adopt the records the event's guards need (nothing for most events)."""

    def prepare(case: Assessment, event: str) -> None:
        kind = RECORD_GUARDS.get((case.procedure, event))
        if kind:
            adopt_resolution(db, clock, case, kind)

    return prepare


@pytest.fixture
def fire(db: Database, workflows: Workflows, clock: FixedClock) -> Callable[..., Assessment]:
    """fire(case, event, **inputs) → the case after the event (with the case's current version)."""

    def fire_event(case: Assessment, event: str, *, version: int | None = None, note: str | None = None,
                   **inputs: Any) -> Assessment:
        return service.advance(db, workflows, clock, case.id, event=event,
                               expected_version=case.version if version is None else version,
                               inputs=inputs, actor=SYSTEM, note=note)

    return fire_event


def snapshot(db: Database, case_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case row and its history, to show that a refused advance changed nothing."""
    case = service.get_assessment(db, case_id, SYSTEM)
    return case.model_dump(), [entry.model_dump() for entry in service.history(db, case_id, SYSTEM)]


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parents[1]


# --- role tables --------------------------------------------------------------------------------

#: The columns of every role table in tests/test_policy*.py, in order.
POLICY_ROLES = ("public", "secretariat", "chair", "member", "other_member", "office", "other_office", "admin")


def role_table(table: dict[str, tuple[int, ...]]) -> list[Any]:
    """pytest params (endpoint, role, expected status) from a table of endpoint → one status per role."""
    return [pytest.param(endpoint, role, expected, id=f"{endpoint} as {role}")
            for endpoint, statuses in table.items()
            for role, expected in zip(POLICY_ROLES, statuses, strict=True)]


def assert_answer(response: Any, expected: int) -> None:
    """The expected status, and a refusal in the one error shape with both languages."""
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()["error"]["message"]) == {"ja", "en"}
