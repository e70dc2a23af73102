"""Bad input is never a 500: it is a 422 naming the field and the rule, and the OpenAPI schema says so.

Four walks over the app's own OpenAPI schema keep this true of endpoints added later:

- every string parameter (path and query) is sent a NUL byte, as the public and as the secretariat:
  no answer is a 5xx, and every one the schema bounds (its `pattern`) answers 422 naming it;
- every string field of a JSON body is sent a NUL byte: the 422 names it (`no_control_characters`,
  or `one_of` for a choice);
- every integer the schema admits has a maximum that fits the 32-bit columns (workflow.columns.MAX_ID),
  and a minimum that does;
- every boolean and integer field of a JSON body refuses a string (and an integer refuses `true`):
  a wrong type is a user's mistake, not something to guess at;
- every id a JSON body names is checked (`exists`, or `same_case` for a record of another case) —
  `FOREIGN_IDS` walks them, and a coverage test fails for an id field it does not know.

The PostgreSQL run (SHINGI_TEST_DATABASE_URL) is where a NUL byte or an integer beyond 2^31 − 1
would reach the database and fail: the same tests run on both, and answer alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import documents, findings, public_comments, report_versions
from workflow.clock import TOKYO
from workflow.columns import MAX_ID
from workflow.documents import Upload
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification
from workflow.validation import NO_CONTROL_CHARACTERS, NOT_BLANK

pytestmark = pytest.mark.usefixtures("reminder_rules")

NUL = "a\x00b"
PDF_BYTES = b"%PDF-1.4\n% bad input\n"
INT32 = 2**31 - 1


def fields_of(response) -> set[tuple[str, str]]:
    assert response.status_code == 422, (response.status_code, response.text)
    body = response.json()["error"]
    assert body["code"] == "invalid_input"
    return {(item["field"], item["rule"]) for item in body["fields"]}


# --- 1. reminder rules: optional, not nullable ----------------------------------------------------

@pytest.mark.parametrize("field", ["enabled", "counts", "offset_days", "offset_unit", "recipients", "channels"])
def test_a_rule_field_sent_as_null_is_refused_by_name(client, field):
    response = client.patch("/api/reminder-rules/meeting_start_7d", json={field: None})
    assert fields_of(response) == {(field, "not_null")}
    assert "null" in response.json()["error"]["fields"][0]["message"]["en"]
    assert client.get("/api/reminder-rules").status_code == 200


def test_a_rule_field_left_out_is_left_as_it_was(client):
    before = {rule["key"]: rule for rule in client.get("/api/reminder-rules").json()}["meeting_start_7d"]
    changed = client.patch("/api/reminder-rules/meeting_start_7d", json={"offset_days": 5})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {**before, "offset_days": 5}


@pytest.mark.parametrize("cleared", [None, ""])
def test_a_rule_s_own_message_is_cleared_by_null_or_empty(client, cleared):
    set_ = client.patch("/api/reminder-rules/meeting_start_7d", json={"custom_message": "正面玄関からお入りください。"})
    assert set_.json()["custom_message"] == "正面玄関からお入りください。"
    response = client.patch("/api/reminder-rules/meeting_start_7d", json={"custom_message": cleared})
    assert response.status_code == 200 and response.json()["custom_message"] is None


def test_an_unknown_rule_is_not_found_and_a_bad_key_is_named(client, public):
    assert client.patch("/api/reminder-rules/no_such_rule", json={"enabled": False}).status_code == 404
    assert client.patch("/api/reminder-rules/no_such_rule", json={}).status_code == 404
    assert fields_of(client.patch("/api/reminder-rules/a%00b", json={})) == {("key", "no_control_characters")}
    assert public.patch("/api/reminder-rules/a%00b", json={}).status_code in (401, 422)


def test_the_rule_change_schema_is_honest(public):
    schema = public.get("/openapi.json").json()
    body = schema["paths"]["/api/reminder-rules/{key}"]["patch"]["requestBody"]["content"]["application/json"]
    change = resolve(schema, body["schema"])
    assert not change.get("required")
    for name, prop in change["properties"].items():
        nullable = any(option.get("type") == "null" for option in prop.get("anyOf", ()))
        assert nullable is (name == "custom_message"), name
        assert "default" not in prop or prop["default"] is not None, name


# --- 2. ids a body names are checked: 422 `exists`, never an IntegrityError ---------------------

@pytest.fixture
def world(db, clock, files, make_case, make_meeting, fire):
    """A case under review with a meeting, a finding, a document, a report version and a comment."""
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    meeting = make_meeting(case, 2, datetime(2025, 5, 20, 10, tzinfo=TOKYO), status="scheduled")
    finding = findings.raise_finding(db, clock, case.id, findings.NewFinding(raised_by="櫻井委員", text="質問"), SYSTEM)
    document = documents.attach(db, files, clock, case.id, Upload("資料1", "資料1.pdf", PDF_BYTES,
                                                                  Classification.PUBLIC), SYSTEM, 10**6)
    with db.writing(EVERY_ORGANISATION) as session:
        from workflow.records import AgendaItem
        session.add(AgendaItem(meeting_id=meeting.id, position=1, assessment_id=case.id, purpose="other",
                               title="議題"))
    commenting = make_case("public_comment", body=REVIEWING_BODY)
    comment = public_comments.record_comment(db, clock, commenting.id, public_comments.NewPublicComment(
        received_on="2025-04-10", channel="web", submitter="市民A", summary="意見"), SYSTEM)
    return {"case": case.id, "meeting": meeting.id, "finding": finding.id, "document": document.id,
            "comment": comment.id, "commenting": commenting.id}


#: The answer of an id that the service reads as the record the request is about: 404, in its words.
NOT_FOUND = "404"
MEETING = {"body": REVIEWING_BODY, "term": "第16期", "starts_at": "2025-07-01T10:00:00+09:00", "venue": "会議室"}

#: (method, path template, field as the 422 names it, a body naming a missing id M, expected rule).
#: The templates name the world's records: {case}, {meeting}, {finding}, {document}, {comment}.
FOREIGN_IDS: list[tuple[str, str, str, Callable[[int], dict[str, Any]], str]] = [
    ("PUT", "/api/assessments/{case}/opinion", "meeting_id",
     lambda m: {"verdict": "appropriate", "decided_on": "2025-05-20", "meeting_id": m}, "exists"),
    ("POST", "/api/meetings", "body_id", lambda m: {**MEETING, "body": None, "body_id": m}, "exists"),
    ("POST", "/api/meetings", "agenda.0.assessment_id",
     lambda m: {**MEETING, "agenda": [{"title": "議題", "assessment_id": m}]}, "exists"),
    ("POST", "/api/meetings", "materials.0.document_id",
     lambda m: {**MEETING, "materials": [{"document_id": m, "label": "資料1"}]}, "exists"),
    ("POST", "/api/meetings/{meeting}/next", "agenda.0.assessment_id",
     lambda m: {"starts_at": "2025-08-01T10:00:00+09:00", "agenda": [{"title": "議題", "assessment_id": m}]},
     "exists"),
    ("POST", "/api/meetings/{meeting}/materials", "document_id", lambda m: {"document_id": m, "label": "資料2"},
     "exists"),
    ("POST", "/api/assessments/{case}/findings", "meeting_id",
     lambda m: {"raised_by": "櫻井委員", "text": "質問", "meeting_id": m}, "exists"),
    ("POST", "/api/findings/{finding}/answer", "answered_at_meeting_id",
     lambda m: {"answer": "回答", "answered_at_meeting_id": m}, "exists"),
    ("POST", "/api/findings/{finding}/answer", "resolved_in_version_id",
     lambda m: {"answer": "回答", "resolved_in_version_id": m}, "exists"),
    ("POST", "/api/findings/{finding}/close", "resolved_in_version_id",
     lambda m: {"resolved_in_version_id": m}, "exists"),
    ("POST", "/api/findings/{finding}/carry", "carried_to_meeting_id", lambda m: {"carried_to_meeting_id": m},
     "exists"),
    ("POST", "/api/assessments/{case}/versions", "document_id",
     lambda m: {"submitted_on": "2025-05-20", "document_id": m}, "exists"),
    ("POST", "/api/assessments/{case}/versions", "public_document_id",
     lambda m: {"submitted_on": "2025-05-20", "public_document_id": m}, "exists"),
    ("POST", "/api/assessments/{case}/versions", "changes.0.finding_ids.0",
     lambda m: {"submitted_on": "2025-05-20", "changes": [
         {"section": "Ⅲ", "before": "前", "after": "後", "reason": "理由", "finding_ids": [m]}]}, "exists"),
    ("PATCH", "/api/public-comments/{comment}", "change_id", lambda m: {"response": "考え方", "change_id": m},
     "exists"),
    # A 404 here, not a 422: notifications.feeds.issue_token answers RecordNotFound(body) for a body that is not
    # there (tests/integration/test_record_not_found.py holds the service to it). Never an IntegrityError.
    ("POST", "/api/calendar-tokens", "body_id", lambda m: {"body_id": m}, NOT_FOUND),
]


def _path(template: str, world: dict[str, int]) -> str:
    return template.format(**world)


@pytest.mark.parametrize("missing", [MAX_ID, 424_242])
@pytest.mark.parametrize(("method", "template", "field", "body", "rule"),
                         [pytest.param(*entry, id=f"{entry[0]} {entry[1]} {entry[2]}") for entry in FOREIGN_IDS])
def test_an_id_that_names_nothing_is_refused_by_name(client, world, method, template, field, body, rule, missing):
    response = client.request(method, _path(template, world), json=body(missing))
    if rule == NOT_FOUND:
        assert response.status_code == 404, response.text
        words = response.json()["error"]["message"]
    else:
        assert (field, rule) in fields_of(response)
        words = {item["field"]: item["message"] for item in response.json()["error"]["fields"]}[field]
    assert str(missing) in words["ja"] and str(missing) in words["en"]


def test_a_record_of_another_case_is_not_one_of_this_case(client, db, clock, world, make_case, files):
    other = make_case("subcommittee_review", body=REVIEWING_BODY)
    document = documents.attach(db, files, clock, other.id, Upload("資料", "資料.pdf", PDF_BYTES, Classification.PUBLIC),
                                SYSTEM, 10**6)
    version = report_versions.add_version(db, clock, other.id, report_versions.NewReportVersion(
        submitted_on="2025-05-20", changes=[{"section": "Ⅲ", "before": "前", "after": "後", "reason": "理由"}]), SYSTEM)
    finding = findings.raise_finding(db, clock, other.id, findings.NewFinding(raised_by="櫻井委員", text="別"), SYSTEM)
    refused = {
        ("POST", f"/api/assessments/{world['case']}/versions", "document_id"):
            {"submitted_on": "2025-05-20", "document_id": document.id},
        ("POST", f"/api/findings/{world['finding']}/answer", "resolved_in_version_id"):
            {"answer": "回答", "resolved_in_version_id": version.version.id},
        ("PATCH", f"/api/public-comments/{world['comment']}", "change_id"):
            {"response": "考え方", "change_id": version.changes[0].id},
        ("POST", f"/api/assessments/{world['case']}/versions", "changes.0.finding_ids.0"):
            {"submitted_on": "2025-05-20", "changes": [
                {"section": "Ⅲ", "before": "前", "after": "後", "reason": "理由", "finding_ids": [finding.id]}]},
    }
    for (method, path, field), body in refused.items():
        assert (field, "same_case") in fields_of(client.request(method, path, json=body)), (path, field)


def test_the_opinion_names_the_meeting_it_was_decided_at(client, world):
    opinion = {"verdict": "appropriate", "decided_on": "2025-05-20"}
    recorded = client.put(f"/api/assessments/{world['case']}/opinion", json={**opinion, "meeting_id": world["meeting"]})
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["decided_at_meeting_id"] == world["meeting"]


def _id_fields(schema: dict[str, Any], node: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """The fields of a request body that carry record ids (`…_id`, `…_ids`), as the 422 names them."""
    node = node_of(schema, node)
    for name, prop in node.get("properties", {}).items():
        prop = resolve(schema, prop)
        field = f"{prefix}{name}"
        if name.endswith("_id") and _scalar_type(schema, prop) == "integer":
            yield field
        elif name.endswith("_ids"):
            yield f"{field}.0"
        elif _scalar_type(schema, prop) == "array":
            items = resolve(schema, node_of(schema, prop)["items"])
            if "properties" in items:
                yield from _id_fields(schema, items, f"{field}.0.")
        elif "properties" in node_of(schema, prop):
            yield from _id_fields(schema, node_of(schema, prop), f"{field}.")


def test_every_id_a_body_names_is_walked(public):
    schema = public.get("/openapi.json").json()
    named = set()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                named |= {(method.upper(), _template(path), field) for field in _id_fields(schema, body["schema"])}
    walked = {(method, template, field) for method, template, field, _, _ in FOREIGN_IDS}
    assert named - walked == set(), "ids in request bodies that FOREIGN_IDS does not walk"
    assert walked - named == set(), "walked, but in no request body"


def _template(path: str) -> str:
    """/api/assessments/{case_id}/opinion → /api/assessments/{case}/opinion (the world's names)."""
    return (path.replace("{case_id}", "{case}").replace("{meeting_id}", "{meeting}")
            .replace("{finding_id}", "{finding}").replace("{comment_id}", "{comment}"))


# --- 3. scheduled events: within the dates the service keeps, and not in the past ---------------

@pytest.mark.parametrize(("run_at", "rule"), [
    ("0001-01-01T00:00:00", "date_range"),
    ("9999-12-31T23:59:59-12:00", "date_range"),
    ("1970-01-01T00:00:00", "date_range"),
    ("2101-01-01T00:00:00+09:00", "date_range"),
    ("2025-06-01T09:00:00+09:00", "not_past"),
    ("2025-06-02T08:58:59+09:00", "not_past"),
])
def test_a_run_at_out_of_bounds_is_refused(client, make_case, run_at, rule):
    case = make_case("drafted")
    response = client.post(f"/api/assessments/{case.id}/scheduled-events", json={
        "event": "open_public_comment", "run_at": run_at,
        "inputs": {"comment_start": "2025-06-10", "comment_end": "2025-07-09"}})
    assert fields_of(response) == {("run_at", rule)}
    assert client.get(f"/api/assessments/{case.id}/scheduled-events").json() == []


@pytest.mark.parametrize("run_at", ["2025-06-02T08:59:30+09:00", "2025-06-02T09:00:00", "2100-12-31T23:59:59+09:00"])
def test_a_run_at_within_the_minute_or_ahead_is_taken(client, make_case, run_at):
    case = make_case("drafted")
    response = client.post(f"/api/assessments/{case.id}/scheduled-events", json={
        "event": "open_public_comment", "run_at": run_at,
        "inputs": {"comment_start": "2025-06-10", "comment_end": "2025-07-09"}})
    assert response.status_code == 201, response.text


def test_scheduled_inputs_are_checked_when_scheduled(client, make_case):
    case = make_case("drafted")
    response = client.post(f"/api/assessments/{case.id}/scheduled-events", json={
        "event": "open_public_comment", "run_at": "2025-06-10T00:00:00+09:00",
        "inputs": {"comment_start": "2025-06-10", "comment_end": NUL, "unknown": 1}})
    assert fields_of(response) == {("inputs.comment_end", "date"), ("inputs.unknown", "unknown_field")}
    note = client.post(f"/api/assessments/{case.id}/scheduled-events", json={
        "event": "withdraw", "run_at": "2025-06-10T00:00:00+09:00", "inputs": {"reason": NUL}})
    assert fields_of(note) == {("inputs.reason", "no_control_characters")}


def test_the_run_at_schema_states_its_bounds(public):
    schema = public.get("/openapi.json").json()
    operation = schema["paths"]["/api/assessments/{case_id}/scheduled-events"]["post"]
    body = resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    run_at = resolve(schema, body["properties"]["run_at"])
    assert run_at["format"] == "date-time"
    assert "2000" in run_at["description"] and "2100" in run_at["description"]
    assert "minute" in run_at["description"] or "1分" in run_at["description"]


# --- 4. NUL bytes and other control characters ---------------------------------------------------

#: Valid values for the parameters a request needs besides the one probed.
FILLERS = {"integer": "1", "boolean": "false", "string": "x"}
#: String parameters that are not bounded by a pattern, and why (each still answers without a 5xx).
UNBOUNDED = {
    "/feeds/members/{token}.ics": "the token is hashed, never sent to the database: a wrong one is 404 like any",
    "/feeds/bodies/{token}.ics": "the token is hashed, never sent to the database: a wrong one is 404 like any",
}


def _string_parameters(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter["in"] in ("path", "query") and _scalar_type(schema, parameter["schema"]) == "string":
                    yield method.upper(), path, parameter, parameters


def _request(method: str, path: str, probed: dict[str, Any], parameters: list[dict[str, Any]],
             schema: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    query: dict[str, str] = {}
    for parameter in parameters:
        if parameter is probed:
            value = NUL
        elif parameter["in"] == "query" and not parameter.get("required"):
            continue
        else:
            value = _valid_value(schema, parameter["schema"])
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value.replace("\x00", "%00"))
        else:
            query[parameter["name"]] = value
    return method, path, query


def _valid_value(schema: dict[str, Any], node: dict[str, Any]) -> str:
    node = node_of(schema, node)
    if "enum" in node:
        return str(node["enum"][0])
    return FILLERS.get(node.get("type", "string"), "x")


def test_there_are_string_parameters_to_probe(public):
    probed = {(method, path, parameter["name"]) for method, path, parameter, _ in
              _string_parameters(public.get("/openapi.json").json())}
    assert {("GET", "/api/assessments", "state"), ("GET", "/api/assessments", "office"),
            ("PATCH", "/api/reminder-rules/{key}", "key"), ("POST", "/api/users/{email}/disable", "email")} <= probed


@pytest.mark.parametrize("role", ["public", "secretariat"])
def test_a_nul_in_any_string_parameter_is_never_a_500(public, person, role):
    headers = {} if role == "public" else person("secretariat").headers
    schema = public.get("/openapi.json").json()
    failures = []
    for method, path, parameter, parameters in _string_parameters(schema):
        method, url, query = _request(method, path, parameter, parameters, schema)
        response = public.request(method, url, params=query, headers=headers,
                                  json={} if method in ("POST", "PUT", "PATCH") else None)
        held = node_of(schema, parameter["schema"])
        bounded = "pattern" in held or "enum" in held or held.get("format") in ("date", "date-time")
        if response.status_code >= 500:
            failures.append(f"{method} {path} {parameter['name']}: {response.status_code} {response.text[:200]}")
        elif bounded and role == "secretariat" and response.status_code != 422:
            failures.append(f"{method} {path} {parameter['name']}: {response.status_code}, not 422")
        elif response.status_code == 422 and role == "secretariat":
            named = {item["field"] for item in response.json()["error"]["fields"]}
            if parameter["name"] not in named:
                failures.append(f"{method} {path} {parameter['name']}: the 422 names {named}")
        if not bounded and path not in UNBOUNDED:
            failures.append(f"{method} {path} {parameter['name']}: no pattern in the schema")
    assert not failures, "\n".join(failures)


def _json_bodies(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield method.upper(), path, resolve(schema, body["schema"])


def _leaves(schema: dict[str, Any], node: dict[str, Any], prefix: tuple[Any, ...] = ()
            ) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(location, schema) of each scalar field of a body, list items at position 0, dict keys as `*`."""
    node = node_of(schema, node)
    for name, prop in node.get("properties", {}).items():
        prop = node_of(schema, prop)
        if "properties" in prop:
            yield from _leaves(schema, prop, (*prefix, name))
        elif prop.get("type") == "array":
            items = node_of(schema, prop["items"])
            if "properties" in items:
                yield from _leaves(schema, items, (*prefix, name, 0))
            else:
                yield (*prefix, name, 0), items
        elif prop.get("type") == "object" and isinstance(prop.get("additionalProperties"), dict):
            yield (*prefix, name, "*"), {"type": "string", **prop.get("propertyNames", {})}
        else:
            yield (*prefix, name), prop


def _body_with(location: tuple[Any, ...], value: Any) -> Any:
    """{'agenda': [{'title': value}]} for ('agenda', 0, 'title'); a dict key for a '*'."""
    if not location:
        return value
    head, rest = location[0], location[1:]
    if head == 0:
        return [_body_with(rest, value)]
    if rest == ("*",):
        return {head: {value: "member"}}
    return {head: _body_with(rest, value)}


def _field(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part != "*")


def _body_path(path: str) -> str:
    return path.replace("{case_id}", "1").replace("{meeting_id}", "1").replace("{finding_id}", "1").replace(
        "{comment_id}", "1").replace("{resolution_id}", "1").replace("{correction_id}", "1").replace(
        "{key}", "meeting_start_7d").replace("{token_id}", "1").replace("{email}", "x@example.jp")


#: Long enough for every text field's minimum (a password's ten characters), short enough for every maximum.
NUL_TEXT = "abcdefghij\x00klm"


def test_a_nul_in_any_text_of_a_json_body_is_refused_by_name(client):
    """Text the schema bounds with the pattern answers `no_control_characters`; any other string field
    (a choice, an e-mail address, a label) is refused by name too."""
    schema = client.get("/openapi.json").json()
    failures = []
    for method, path, body in _json_bodies(schema):
        for location, leaf in _leaves(schema, body):
            if leaf.get("type") != "string" or leaf.get("format") in ("date", "date-time"):
                continue
            field = _field(location)
            response = client.request(method, _body_path(path), json=_body_with(location, NUL_TEXT))
            if response.status_code != 422:
                failures.append(f"{method} {path} {field}: {response.status_code}")
                continue
            problems = {(item["field"], item["rule"]) for item in response.json()["error"]["fields"]}
            named = {rule for name, rule in problems  # a key of a mapping is named under it: bodies.<key>.[key]
                     if name == field or field.startswith(f"{name}.") or name.startswith(f"{field}.")} - {"required"}
            if leaf.get("pattern") in (NO_CONTROL_CHARACTERS, NOT_BLANK):
                named &= {"no_control_characters"}
            if not named:
                failures.append(f"{method} {path} {field}: {sorted(problems)}")
    assert not failures, "\n".join(failures)


def test_text_fields_carry_the_pattern_in_the_schema(client):
    schema = client.get("/openapi.json").json()
    plain = [f"{method} {path} {_field(location)}" for method, path, body in _json_bodies(schema)
             for location, leaf in _leaves(schema, body)
             if leaf.get("type") == "string" and not ({"enum", "pattern", "format"} & set(leaf))]
    assert plain == []


def test_event_inputs_refuse_control_characters(client, make_case):
    case = make_case("drafted")
    response = client.post(f"/api/assessments/{case.id}/events", json={
        "event": "withdraw", "expected_version": case.version, "reason": NUL})
    assert fields_of(response) == {("reason", "no_control_characters")}
    named = client.post(f"/api/assessments/{case.id}/events", json={
        "event": NUL, "expected_version": case.version})
    assert fields_of(named) == {("event", "no_control_characters")}


def _multipart(title: str, filename: str) -> tuple[bytes, dict[str, str]]:
    """A multipart body written out by hand: clients' encoders escape what a raw request may carry."""
    boundary = "shingi-bad-input"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n{title}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + PDF_BYTES + f"\r\n--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize(("title", "filename", "field"), [
    (NUL, "資料.pdf", "title"),
    ("資料", "資\x00料.pdf", "file"),
    ("資料", "資\x01料.pdf", "file"),
])
def test_an_upload_s_title_and_filename_are_text(client, make_case, title, filename, field):
    case = make_case("drafted")
    body, headers = _multipart(title, filename)
    response = client.post(f"/api/assessments/{case.id}/documents", content=body, headers=headers)
    assert fields_of(response) == {(field, "no_control_characters")}
    assert client.get(f"/api/assessments/{case.id}/documents").json() == []
    assert client.post(f"/api/assessments/{case.id}/documents", content=_multipart("資料", "資料.pdf")[0],
                       headers=headers).status_code == 201


@pytest.mark.parametrize(("request_", "field"), [
    (("GET", "/api/assessments?state=a%00b", None), "state"),
    (("GET", "/api/assessments?office=%00", None), "office"),
    (("GET", "/api/assessments?procedure=x%00", None), "procedure"),
    (("POST", "/api/session", {"email": "x@y.jp\x00", "password": "password"}), "email"),
    (("PATCH", "/api/reminder-rules/a%00b", {}), "key"),
    (("POST", "/api/users/a%00b@x.jp/disable", None), "email"),
])
def test_the_reported_nul_requests_are_refused_by_name(public, request_, field):
    method, path, body = request_
    response = public.request(method, path, json=body)
    if response.status_code == 401:  # the public is asked to sign in before its body is read …
        assert method != "GET" and path != "/api/session"
        return
    assert field in {name for name, _ in fields_of(response)}


def test_a_nul_in_the_sign_in_form_is_a_page_not_a_500(public):
    page = public.get("/sign-in")
    token = page.cookies.get("shingi_form") or public.cookies.get("shingi_form")
    response = public.post("/sign-in", data={"email": "x@y.jp\x00", "password": "password", "form_token": token},
                           follow_redirects=False)
    assert response.status_code == 422 and "text/html" in response.headers["content-type"]


def test_a_client_address_longer_than_the_audit_keeps_is_cut_to_fit(app, person):
    """Behind a proxy the address is what X-Forwarded-For says (uvicorn's proxy headers): any text a client
    writes. The audit trail and the sign-in throttle keep 64 characters of it (varchar(64) on PostgreSQL)."""
    with TestClient(app, raise_server_exceptions=False, client=("h" * 300, 1)) as far:
        assert far.post("/api/session", json={"email": "nobody@example.jp", "password": "password"}).status_code == 401
        changed = far.patch("/api/reminder-rules/meeting_start_7d", json={"enabled": False},
                            headers=person("secretariat").headers)
        assert changed.status_code == 200, changed.text
        entries = far.get("/api/audit", headers=person("secretariat").headers).json()
    assert {entry["source"] for entry in entries if entry["action"] in ("sign_in.failed", "reminder_rule.changed")} \
        == {"h" * 64}


# --- 5. integers fit their columns ----------------------------------------------------------------

#: Integers the schema bounds beyond 32 bits, and why.
WIDE_INTEGERS: dict[str, str] = {}


def _integers(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                node = node_of(schema, parameter["schema"])
                if node.get("type") == "integer":
                    yield f"{method.upper()} {path} {parameter['in']} {parameter['name']}", node
    for method, path, body in _json_bodies(schema):
        for location, leaf in _leaves(schema, body):
            if leaf.get("type") == "integer":
                yield f"{method} {path} {_field(location)}", leaf


def test_every_integer_the_schema_admits_fits_a_column(public):
    schema = public.get("/openapi.json").json()
    found = dict(_integers(schema))
    assert {"GET /api/audit query after_id", "POST /api/meetings agenda.0.assessment_id"} <= set(found)
    wrong = {name: (node.get("minimum"), node.get("maximum")) for name, node in found.items()
             if name not in WIDE_INTEGERS and not (
                 node.get("maximum", INT32 + 1) <= INT32 and node.get("minimum", -INT32 - 2) >= -INT32 - 1)}
    assert not wrong, wrong


@pytest.mark.parametrize("after_id", [2**31, 2**62])
def test_the_audit_trail_refuses_ids_beyond_the_column(client, after_id):
    assert fields_of(client.get("/api/audit", params={"after_id": after_id})) == {("after_id", "maximum")}
    assert client.get("/api/audit", params={"after_id": MAX_ID}).status_code == 200


# --- 6. strict types in JSON bodies ----------------------------------------------------------------

NEW_ASSESSMENT = {"title": "住民基本台帳に関する事務", "office": "市民課", "target_count": 430_000, "handler_count": 120,
                  "serious_incident": False}


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"serious_incident": "yes"}, "serious_incident", "boolean"),
    ({"serious_incident": 1}, "serious_incident", "boolean"),
    ({"target_count": True}, "target_count", "integer"),
    ({"target_count": "430000"}, "target_count", "integer"),
    ({"target_count": 430000.5}, "target_count", "integer"),
])
def test_a_wrong_type_is_not_guessed_at(client, change, field, rule):
    response = client.post("/api/assessments", json={**NEW_ASSESSMENT, **change})
    assert fields_of(response) == {(field, rule)}


def test_every_boolean_and_integer_of_a_body_is_strict(client):
    schema = client.get("/openapi.json").json()
    failures = []
    for method, path, body in _json_bodies(schema):
        for location, leaf in _leaves(schema, body):
            kind = leaf.get("type")
            wrong = {"boolean": ["true", 1], "integer": ["1", True, 1.5]}.get(kind, [])
            for value in wrong:
                response = client.request(method, _body_path(path), json=_body_with(location, value))
                problems = ({(item["field"], item["rule"]) for item in response.json()["error"]["fields"]}
                            if response.status_code == 422 else set())
                if (_field(location), kind) not in problems:
                    failures.append(f"{method} {path} {_field(location)} = {value!r}: {response.status_code} "
                                    f"{sorted(problems)}")
    assert not failures, "\n".join(failures)


def test_event_inputs_are_strict_over_json(client, make_case):
    case = make_case("public_comment")
    response = client.post(f"/api/assessments/{case.id}/events", json={
        "event": "close_public_comment", "expected_version": case.version, "comment_count": "0"})
    assert fields_of(response) == {("comment_count", "integer")}


def test_dates_are_still_read_from_iso_strings_and_integers_may_be_written_3_0(client):
    """3.0 is the integer 3 to JSON Schema, and so to the service."""
    response = client.post("/api/assessments", json={**NEW_ASSESSMENT, "planned_holding_date": "2026-04-01",
                                                     "target_count": 430000.0})
    assert response.status_code == 201, response.text
    assert response.json()["target_count"] == 430000


# --- 7. roles that can be given ------------------------------------------------------------------

def test_a_user_cannot_be_given_the_system_s_role(public, person):
    admin = person("admin")
    response = public.post("/api/users", headers=admin.headers, json={
        "email": "sys@example.jp", "display_name": "システム", "roles": ["system"]})
    problems = response.json()["error"]["fields"]
    assert fields_of(response) == {("roles", "one_of")}
    assert all(role in problems[0]["message"]["en"] for role in ("secretariat", "member", "office", "admin"))
    assert "system" not in problems[0]["message"]["en"]
    assert public.get("/api/users", headers=admin.headers).json()[-1]["email"] != "sys@example.jp"


def test_the_roles_schema_lists_only_roles_that_can_be_given(public):
    schema = public.get("/openapi.json").json()
    roles = resolve(schema, resolve(schema, schema["components"]["schemas"]["NewUser"])["properties"]["roles"])
    assert set(resolve(schema, roles["items"])["enum"]) == {"secretariat", "member", "office", "admin"}


def test_a_body_s_name_in_a_new_user_is_bounded(public, person):
    admin = person("admin")
    response = public.post("/api/users", headers=admin.headers, json={
        "email": "long@example.jp", "display_name": "長い", "roles": ["member"], "bodies": {"審" * 201: "member"}})
    assert ("bodies", "max_length") in fields_of(response) or any(
        name.startswith("bodies") for name, _ in fields_of(response))


# --- the schema, read --------------------------------------------------------------------------------

def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The node with its `$ref` followed (its own keys, such as a description, kept over the target's)."""
    while "$ref" in node:
        target = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return node


def node_of(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """What a field holds when it is given: its `$ref` followed, `X | None` read as X."""
    node = resolve(schema, node)
    options = [option for option in node.get("anyOf", ()) if option.get("type") != "null"]
    if "anyOf" in node and len(options) == 1:
        node = node_of(schema, {**{key: value for key, value in node.items() if key != "anyOf"}, **options[0]})
    return node


def _scalar_type(schema: dict[str, Any], node: dict[str, Any]) -> str | None:
    return node_of(schema, node).get("type")
