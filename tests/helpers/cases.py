"""Cases in any state of any procedure (`make_case`), events fired on them (`fire`), the records their
guards need (`prepare_for`), and a snapshot to show that a refused advance changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import resolutions, service
from workflow.clock import FixedClock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.models import Assessment

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


@pytest.fixture
def review(make_case):
    """A full assessment under the subcommittee's review, reviewed by REVIEWING_BODY."""
    return make_case("subcommittee_review", body=REVIEWING_BODY)


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
