"""Who may issue and rotate the secret URLs of calendar feeds (the /feeds/*.ics themselves are reached
by the secret in their URL, not by an account: see tests/api/test_feeds.py).

| endpoint                     | secretariat | member (own)  | office, admin | public |
|------------------------------|-------------|---------------|---------------|--------|
| issue own calendar           | 403         | 201           | 403           | 401    |
| issue a body's calendar      | 201         | 403           | 403           | 401    |
| rotate a member's calendar   | 404         | 200 (own)     | 404           | 401    |
| rotate a body's calendar     | 200         | 404           | 404           | 401    |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers.people import REVIEWING_BODY
from tests.helpers.policy import assert_answer, role_table
from workflow.accounts import body_by_name
from workflow.organisations import EVERY_ORGANISATION

#: Route templates whose role table is here (read by tests/api/test_policy.py's coverage test).
POLICY_PATHS = {"/api/calendar-tokens", "/api/calendar-tokens/{token_id}/rotate"}



@dataclass
class Tokens:
    body_id: int
    member_token_id: int  # the calendar of the person("member")
    body_token_id: int    # the calendar of REVIEWING_BODY


@pytest.fixture
def tokens(public, person, db) -> Tokens:
    with db.writing(EVERY_ORGANISATION) as session:
        body_id = body_by_name(session, REVIEWING_BODY).id
    member = public.post("/api/calendar-tokens", headers=person("member").headers)
    body = public.post("/api/calendar-tokens", headers=person("secretariat").headers, json={"body_id": body_id})
    assert member.status_code == body.status_code == 201, (member.text, body.text)
    return Tokens(body_id, member.json()["id"], body.json()["id"])


def request(t: Tokens) -> dict[str, tuple[str, str, Any]]:
    return {
        "issue own calendar": ("POST", "/api/calendar-tokens", None),
        "issue own calendar (empty object)": ("POST", "/api/calendar-tokens", {}),
        "issue body calendar": ("POST", "/api/calendar-tokens", {"body_id": t.body_id}),
        "issue calendar of unknown body": ("POST", "/api/calendar-tokens", {"body_id": 424242}),
        "rotate member's calendar": ("POST", f"/api/calendar-tokens/{t.member_token_id}/rotate", None),
        "rotate body calendar": ("POST", f"/api/calendar-tokens/{t.body_token_id}/rotate", None),
        "rotate unknown calendar": ("POST", "/api/calendar-tokens/424242/rotate", None),
    }


#: endpoint → expected status for:  public, secretariat, chair, member, other_member, office, other_office, admin
TABLE: dict[str, tuple[int, ...]] = {
    "issue own calendar":                (401, 403, 201, 201, 201, 403, 403, 403),
    "issue own calendar (empty object)": (401, 403, 201, 201, 201, 403, 403, 403),
    "issue body calendar":               (401, 201, 403, 403, 403, 403, 403, 403),
    "issue calendar of unknown body":    (401, 404, 403, 403, 403, 403, 403, 403),
    "rotate member's calendar":          (401, 404, 404, 200, 404, 404, 404, 404),
    "rotate body calendar":              (401, 200, 404, 404, 404, 404, 404, 404),
    "rotate unknown calendar":           (401, 404, 404, 404, 404, 404, 404, 404),
}


@pytest.mark.parametrize(("endpoint", "role", "expected"), role_table(TABLE))
def test_calendar_token_endpoint_by_role(as_role, tokens, endpoint, role, expected):
    response = as_role(role, request(tokens)[endpoint])
    assert_answer(response, expected)
    if expected < 400:
        issued = response.json()
        assert issued["url"].startswith("https://testserver/feeds/") and issued["url"].endswith(".ics")
        assert issued["kind"] == ("body" if "body" in endpoint else "member")


def test_the_table_names_every_route_here(app):
    # From the OpenAPI paths: app.routes holds the included routers, not their routes.
    templates = {path for path in app.openapi()["paths"] if path.startswith("/api/calendar-tokens")}
    assert templates == POLICY_PATHS
