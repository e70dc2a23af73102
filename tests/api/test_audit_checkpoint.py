"""The audit chain's checkpoint over HTTP: taken by the secretariat or the administrator, kept outside the
database, and verified against later (workflow/audit.py; the CLI: tests/integration/test_audit.py)."""

import json

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
