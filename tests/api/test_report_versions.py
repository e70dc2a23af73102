"""Report versions (評価書の版) and the 修正箇所一覧 over HTTP: withheld parts need a reason, readers see
only the documents they may know, a version added with its changes, and the API's answers to odd input
(tests/integration/test_report_versions.py: in the service)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.people import SYSTEM
from tests.helpers.records import json_values
from tests.helpers.report_versions import AUTHENTICATION_AFTER, AUTHENTICATION_BEFORE, AUTHENTICATION_SECTION, version
from workflow import findings, report_versions
from workflow.findings import NewFinding
from workflow.policy import Classification

pytestmark = pytest.mark.usefixtures("clean_records")

# --- documents and withheld parts ---------------------------------------------------------------

def test_withheld_parts_need_a_reason(client, review):
    response = client.post(f"/api/assessments/{review.id}/versions", json={
        "submitted_on": "2025-05-30", "public_document_id": 1, "withheld": [{"section": "Ⅲ", "reason": " "}]})
    assert response.status_code == 422
    assert ("withheld.0.reason", "not_empty") in {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]}


# --- who reads and writes -----------------------------------------------------------------------

def test_readers_see_only_the_documents_they_may_know(public, person, review, attach, db, clock):
    full = attach(review, "全項目評価書（全体）", Classification.MEMBERS_ONLY)
    published = attach(review, "全項目評価書（公表版）")
    report_versions.add_version(db, clock, review.id, version(document_id=full.id, public_document_id=published.id),
                                SYSTEM)
    seen = {}
    for role in ("secretariat", "member", "office"):
        body = public.get(f"/api/assessments/{review.id}/versions", headers=person(role).headers).json()
        seen[role] = (body[0]["document_id"], body[0]["public_document_id"])
    assert seen == {"secretariat": (full.id, published.id), "member": (full.id, published.id),
                    "office": (None, published.id)}


# --- the API ------------------------------------------------------------------------------------

def test_the_api_adds_a_version_with_its_changes(client, review, db, clock):
    finding = findings.raise_finding(db, clock, review.id, NewFinding(raised_by="山元委員", text="違和感がある"), SYSTEM)
    response = client.post(f"/api/assessments/{review.id}/versions", json={
        "label": "修正版", "submitted_on": "2025-05-30", "note": "資料3",
        "changes": [{"section": AUTHENTICATION_SECTION, "before": AUTHENTICATION_BEFORE, "after": AUTHENTICATION_AFTER,
                     "reason": "委員の指摘", "finding_ids": [finding.id]}]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["number"], body["label"], body["note"], body["cycle"]) == (1, "修正版", "資料3", 1)
    assert body["changes"][0]["finding_ids"] == [finding.id] and body["withheld"] == []
    listed = client.get(f"/api/assessments/{review.id}/changes", params={"cycle": 1}).json()
    assert [c["findings"][0]["raised_by"] for c in listed] == ["山元委員"]
    assert client.get(f"/api/assessments/{review.id}/changes", params={"cycle": 2}).json() == []


BAD_VERSIONS = [
    ({"submitted_on": None}, "submitted_on", "date"),
    ({"label": "x" * 101}, "label", "max_length"),
    ({"document_id": 2**40}, "document_id", "maximum"),
    ({"note": "注記\x00"}, "note", "no_control_characters"),
    ({"changes": [{"section": "Ⅱ", "after": "b"}]}, "changes.0.reason", "required"),
    ({"changes": [{"section": "Ⅱ", "after": "b", "reason": "r", "finding_ids": [0]}]}, "changes.0.finding_ids.0",
     "minimum"),
    ({"changes": [{"section": "Ⅱ", "after": "b", "reason": "r", "finding_ids": "1"}]}, "changes.0.finding_ids",
     "list_type"),
    ({"changes": {"section": "Ⅱ"}}, "changes", "list_type"),
    ({"number": 7}, "number", "unknown_field"),
]


@pytest.mark.parametrize(("overrides", "field", "rule"), BAD_VERSIONS)
def test_bad_version_bodies_name_the_field(client, review, overrides, field, rule):
    response = client.post(f"/api/assessments/{review.id}/versions", json={"submitted_on": "2025-05-30", **overrides})
    assert response.status_code == 422, response.text
    assert (field, rule) in {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]}
    assert client.get(f"/api/assessments/{review.id}/versions").json() == []


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "label": json_values, "submitted_on": st.dates().map(str) | json_values, "note": json_values,
    "document_id": st.integers() | json_values, "public_document_id": st.integers() | json_values,
    "changes": st.lists(st.fixed_dictionaries({}, optional={
        "section": json_values, "before": json_values, "after": json_values, "reason": json_values,
        "finding_ids": st.lists(st.integers()) | json_values}), max_size=3) | json_values,
    "withheld": st.lists(st.fixed_dictionaries({}, optional={"section": json_values, "reason": json_values}),
                         max_size=2) | json_values}))
def test_no_version_body_answers_500(client, review, body):
    response = client.post(f"/api/assessments/{review.id}/versions", content=json.dumps(body, allow_nan=True),
                           headers={"content-type": "application/json"})
    assert response.status_code in (201, 422), response.text
