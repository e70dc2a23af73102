"""The deliberation record's endpoints walked for every role and the public (like tests/api/test_policy.py).

Who may do what:
- read findings, versions, changes, public comments and the disposition: READ_RECORDS (the staff, the
  reviewing body's members, the case's office; on a public case others signed in get 403, the public 401);
- raise a finding: RECORD_FINDING (the secretariat naming the member, or a member of the reviewing
  body in writing in their own name — a member may not record what was said at a meeting: 422);
- answer a finding or respond to a public comment: ANSWER_FINDING (the case's office, the secretariat);
- close, carry, reopen a finding, add a report version, record a public comment: RECORD_DELIBERATION
  (the secretariat).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.policy import assert_answer, role_table
from workflow import findings, public_comments
from workflow.clock import TOKYO
from workflow.findings import FindingClose, NewFinding
from workflow.public_comments import NewPublicComment

pytestmark = pytest.mark.usefixtures("clean_records")

#: The route templates this table covers, exactly as FastAPI writes them.
POLICY_PATHS = {
    "/api/assessments/{case_id}/findings",
    "/api/assessments/{case_id}/findings/open",
    "/api/findings/{finding_id}/answer",
    "/api/findings/{finding_id}/close",
    "/api/findings/{finding_id}/carry",
    "/api/findings/{finding_id}/reopen",
    "/api/assessments/{case_id}/versions",
    "/api/assessments/{case_id}/changes",
    "/api/assessments/{case_id}/public-comments",
    "/api/public-comments/{comment_id}",
    "/api/assessments/{case_id}/public-comments/disposition",
}


@dataclass
class World:
    """A case under review (not public) with an open and a closed finding, a meeting held and one to
    come, and a case in its public comment (public) with a recorded comment; both reviewed by
    REVIEWING_BODY, office 市民課."""

    review: Any
    commenting: Any
    held: Any
    meeting: Any
    open_finding: Any
    closed_finding: Any
    comment: Any


@pytest.fixture
def world(make_case, make_meeting, db, clock) -> World:
    review = make_case("subcommittee_review", body=REVIEWING_BODY)
    commenting = make_case("public_comment", body=REVIEWING_BODY)
    held = make_meeting(review, 2, datetime(2025, 5, 20, 10, tzinfo=TOKYO))
    meeting = make_meeting(review, 3, datetime(2025, 6, 20, 10, tzinfo=TOKYO), status="scheduled")
    raised = [findings.raise_finding(db, clock, review.id, NewFinding(raised_by="櫻井委員", raised_on=date(2025, 5, 20),
                                                                      text=text), SYSTEM)
              for text in ("未回答の質問", "終了した質問")]
    findings.close_finding(db, clock, raised[1].id, FindingClose(), SYSTEM)
    comment = public_comments.record_comment(db, clock, commenting.id, NewPublicComment(
        received_on=date(2025, 4, 10), channel="web", submitter="市民A", summary="意見の概要"), SYSTEM)
    return World(review, commenting, held, meeting, raised[0], raised[1], comment)


def request(w: World) -> dict[str, tuple[str, str, Any]]:
    """endpoint name → (method, path, JSON body)."""
    review, commenting = w.review.id, w.commenting.id
    return {
        "raise finding in writing": ("POST", f"/api/assessments/{review}/findings", {"text": "書面による質問"}),
        "record finding raised at a meeting": ("POST", f"/api/assessments/{review}/findings", {
            "raised_by": "櫻井委員", "meeting_id": w.held.id, "text": "会議での発言"}),
        "list findings": ("GET", f"/api/assessments/{review}/findings", None),
        "list findings of a public case": ("GET", f"/api/assessments/{commenting}/findings", None),
        "open findings (質問事項)": ("GET", f"/api/assessments/{review}/findings/open", None),
        "answer finding": ("POST", f"/api/findings/{w.open_finding.id}/answer", {"answer": "回答"}),
        "close finding": ("POST", f"/api/findings/{w.open_finding.id}/close", {}),
        "carry finding": ("POST", f"/api/findings/{w.open_finding.id}/carry", {"carried_to_meeting_id": w.meeting.id}),
        "reopen finding": ("POST", f"/api/findings/{w.closed_finding.id}/reopen", {"reason": "再確認"}),
        "add version": ("POST", f"/api/assessments/{review}/versions", {"submitted_on": "2025-05-30"}),
        "list versions": ("GET", f"/api/assessments/{review}/versions", None),
        "list changes": ("GET", f"/api/assessments/{review}/changes", None),
        "record public comment": ("POST", f"/api/assessments/{commenting}/public-comments", {
            "received_on": "2025-04-11", "channel": "email", "submitter": "市民B", "summary": "意見"}),
        "list public comments": ("GET", f"/api/assessments/{commenting}/public-comments", None),
        "respond to public comment": ("PATCH", f"/api/public-comments/{w.comment.id}", {
            "response": "実施機関の考え方", "no_change_reason": "記載済み"}),
        "disposition of a public case": ("GET", f"/api/assessments/{commenting}/public-comments/disposition", None),
        "disposition of a case under review": ("GET", f"/api/assessments/{review}/public-comments/disposition",
                                               None),
    }


#: endpoint → expected status for:       public, secretariat, chair, member, other_member, office, other_office, admin
TABLE: dict[str, tuple[int, ...]] = {
    "raise finding in writing":           (404, 422, 201, 201, 404, 403, 404, 403),
    "record finding raised at a meeting": (404, 201, 422, 422, 404, 403, 404, 403),
    "list findings":                      (404, 200, 200, 200, 404, 200, 404, 200),
    "list findings of a public case":     (401, 200, 200, 200, 403, 200, 403, 200),
    "open findings (質問事項)":            (404, 200, 200, 200, 404, 200, 404, 200),
    "answer finding":                     (404, 200, 403, 403, 404, 200, 404, 403),
    "close finding":                      (404, 200, 403, 403, 404, 403, 404, 403),
    "carry finding":                      (404, 200, 403, 403, 404, 403, 404, 403),
    "reopen finding":                     (404, 200, 403, 403, 404, 403, 404, 403),
    "add version":                        (404, 201, 403, 403, 404, 403, 404, 403),
    "list versions":                      (404, 200, 200, 200, 404, 200, 404, 200),
    "list changes":                       (404, 200, 200, 200, 404, 200, 404, 200),
    "record public comment":              (401, 201, 403, 403, 403, 403, 403, 403),
    "list public comments":               (401, 200, 200, 200, 403, 200, 403, 200),
    "respond to public comment":          (401, 200, 403, 403, 403, 200, 403, 403),
    "disposition of a public case":       (401, 200, 200, 200, 403, 200, 403, 200),
    "disposition of a case under review": (404, 200, 200, 200, 404, 200, 404, 200),
}


@pytest.mark.parametrize(("endpoint", "role", "expected"), role_table(TABLE))
def test_endpoint_by_role(as_role, world, endpoint, role, expected):
    assert_answer(as_role(role, request(world)[endpoint]), expected)


def test_the_table_covers_every_route_of_the_records_router(app):
    """POLICY_PATHS names every route of api/routes/records.py, and every method of each is in the table."""
    from api.routes import records

    templates = {route.path for route in records.router.routes}
    assert templates == POLICY_PATHS
    served = set(app.openapi()["paths"])
    assert served >= POLICY_PATHS
    w = World(*[type("X", (), {"id": 0})()] * 7)
    tabled = {(method, path) for method, path, _ in request(w).values()}
    routed = {(method, route.path.replace("{case_id}", "0").replace("{finding_id}", "0")
               .replace("{comment_id}", "0"))
              for route in records.router.routes for method in route.methods}
    assert routed == tabled


def test_refusals_change_nothing(public, person, world, db):
    before = [f.status for f in findings.list_findings(db, world.review.id, SYSTEM)]
    for role in ("chair", "office", "other_member", "admin"):
        public.post(f"/api/findings/{world.open_finding.id}/close", headers=person(role).headers, json={})
        public.post(f"/api/assessments/{world.review.id}/versions", headers=person(role).headers,
                    json={"submitted_on": "2025-05-30"})
    assert [f.status for f in findings.list_findings(db, world.review.id, SYSTEM)] == before
    versions = public.get(f"/api/assessments/{world.review.id}/versions", headers=person("secretariat").headers)
    assert versions.json() == []
