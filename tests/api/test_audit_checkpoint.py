"""The audit chain's checkpoint over HTTP: taken by the secretariat or the administrator, kept outside the
database, and verified against later (workflow/audit.py; the CLI: tests/integration/test_audit.py)."""

import json

import pytest
from sqlalchemy import text

from tests.helpers.people import SYSTEM
from workflow import audit


def _cut_tail(db, keep):
    """Entries after `keep` deleted and the head row rewound onto entry `keep`: the chain alone looks whole."""
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq > :keep"), {"keep": keep})
        connection.execute(text("UPDATE audit_head SET last_seq = :keep, length = :keep, "
                                "last_hash = (SELECT hash FROM audit_entry WHERE seq = :keep)"), {"keep": keep})


def test_a_checkpoint_kept_outside_catches_a_tail_cut_with_its_head(public, person, make_case, fire, db):
    headers = person("secretariat").headers
    for _ in range(3):
        fire(make_case(), "start_pre_check")
    taken = public.post("/api/audit/checkpoint", headers=headers)
    assert taken.status_code == 200, taken.text
    checkpoint = taken.json()
    assert checkpoint["seq"] == checkpoint["length"] >= 6 and len(checkpoint["hash"]) == 64
    assert checkpoint["at"].endswith("+09:00")

    agrees = public.post("/api/audit/verify", headers=headers, json=checkpoint).json()
    assert agrees["ok"] and agrees["checkpoint"]["seq"] == checkpoint["seq"]

    _cut_tail(db, checkpoint["seq"] - 2)
    assert public.get("/api/audit/verify", headers=headers).json()["ok"]  # the chain alone looks whole
    verdict = public.post("/api/audit/verify", headers=headers, json=checkpoint).json()
    assert not verdict["ok"] and verdict["broken_seq"] == checkpoint["seq"] - 1
    assert "チェックポイント" in verdict["message"]["ja"] and "checkpoint" in verdict["message"]["en"]
    assert not audit.verify(db, SYSTEM, checkpoint=json.dumps(checkpoint)).ok  # the file kept, read by the CLI


def test_who_may_take_a_checkpoint(public, person):
    assert public.post("/api/audit/checkpoint").status_code == 401
    assert public.post("/api/audit/checkpoint", headers=person("member").headers).status_code == 403
    assert public.post("/api/audit/checkpoint", headers=person("admin").headers).status_code == 200


def test_a_malformed_checkpoint_is_a_422_naming_the_field(public, person):
    headers = person("secretariat").headers
    answer = public.post("/api/audit/verify", headers=headers,
                         json={"seq": 1, "length": 1, "hash": "xyz", "at": "2025-06-02T09:00:00+09:00"})
    assert answer.status_code == 422
    assert [problem["field"] for problem in answer.json()["error"]["fields"]] == ["hash"]


@pytest.mark.parametrize(("change", "problem"), [
    ({"at": 0}, ("at", "datetime")),                     # a number is not a time (it was read as 1970)
    ({"at": 1748822400.5}, ("at", "datetime")),
    ({"at": "1970-01-01T00:00:00Z"}, ("at", "date_range")),
    ({"seq": True, "length": True}, ("seq", "integer")),
    ({"seq": "3", "length": 3}, ("seq", "integer")),
    ({"length": 4}, ("length", "same_as_seq")),           # a whole chain numbers its entries 1…length
])
def test_a_checkpoint_is_taken_as_written_or_refused_by_its_rule(public, person, change, problem):
    headers = person("secretariat").headers
    kept = {"seq": 3, "length": 3, "hash": "0" * 64, "at": "2025-06-02T09:00:00+09:00", **change}
    answer = public.post("/api/audit/verify", headers=headers, json=kept)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["error"]["fields"]
    assert (problems[0]["field"], problems[0]["rule"]) == problem
    assert "値が正しくありません" not in problems[0]["message"]["ja"]


def test_an_integral_number_is_an_integer_as_json_schema_reads_it(public, person):
    """JSON Schema's `integer` admits 3.0; refusing it would break the schema's own promise."""
    headers = person("secretariat").headers
    answer = public.post("/api/audit/verify", headers=headers,
                         json={"seq": 0.0, "length": 0, "hash": "0" * 64, "at": "2025-06-02T09:00:00+09:00"})
    assert answer.status_code == 200, answer.text
