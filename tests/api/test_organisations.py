"""Two organisations side by side: nothing of one reaches the users of the other (workflow/organisations.py).

The first organisation holds the records of tests/api/test_existence.py's World (a case under review,
its finding, comment, report, documents, meetings and minutes, a member's token, calendar URL and notice).
The second has people in every role, with the same body and office names as the first's: its
secretariat, administrator, chair, member and office.

- Every endpoint that names a record by id (test_existence.PROBES, the pages' included) answers each
  of them for the first organisation's record exactly as for an id nobody uses.
- Every list, dashboard, search, register, feed and page without an id shows none of the first
  organisation's records and counts none of them.
On PostgreSQL the suite runs with row-level security on (the service's role, workflow/db.py); a test
below checks that the database itself refuses the rows of another organisation.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api.test_existence import PROBES, World, send_request, served_routes, unequal_answers
from tests.helpers.people import REVIEWING_BODY
from workflow import accounts, meetings
from workflow.clock import TOKYO
from workflow.organisations import EVERY_ORGANISATION, OutsideOrganisation, of
from workflow.policy import system_actor

#: The second organisation's people: every role that signs in (the first organisation's names).
FOREIGN_ROLES = ("secretariat", "admin", "chair", "member", "office")

#: Texts only the first organisation's records hold (World's).
MARKS = ("未回答の質問", "意見の概要", "市政情報室", "開会します", "hyoukasho", "資料2 評価書")


@pytest.fixture
def world(db, clock, files, make_case, person) -> World:
    return World(db, clock, files, make_case, person)


@pytest.fixture
def send_as_foreigner(public: TestClient, foreigner):
    def send(role: str, request):
        return send_request(public, foreigner(role), request)

    return send


@pytest.mark.parametrize("probe", [pytest.param(probe, id=probe.name) for probe in PROBES])
def test_a_record_of_another_organisation_answers_as_a_missing_one(world, send_as_foreigner, probe):
    unequal = list(unequal_answers(world, send_as_foreigner, probe, FOREIGN_ROLES))
    assert not unequal, f"{probe.name} tells another organisation's record from a missing one:\n" + "\n".join(unequal)


def _whole_world(world: World) -> None:
    for name in ("case", "finding", "comment", "resolution", "public_document", "secret_document", "meeting",
                 "public_meeting", "correction", "other_meeting", "elsewhere", "api_token", "calendar_token", "notice"):
        getattr(world, name)
    world.version_elsewhere  # noqa: B018 - made on first use


#: Routes without an id whose answer is not about the record (or not a page of it), and the public's own
#: calendar: what is public in any organisation (its public meetings), the same for everyone, signed in or not.
NOT_ABOUT_THE_RECORD = {"/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
                        "/sign-in", "/static", "/feeds/public.ics"}


def test_no_list_page_search_or_paper_shows_or_counts_the_other_organisations_records(app, world, send_as_foreigner,
                                                                                      public, person):
    _whole_world(world)
    routes = sorted(path for method, path in served_routes(app)
                    if method == "GET" and "{" not in path and path not in NOT_ABOUT_THE_RECORD)
    assert "/api/assessments" in routes and "/" in routes
    queries = {"/api/search": {"q": "未回答の"}}  # (the answer repeats the words asked for: no mark among them)
    # The first organisation's own people see its records on these very routes: the marks are there to see.
    own = public.get("/api/assessments", headers=person("secretariat").headers).json()
    assert own["total"] >= 2
    assert public.get("/api/search", params={"q": "未回答の"}, headers=person("secretariat").headers).json()["items"]
    leaks = []
    for role in FOREIGN_ROLES:
        for path in routes:
            answer = send_as_foreigner(role, ("GET", path + _query(queries.get(path)), None))
            assert answer.status_code < 500, (role, path, answer.text)
            body = answer.text
            leaks += [f"as {role}, GET {path} shows {mark!r}" for mark in MARKS if mark in body]
            if path == "/api/assessments" and answer.json()["total"] != 0:
                leaks.append(f"as {role}, GET {path} counts {answer.json()['total']} cases")
            if path == "/api/search" and answer.json()["items"]:
                leaks.append(f"as {role}, GET {path} finds {answer.json()['items']}")
    assert not leaks, "\n".join(leaks)


def _query(params: dict[str, str] | None) -> str:
    return "" if not params else "?" + "&".join(f"{key}={value}" for key, value in params.items())


def test_a_session_refuses_a_row_of_another_organisation(db, second):
    with pytest.raises(OutsideOrganisation), db.writing(of(second.id)) as session:
        session.add(accounts.Office(name="市民課", organisation_id=1))


def test_the_same_names_live_in_both_organisations(db, clock, foreigner, person):
    person("office"), person("member")
    foreigner("office"), foreigner("member")
    with db.reading(EVERY_ORGANISATION) as session:
        offices = session.exec(text("SELECT organisation_id FROM office WHERE name = '市民課' ORDER BY 1")).all()
    assert [row[0] for row in offices] == [1, 2] or len(offices) == 2


def test_the_database_itself_keeps_the_organisations_apart(db, world, second):
    """PostgreSQL: row-level security, whatever the statement (a raw one, past the domain's scoping)."""
    if db.is_sqlite:
        pytest.skip("row-level security is PostgreSQL's")
    world.case  # noqa: B018
    with db.reading(of(second.id)) as session:
        assert session.execute(text("SELECT count(*) FROM assessment")).scalar_one() == 0
        assert session.execute(text("SELECT current_user")).scalar_one() == "shingi_app"
    with db.reading(of(1)) as session:
        assert session.execute(text("SELECT count(*) FROM assessment")).scalar_one() >= 1
    with pytest.raises(Exception, match="row-level security"), db.writing(of(second.id)) as session:
        session.execute(text("INSERT INTO office (name, organisation_id) VALUES ('市民課', 1)"))


def test_the_public_may_choose_an_organisation(public, make_case, db, clock, second):
    published = make_case("published")
    everyone = public.get("/api/assessments").json()
    assert published.id in [item["id"] for item in everyone["items"]]
    assert public.get("/api/assessments", params={"organisation": "default"}).json()["total"] == everyone["total"]
    assert public.get("/api/assessments", params={"organisation": second.code}).json()["total"] == 0
    assert public.get("/api/assessments", params={"organisation": "nowhere"}).json()["total"] == 0


def test_the_public_calendar_of_one_organisation(public, world, db, clock, second):
    world.public_meeting  # noqa: B018 - the first organisation's public meeting, at 市政情報室
    meetings.schedule(db, clock, meetings.NewMeeting(
        body=REVIEWING_BODY, term="第1期", starts_at=datetime(2025, 7, 1, 14, tzinfo=TOKYO), venue="乙市役所 第2会議室",
        is_public=True), system_actor("乙市 事務局", organisation_id=second.id))
    both = public.get("/feeds/public.ics").text
    assert "市政情報室" in both and "乙市役所" in both
    theirs = public.get("/feeds/public.ics", params={"organisation": second.code}).text
    assert "乙市役所" in theirs and "市政情報室" not in theirs
