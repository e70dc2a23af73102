"""Meetings: the Fukuoka second subcommittee (seed 000) with its members' accounts, meetings scheduled
through the service, materials, the API's error bodies, and calls raced at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import SimpleNamespace

import pytest
from sqlmodel import select

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import accounts, documents, meetings
from workflow.clock import TOKYO
from workflow.documents import Upload
from workflow.errors import Conflict, StaleVersion
from workflow.meetings import NewMeeting
from workflow.models import Body
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification

PDF = b"%PDF-1.7\n% shiryou\n"

#: Seed 000: 第16期第2回福岡県個人情報保護審議会第二部会（住基・番号利用法部会）.
FUKUOKA = "福岡県個人情報保護審議会第二部会（住基・番号利用法部会）"
#: 出席者 as the minutes list them: four members and the chair (部会長).
FUKUOKA_MEMBERS = {"井上 真由美": "member", "櫻井 幸一": "member", "佐々木 久美子": "member", "小林 登": "chair",
                   "山元 規靖": "member"}
TOPIC = "住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価書の第三者点検について"
VENUE = "県庁行政棟10階 特9会議室"


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.fixture
def fukuoka(db, clock, make_case):
    """The subcommittee (its five members have accounts) and the case on its agenda."""
    for number, (name, position) in enumerate(FUKUOKA_MEMBERS.items(), start=1):
        accounts.add_user(db, clock, accounts.NewUser(email=f"fukuoka{number}@example.jp", display_name=name,
                                                      roles={"member"}, bodies={FUKUOKA: position}), SYSTEM)
    case = make_case("subcommittee_review", title="住民基本台帳ネットワークに関する事務", office="行財政支援課",
                     body=FUKUOKA)
    with db.reading(EVERY_ORGANISATION) as session:
        body = session.exec(select(Body).where(Body.name == FUKUOKA)).one()
    return SimpleNamespace(case=case, body=body)


def attach(db, files, clock, case, title, classification=Classification.PUBLIC):
    return documents.attach(db, files, clock, case.id, Upload(title, f"{title}.pdf", PDF, classification), SYSTEM,
                            10**6)


def new_meeting(body=REVIEWING_BODY, **overrides) -> NewMeeting:
    fields = {"body": body, "term": "第16期", "starts_at": tokyo(2023, 11, 16, 10),
              "ends_at": tokyo(2023, 11, 16, 11, 30), "venue": VENUE, **overrides}
    return NewMeeting(**fields)


def schedule(db, clock, body=REVIEWING_BODY, actor=SYSTEM, **overrides):
    return meetings.schedule(db, clock, new_meeting(body, **overrides), actor)


def error(response):
    body = response.json()["error"]
    assert set(body["message"]) == {"ja", "en"}
    return body


def rules(response):
    assert response.status_code == 422, response.text
    return {(problem["field"], problem["rule"]) for problem in error(response)["fields"]}


RACERS = 6


def race(calls):
    """Run the calls at once; each returns its result or the domain error it raised."""
    barrier = threading.Barrier(len(calls))

    def attempt(call):
        barrier.wait()
        try:
            return call()
        except (StaleVersion, Conflict) as refused:
            return refused

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(attempt, calls))
