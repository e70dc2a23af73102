"""The HTTP API through the ASGI app: shapes, statuses, and that no input answers 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.cases import FULL

CASE = {**FULL, "planned_holding_date": "2026-04-01"}


def create(client, **overrides):
    response = client.post("/api/assessments", json={**CASE, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


def fire(client, case, event, **inputs):
    return client.post(f"/api/assessments/{case['id']}/events",
                       json={"event": event, "expected_version": case["version"], **inputs})


def assert_error_shape(body, code=None):
    error = body["error"]
    assert set(error["message"]) == {"ja", "en"} and error["message"]["ja"] and error["message"]["en"]
    if code:
        assert error["code"] == code


def test_create_answers_201_with_level_procedure_state_version(client):
    response = client.post("/api/assessments", json=CASE)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/api/assessments/{body['id']}"
    assert (body["level"], body["procedure"], body["state"], body["version"]) == ("full", "full_assessment",
                                                                                   "drafted", 1)
    assert body["level_title"]["ja"] == "基礎項目評価及び全項目評価"
    assert body["state_title"] == {"ja": "評価書作成中", "en": "Drafting"}
    assert body["planned_holding_date"] == "2026-04-01"
    assert [e["name"] for e in body["allowed_events"]] == ["start_pre_check", "open_public_comment", "withdraw"]


@pytest.mark.parametrize(("overrides", "level", "procedure"), [
    ({"target_count": 5_000}, "basic", "basic_assessment"),
    ({"target_count": 50_000, "handler_count": 500}, "focused", "focused_assessment"),
    ({"target_count": 5_000, "voluntary_level": "full"}, "full", "full_assessment"),
    ({"target_count": 150_000, "serious_incident": True}, "full", "full_assessment"),
])
def test_the_threshold_chooses_the_procedure(client, overrides, level, procedure):
    body = create(client, **overrides)
    assert (body["level"], body["procedure"]) == (level, procedure)


def test_no_assessment_required_is_422_naming_the_field(client):
    response = client.post("/api/assessments", json={**CASE, "target_count": 999})
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")
    assert response.json()["error"]["fields"][0]["field"] == "target_count"
    assert response.json()["error"]["fields"][0]["rule"] == "assessment_required"


def test_get_lists_allowed_events_with_their_inputs(client):
    case = create(client)
    body = client.get(f"/api/assessments/{case['id']}").json()
    opening = next(e for e in body["allowed_events"] if e["name"] == "open_public_comment")
    assert opening["to"] == "public_comment"
    assert [(i["name"], i["type"], i["required"]) for i in opening["inputs"]] == [
        ("comment_start", "date", True), ("comment_end", "date", True), ("shortened_reason", "text", False)]


def test_advance_answers_the_new_state_and_version(client):
    case = create(client)
    response = fire(client, case, "open_public_comment", comment_start="2025-04-01", comment_end="2025-04-30",
                    note="市のホームページで実施")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["version"]) == ("public_comment", 2)
    assert body["comment_end"] == "2025-04-30"
    history = client.get(f"/api/assessments/{case['id']}/history").json()
    assert [(h["event"], h["from_state"], h["to_state"], h["version"]) for h in history] == [
        ("created", None, "drafted", 1), ("open_public_comment", "drafted", "public_comment", 2)]
    assert history[1]["note"] == "市のホームページで実施"
    assert history[1]["inputs"] == {"comment_start": "2025-04-01", "comment_end": "2025-04-30"}


def test_an_event_not_allowed_now_is_409_listing_the_allowed_ones(client):
    case = create(client)
    response = fire(client, case, "publish", submitted_on="2025-05-01", published_on="2025-05-02")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "event_not_allowed"
    assert [e["name"] for e in error["allowed_events"]] == ["start_pre_check", "open_public_comment", "withdraw"]
    assert error["current_state"] == "drafted" and error["current_version"] == 1
    assert "評価書作成中" in error["message"]["ja"]


def test_a_stale_version_is_409_with_the_current_version(client):
    case = create(client)
    assert fire(client, case, "start_pre_check").status_code == 200
    response = fire(client, case, "withdraw", reason="x")  # still sends version 1
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_version"
    assert response.json()["error"]["current_version"] == 2


def test_a_guard_on_the_situation_is_409(client, clock):
    case = create(client)
    case = fire(client, case, "open_public_comment", comment_start="2025-06-01", comment_end="2025-06-30").json()
    response = fire(client, case, "close_public_comment", comment_count=0)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "condition_not_met"
    assert "令和7年6月30日（月）" in response.json()["error"]["message"]["ja"]


def test_a_bad_input_is_422_naming_the_field_and_rule(client):
    case = create(client)
    response = fire(client, case, "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-20")
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "comment_end"
    assert response.json()["error"]["fields"][0]["rule"] == "min_30_days"
    assert client.get(f"/api/assessments/{case['id']}").json()["version"] == 1


def test_list_filters_and_pages(client):
    for count in (5_000, 5_000, 430_000):
        create(client, target_count=count)
    create(client, office="市民税課")
    page = client.get("/api/assessments", params={"level": "basic"}).json()
    assert page["total"] == 2 and {c["level"] for c in page["items"]} == {"basic"}
    page = client.get("/api/assessments", params={"office": "市民税課"}).json()
    assert page["total"] == 1
    page = client.get("/api/assessments", params={"state": "drafted", "limit": 2, "offset": 2}).json()
    assert (page["total"], len(page["items"]), page["limit"], page["offset"]) == (4, 2, 2, 2)
    ids = [c["id"] for c in client.get("/api/assessments").json()["items"]]
    assert ids == sorted(ids)


def test_procedures_are_served_as_data(client):
    names = {p["name"] for p in client.get("/api/procedures").json()}
    assert names >= {"full_assessment", "focused_assessment", "basic_assessment"}
    full = client.get("/api/procedures/full_assessment").json()
    assert full["initial"] == "drafted" and full["levels"] == ["full"]
    assert {s["name"]: s["target_days"] for s in full["states"]}["public_comment"] == 45
    assert client.get("/api/procedures/nope").status_code == 404
    assert "stateDiagram-v2" in client.get("/api/procedures/full_assessment/diagram").text


def test_threshold_endpoint(client):
    body = client.get("/api/threshold", params={"target_count": 100_000, "handler_count": 499}).json()
    assert body == {"required_level": "focused", "title": {"ja": "基礎項目評価及び重点項目評価",
                                                            "en": "Basic and focused assessment"},
                    "procedure": "focused_assessment"}
    assert client.get("/api/threshold", params={"target_count": 10, "handler_count": 1}).json()["procedure"] is None


def test_health_and_docs(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()  # no scheduler is asked of the tests' app (tests/api/test_observability.py)
    assert ready["status"] == "ready" and ready["checks"]["database"]["result"] == "ok"
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "ErrorBody" in schema["components"]["schemas"]


def test_unknown_ids_are_404(client):
    for path in ("/api/assessments/424242", "/api/assessments/424242/history"):
        response = client.get(path)
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
    response = client.post("/api/assessments/424242/events", json={"event": "withdraw", "expected_version": 1})
    assert response.status_code == 404


BAD_CREATIONS = [
    ({"target_count": "many"}, "target_count", "integer"),
    ({"target_count": -1}, "target_count", "minimum"),
    ({"target_count": 10**30}, "target_count", "maximum"),
    ({"target_count": 1.5}, "target_count", "integer"),
    ({"handler_count": None}, "handler_count", "integer"),
    ({"serious_incident": "perhaps"}, "serious_incident", "boolean"),
    ({"title": ""}, "title", "not_empty"),
    ({"title": "x" * 201}, "title", "max_length"),
    ({"title": "評価\x00書"}, "title", "no_control_characters"),
    ({"voluntary_level": "extreme"}, "voluntary_level", "one_of"),
    ({"planned_holding_date": "2026-02-30"}, "planned_holding_date", "date"),
    ({"planned_holding_date": "9999-12-31"}, "planned_holding_date", "maximum"),
    ({"unexpected": 1}, "unexpected", "unknown_field"),
]


@pytest.mark.parametrize(("overrides", "field", "rule"), BAD_CREATIONS)
def test_bad_creations_name_the_field_and_rule(client, overrides, field, rule):
    response = client.post("/api/assessments", json={**CASE, **overrides})
    assert response.status_code == 422, response.text
    problems = {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]}
    assert (field, rule) in problems
    assert client.get("/api/assessments").json()["total"] == 0


@pytest.mark.parametrize("missing", ["title", "office", "target_count", "handler_count", "serious_incident"])
def test_missing_fields_are_named(client, missing):
    body = {key: value for key, value in CASE.items() if key != missing}
    response = client.post("/api/assessments", json=body)
    assert response.status_code == 422
    assert {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]} == {(missing, "required")}


@pytest.mark.parametrize("raw", [b"", b"{", b"[1,2]", b"null", b"\xff\xfe", b'"text"', b"{" * 5000])
def test_malformed_bodies_are_422(client, raw):
    for path in ("/api/assessments", "/api/assessments/1/events"):
        response = client.post(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422, (path, raw[:10], response.text)
        assert_error_shape(response.json(), "invalid_input")


BAD_EVENTS = [
    {"event": "open_public_comment"},                                  # no expected_version
    {"event": 7, "expected_version": 1},
    {"event": "x" * 65, "expected_version": 1},
    {"event": "open_public_comment", "expected_version": -3},
    {"event": "open_public_comment", "expected_version": 2**70},
    {"event": "open_public_comment", "expected_version": 1, "comment_start": 20150622, "comment_end": None},
    {"event": "open_public_comment", "expected_version": 1, "comment_start": "0001-01-01", "comment_end": "9999-12-31"},
    {"event": "open_public_comment", "expected_version": 1, "comment_start": "2015-06-22",
     "comment_end": "2015-07-21", "shortened_reason": ["a"]},
    {"event": "open_public_comment", "expected_version": 1, "comment_start": "2015-06-22",
     "comment_end": "2015-07-21", "note": "x" * 2001},
    {"event": "withdraw", "expected_version": 1, "reason": {"nested": [1, 2, {"deep": True}]}},
    {"event": "withdraw", "expected_version": 1, "reason": "理由\x07"},
]


@pytest.mark.parametrize("body", BAD_EVENTS)
def test_bad_event_bodies_are_422_and_change_nothing(client, body):
    case = create(client)
    response = client.post(f"/api/assessments/{case['id']}/events", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"]
    after = client.get(f"/api/assessments/{case['id']}").json()
    assert (after["state"], after["version"]) == ("drafted", 1)
    assert len(client.get(f"/api/assessments/{case['id']}/history").json()) == 1


@pytest.mark.parametrize("path", ["/api/assessments/0", "/api/assessments/-1", "/api/assessments/abc",
                                  "/api/assessments/99999999999999999999999", "/api/assessments/1.5"])
def test_odd_ids_never_500(client, path):
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert_error_shape(response.json())


@pytest.mark.parametrize("query", ["limit=0", "limit=100000", "offset=-1", "level=huge", "limit=abc",
                                   "state=" + "x" * 100, "offset=99999999999999999999"])
def test_odd_list_queries_are_422(client, query):
    response = client.get(f"/api/assessments?{query}")
    assert response.status_code == 422
    assert_error_shape(response.json(), "invalid_input")


def test_unknown_routes_and_methods_keep_the_error_shape(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert_error_shape(response.json())
    response = client.delete("/api/assessments")
    assert response.status_code == 405
    assert_error_shape(response.json())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
EVENT_NAMES = ["open_public_comment", "close_public_comment", "publish", "withdraw", "start_reassessment",
               "record_annual_review", "start_pre_check", "??"]
INPUT_NAMES = ["comment_start", "comment_end", "comment_count", "shortened_reason", "submitted_on", "published_on",
               "reason", "target_count", "reviewed_on", "note", "actor"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=st.sampled_from(EVENT_NAMES) | st.text(max_size=20), version=st.integers() | json_values,
       inputs=st.dictionaries(st.sampled_from(INPUT_NAMES), json_values | st.dates().map(str), max_size=5))
def test_no_event_body_answers_500(client, event, version, inputs):
    case = create(client)
    body = {"event": event, "expected_version": version, **inputs}
    response = client.post(f"/api/assessments/{case['id']}/events", content=json.dumps(body, allow_nan=True),
                           headers={"content-type": "application/json"})
    assert response.status_code in (200, 409, 422), response.text
    if response.status_code != 200:
        assert_error_shape(response.json())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "title": json_values, "office": json_values, "target_count": st.integers() | json_values,
    "handler_count": st.integers() | json_values, "serious_incident": json_values,
    "voluntary_level": json_values, "planned_holding_date": st.dates().map(str) | json_values}))
def test_no_creation_body_answers_500(client, body):
    response = client.post("/api/assessments", content=json.dumps(body, allow_nan=True),
                           headers={"content-type": "application/json"})
    assert response.status_code in (201, 422), response.text
