"""The service does what its OpenAPI schema says: schemathesis walks every operation of the schema.

Every operation is run in-process (ASGI) as the secretariat (API token) and as the public, on the
suite's database with a few real rows (a case under review, a meeting held with it on the agenda,
a finding, a document, draft minutes), so that ids in paths hit real rows now and then (the first
row of each table is id 1, and 1 is a boundary schemathesis tries). All of schemathesis' checks run:
no answer is a server error, every answer is one the schema documents (status, content type, body,
headers, `Allow`), data the schema admits is accepted and data it refuses is refused. The one check
refined is positive_data_acceptance: a 422 to schema-valid data passes only when every rule it
names is one that no JSON Schema can state (`BEYOND_THE_SCHEMA`: the rows stored, the clock, two
fields compared, who is asking, what a file holds).

The run is bounded (MAX_EXAMPLES fuzzed per operation, besides schemathesis' examples and coverage
phases) and seeded and derandomized: the same cases on every machine and every run.

Below it, the answers the run found wrong before, asked for directly: bodies no parser could read
(a 1 MB form field, a 5,000-character file name, 2,000 form parts, JSON nested 3,000 deep, a
5,000-digit number, bytes that are no text), `Allow` on a 405, and what the schema states of them.
"""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.limits import MAX_DEPTH, MAX_DIGITS, MAX_FILENAME, MAX_PARTS
from shingi import bootstrap
from shingi.config import Settings
from states.definition import EARLIEST_DATE, LATEST_DATE
from tests.helpers.core import SHIPPED, with_web_options
from tests.helpers.documents import PDF
from tests.helpers.meetings import attach, schedule, tokyo
from tests.helpers.minutes import draft
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import documents, findings, meetings
from workflow.db import Database
from workflow.findings import NewFinding
from workflow.meetings import AttendeeInput, HeldMeeting
from workflow.validation import DATE_PATTERN, INSTANT_PATTERN

#: Examples per operation in the fuzzing phase (the examples and coverage phases add their own).
MAX_EXAMPLES = 5
SEED = 20250602


CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    # one operation at a time, each against fresh rows: the stateful phase would chain them
    "phases": {"stateful": {"enabled": False}},
})


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI schema, from an app that is never started (collecting needs no database)."""
    url = f"sqlite:///{Path(tempfile.gettempdir()) / 'shingi-openapi-never-opened.db'}"
    settings = Settings(database_url=url, migrate_on_start=False, scheduler=False)
    core = bootstrap.build(settings, database=Database(url), workflows=SHIPPED)
    return bootstrap.web_app(core).openapi()


schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)

#: The rules of a 422 that no JSON Schema can state, and why: a request the schema admits may still
#: break them. A 422 to schema-valid data that names any other rule is a rule the schema does not state.
BEYOND_THE_SCHEMA: dict[str, str] = {
    # the rows stored
    "exists": "an id that names no row",
    "same_case": "a record of another case",
    "not_purged": "a document whose content was purged",
    "not_cancelled": "a meeting that was cancelled",
    "reviewing_body": "a meeting of a body that does not review the case",
    "case_on_agenda": "a document of a case not on the meeting's agenda",
    "unique_label": "a label the meeting's materials already use",
    "passage_exists": "a passage the minutes do not have",
    "closed_meeting": "observers at a closed meeting",
    "within_period": "a date outside the case's comment period",
    "public": "a public version that is a members-only document",
    "threshold_result_changed": "a threshold judgment the case's counts no longer give",
    # the clock
    "not_past": "a date already past",
    "not_future": "a date still to come",
    "not_in_future": "a date still to come",
    "between_meeting_and_today": "a date before the meeting or after today",
    "between_confirmation_and_today": "a date before the confirmation or after today",
    # two fields, or two items, compared
    "after_start": "an end before its start",
    "not_before_raised": "an answer dated before its question",
    "not_before_start": "a comment period that ends before it starts",
    "min_30_days": "a comment period shorter than 30 days without a reason",
    "not_before_submission": "a publication before the submission",
    "not_before_report": "a submission before the report",
    "not_before_publication": "a review before the publication",
    "unique": "two agenda items at one position, two attendees of one name",
    "max_total_length": "minutes longer in all than 2,000,000 characters",
    "change_or_reason": "both a change and a reason not to change, or neither",
    "required_for_verdict": "a verdict with conditions and none given",
    "required_when_closed": "a closed meeting without its reason",
    "only_when_closed": "a reason for closing an open meeting",
    "member_needs_body": "a member of no body",
    "office_needs_name": "an office user without an office",
    "matches_body_id": "a body's name and id that name two bodies",
    "assessment_required": "counts below every threshold and no level chosen",
    "needs_public_version": "withheld parts without a public version",
    "same_as_seq": "a checkpoint whose length is not its seq (a whole chain numbers its entries 1…length)",
    # who asks
    "own_name": "a member raising a finding in another's name",
    "in_writing": "a member recording what was said at a meeting",
    "secretariat_only": "a member naming another member",
    "self": "minutes confirmed by someone other than the chair",
    # what a file holds
    "file_type": "a file of a kind not taken (PDF, Word, Excel, PNG, JPEG)",
    "file_content": "a file whose bytes are not of its kind",
    "max_size": "a file larger than SHINGI_MAX_UPLOAD_BYTES (a setting)",
    "anonymised": "a submitter written as an e-mail address or a telephone number",
    # what a text means
    "email": "an address mail can reach (email-validator refuses reserved domains such as .test), which "
             "JSON Schema's `email` format does not tell apart",
}
#: Rules that the schema does state elsewhere, beyond it only for these fields (`*`: any list position).
BEYOND_THE_SCHEMA_AT: dict[tuple[str, str], str] = {
    ("raised_by", "required"): "the secretariat names the member who spoke (a member is named by the token)",
    ("confirmed_by", "required"): "the chair, unless the body has exactly one",
    ("passage_index", "required"): "the passage, unless the correction named one",
    ("body_id", "required"): "a body, by body_id or by body (its name)",
    ("number", "maximum"): "the next meeting of a term beyond the 999th",
    ("event", "one_of"): "an event of the case's own procedure",
    ("file", "not_empty"): "an empty file",
    ("changes.*.after", "not_empty"): "a change with neither wording before nor after",
}


def _beyond_the_schema(problem: dict[str, Any]) -> bool:
    field = re.sub(r"\.\d+(?=\.|$)", ".*", str(problem.get("field", "")))
    return problem.get("rule") in BEYOND_THE_SCHEMA or (field, problem.get("rule")) in BEYOND_THE_SCHEMA_AT


def positive_data_acceptance_beyond_the_schema(ctx, response, case):
    """schemathesis' positive_data_acceptance, but a 422 that names only rules beyond the schema passes."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        try:
            problems = response.json()["error"]["fields"]
        except (ValueError, KeyError, TypeError):
            raise
        if response.status_code == 422 and problems and all(_beyond_the_schema(p) for p in problems):
            return None
        raise


def no_server_error(ctx, response, case):
    """Not one request answers 500, whatever it sends (not_a_server_error says it too; this names it)."""
    assert response.status_code != 500, f"{case.method} {case.formatted_path}: 500 {response.text[:500]}"


@pytest.fixture
def world(app, person, make_case, db, clock, files):
    """The rows the generated ids may hit (each the first of its table: id 1), and each caller's headers."""
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    record = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review",
                                          "title": case.title}])
    meetings.record_held(db, clock, record.meeting.id, HeldMeeting(expected_version=1, observers=0, attendance=[
        AttendeeInput(name="櫻井 幸一", role="member")]), SYSTEM)
    draft(db, clock, record.meeting.id)
    findings.raise_finding(db, clock, case.id, NewFinding(raised_by="櫻井委員", raised_on=tokyo(2025, 5, 20).date(),
                                                          text="質問"), SYSTEM)
    attach(db, files, clock, case, "資料1")
    return {"secretariat": person("secretariat").headers, "public": {}}


@pytest.fixture(autouse=True)
def _stop_the_app():
    """schemathesis starts an app's lifespan at its first request and keeps it: stopped after each test."""
    yield
    asgi.shutdown_lifespans()


#: The rows and the app are made once per operation, not once per example: as a client meets them.
ONE_WORLD = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Answers still wrong, each with its defect and the example that shows it, as strict xfails: once the
#: defect is gone the operation's test passes, and its entry must go.
KNOWN_DEFECTS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _known_defects(request):
    """The entries of KNOWN_DEFECTS as strict xfails of their operations' tests."""
    if request.node.originalname == "test_every_operation_answers_as_documented":
        for label, defect in KNOWN_DEFECTS.items():
            if request.node.name.endswith(f"[{label}]"):
                request.node.add_marker(pytest.mark.xfail(reason=defect, strict=True))


def _call_and_validate(case, app, headers: dict[str, str], caller: str) -> None:
    try:
        case.call_and_validate(app=app, headers=headers, excluded_checks=[positive_data_acceptance],
                               additional_checks=[positive_data_acceptance_beyond_the_schema, no_server_error])
    except Exception as failure:
        failure.add_note(f"(as {caller})")
        raise


@schema.parametrize()
@ONE_WORLD
def test_every_operation_answers_as_documented(case, app, world):
    """Every case as the secretariat, who may do nearly everything; and every valid one again as the
    public (an invalid one is refused alike before anyone is asked for, and the time is bounded)."""
    _call_and_validate(case, app, world["secretariat"], "the secretariat")
    if case.meta is None or case.meta.generation.mode.is_positive:
        _call_and_validate(case, app, world["public"], "the public")


# --- what the run found, asked for directly -----------------------------------------------------

def fields_of(response) -> set[tuple[str, str]]:
    assert response.status_code == 422, (response.status_code, response.text)
    body = response.json()["error"]
    assert body["code"] == "invalid_input" and set(body["message"]) == {"ja", "en"}
    return {(problem["field"], problem["rule"]) for problem in body["fields"]}


@pytest.fixture
def upload_url(make_case):
    return f"/api/assessments/{make_case('subcommittee_review').id}/documents"


def test_a_form_field_beyond_a_megabyte_is_named(client, upload_url):
    response = client.post(upload_url, data={"title": "資" * (1024 * 1024)}, files={"file": ("a.pdf", PDF)})
    assert fields_of(response) == {("title", "max_length")}


def test_a_file_name_too_long_is_named(client, upload_url):
    response = client.post(upload_url, data={"title": "資料1"}, files={"file": ("a" * 5000 + ".pdf", PDF)})
    assert fields_of(response) == {("file", "max_length")}
    name = "a" * (MAX_FILENAME - 4) + ".pdf"
    assert client.post(upload_url, data={"title": "資料1"}, files={"file": (name, PDF)}).status_code == 201


def test_a_form_of_too_many_parts_is_refused(client, upload_url):
    fields = {f"field{number}": "x" for number in range(2 * MAX_PARTS)}
    response = client.post(upload_url, data={"title": "資料1", **fields}, files={"file": ("a.pdf", PDF)})
    assert fields_of(response) == {("body", "max_parts")}


def test_a_form_that_is_no_form_is_refused(client, upload_url):
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=xyz"):
        response = client.post(upload_url, content=b"garbage", headers={"Content-Type": content_type})
        assert fields_of(response) <= {("body", "readable"), ("body", "multipart")}


def test_json_nested_too_deep_is_named(client):
    deep = "[" * 3000 + "]" * 3000
    assert fields_of(client.post("/api/tokens", content=f'{{"name": {deep}}}',
                                 headers={"Content-Type": "application/json"})) == {("name", "max_depth")}
    shallow = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert fields_of(client.post("/api/tokens", content=f'{{"name": {shallow}}}',
                                 headers={"Content-Type": "application/json"})) == {("name", "text")}


def test_a_number_of_too_many_digits_is_named(client):
    response = client.post("/api/tokens", content='{"days": ' + "9" * 5000 + "}",
                           headers={"Content-Type": "application/json"})
    assert fields_of(response) == {("days", "max_digits")}
    response = client.post("/api/tokens", content='{"days": ' + "9" * MAX_DIGITS + "}",
                           headers={"Content-Type": "application/json"})
    assert fields_of(response) == {("days", "maximum")}


@pytest.mark.parametrize("body", [b'\xff"Y\xef', b'{"name": "\xff"}', b"\xff\xfe\x00"])
def test_a_body_that_is_no_text_is_refused(client, body):
    response = client.post("/api/tokens", content=body, headers={"Content-Type": "application/json"})
    assert fields_of(response) == {("body", "encoding")}


def test_half_a_utf16_pair_is_refused_where_it_is(client):
    response = client.post("/api/tokens", content=b'{"name": "\\ud800"}', headers={"Content-Type": "application/json"})
    assert fields_of(response) == {("name", "encoding")}


def test_a_body_beyond_the_limit_is_413(client, app):
    with_web_options(app, max_upload_bytes=1000)
    response = client.post("/api/tokens", content=b'{"name": "' + b"x" * (1024 * 1024 + 1000) + b'"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_405_allows_every_method_of_the_path(client, make_case):
    case = make_case("subcommittee_review")
    for path, methods in [("/api/assessments", "GET, POST"), (f"/api/assessments/{case.id}/findings", "GET, POST"),
                          ("/api/session", "DELETE, POST"), ("/api/meetings/1", "GET, PATCH")]:
        response = client.options(path)
        assert (response.status_code, response.headers["allow"]) == (405, methods), path


# --- what the schema says of them ---------------------------------------------------------------

#: The operators' endpoints: they take no input and name no record, and /health and /ready touch no
#: account (their answers are their own: /ready's 503 names the checks that fail).
OPERATOR_PATHS = {"/health", "/ready", "/metrics"}


def test_every_error_is_documented_as_the_one_json_shape(app):
    openapi = app.openapi()
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "404", "422", "503"} <= set(responses) or path in OPERATOR_PATHS, (method, path)
            if method in ("post", "put", "patch"):
                assert "413" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")) and (path, status) != ("/ready", "503"):
                    assert response["content"] == {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}, (method, path)


def test_the_operators_endpoints_document_what_they_answer(app):
    paths = app.openapi()["paths"]
    assert set(paths["/health"]["get"]["responses"]) == {"200"}
    ready = paths["/ready"]["get"]["responses"]
    assert set(ready) == {"200", "503"}
    assert ready["200"]["content"] == ready["503"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ReadyOut"}}}
    metrics = paths["/metrics"]["get"]["responses"]
    assert set(metrics) == {"200", "401", "403"}
    assert metrics["200"]["content"] == {"text/plain; version=0.0.4": {"schema": {"type": "string"}}}


def test_papers_document_every_format_they_answer(app):
    docx, xlsx = documents.KINDS[".docx"], documents.KINDS[".xlsx"]
    papers = {path: item["get"] for path, item in app.openapi()["paths"].items() if path.startswith("/api/papers/")}
    assert len(papers) == 7
    for path, operation in papers.items():
        formats = {"text/html", docx, xlsx} if path == "/api/papers/register" else {"text/html", docx}
        assert set(operation["responses"]["200"]["content"]) == formats, path


def test_a_document_is_documented_in_each_kind_it_may_be(app):
    content = app.openapi()["paths"]["/api/documents/{document_id}/content"]["get"]["responses"]["200"]["content"]
    assert set(content) == set(documents.KINDS.values())


def test_the_date_patterns_are_the_supported_window():
    day, inside = EARLIEST_DATE - timedelta(days=400), []
    while day <= LATEST_DATE + timedelta(days=400):
        matches = re.match(DATE_PATTERN, day.isoformat()) is not None
        assert matches == (EARLIEST_DATE <= day <= LATEST_DATE), day
        for instant in (f"{day}T00:00:00Z", f"{day}T23:59:59.999999+09:00", f"{day}T12:30:00-05:00"):
            assert (re.match(INSTANT_PATTERN, instant) is not None) == matches, instant
        inside += [day] if matches else []
        day += timedelta(days=1)
    assert (inside[0], inside[-1]) == (EARLIEST_DATE, LATEST_DATE)
    assert not re.match(DATE_PATTERN, "2025-02-30x") and not re.match(INSTANT_PATTERN, "2025-06-10T09:00:00")


#: Dates of requests that the service takes as given, in any year (each a decision: name it here).
def test_every_date_in_a_request_states_the_window(app):
    openapi = app.openapi()
    components = openapi["components"]["schemas"]
    found: list[str] = []

    def walk(node: Any, where: str, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in seen:
                    walk(components[name], f"{where} {name}", seen | {name})
                return
            if node.get("format") in ("date", "date-time"):
                found.append(where)
                pattern = DATE_PATTERN if node["format"] == "date" else INSTANT_PATTERN
                assert node.get("pattern") == pattern, where
            for key, value in node.items():
                walk(value, f"{where}.{key}" if key not in ("properties", "anyOf", "items") else where, seen)
        elif isinstance(node, list):
            for value in node:
                walk(value, where, seen)

    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{method} {path} {parameter['name']}", frozenset())
            walk(operation.get("requestBody", {}), f"{method} {path}", frozenset())
    assert len(found) > 10
