"""Report versions (評価書の版) in the service: numbers per case across cycles, full and public versions
with withheld parts, bad versions refused with nothing changed, where a finding landed last, who records
(tests/api/test_report_versions.py: over HTTP; Fukuoka's review replayed: tests/acceptance)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.report_versions import version
from workflow import audit, findings, report_versions
from workflow.errors import InvalidInput
from workflow.findings import NewFinding
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification, Forbidden
from workflow.report_versions import NewChange, NewWithheldPart

pytestmark = pytest.mark.usefixtures("clean_records")

# --- numbering ----------------------------------------------------------------------------------

def test_numbers_are_per_case_and_continue_across_cycles(db, clock, review, make_case):
    other = make_case("subcommittee_review", body=REVIEWING_BODY)
    assert report_versions.add_version(db, clock, review.id, version(), SYSTEM).version.number == 1
    assert report_versions.add_version(db, clock, other.id, version(), SYSTEM).version.number == 1
    assert report_versions.add_version(db, clock, review.id, version(), SYSTEM).version.number == 2
    with db.writing(EVERY_ORGANISATION) as session:  # a re-assessment (再実施) starts cycle 2
        session.execute(text("UPDATE assessment SET cycle = 2, version = version + 1 WHERE id = :id"),
                        {"id": review.id})
    third = report_versions.add_version(db, clock, review.id, version(), SYSTEM).version
    assert (third.number, third.cycle) == (3, 2)
    assert [e.version.number for e in report_versions.versions_of(db, review.id, SYSTEM, cycle=2)] == [3]
    assert [e.version.number for e in report_versions.versions_of(db, review.id, SYSTEM)] == [1, 2, 3]


# --- documents and withheld parts ---------------------------------------------------------------

def test_full_and_public_versions_and_withheld_parts(db, clock, review, attach):
    full = attach(review, "全項目評価書（全体）", Classification.MEMBERS_ONLY)
    public = attach(review, "全項目評価書（公表版）")
    entry = report_versions.add_version(db, clock, review.id, version(
        document_id=full.id, public_document_id=public.id,
        withheld=[NewWithheldPart(section="Ⅲ 7. リスク1 ⑨ 物理的対策 具体的な対策の内容",
                                  reason="公にすることによりセキュリティ上の支障が生じるおそれがあるため")]), SYSTEM)
    assert (entry.document_id, entry.public_document_id) == (full.id, public.id)
    assert [(w.section, w.reason) for w in entry.withheld] == [
        ("Ⅲ 7. リスク1 ⑨ 物理的対策 具体的な対策の内容", "公にすることによりセキュリティ上の支障が生じるおそれがあるため")]


@pytest.mark.parametrize(("build", "field", "rule"), [
    (lambda docs: {"public_document_id": docs["secret"]}, "public_document_id", "public"),
    (lambda docs: {"document_id": docs["elsewhere"]}, "document_id", "same_case"),
    (lambda docs: {"public_document_id": docs["elsewhere"]}, "public_document_id", "same_case"),
    (lambda docs: {"document_id": 424242}, "document_id", "exists"),
    (lambda docs: {"document_id": docs["purged"]}, "document_id", "not_purged"),
    (lambda docs: {"withheld": [NewWithheldPart(section="Ⅲ", reason="セキュリティ上の支障")]}, "withheld",
     "needs_public_version"),
    (lambda docs: {"changes": [NewChange(section="Ⅱ", reason="誤記")]}, "changes.0.after", "not_empty"),
    (lambda docs: {"changes": [NewChange(section="Ⅱ", after="a", reason="r", finding_ids=[docs["finding"], 424242])]},
     "changes.0.finding_ids.1", "exists"),
    (lambda docs: {"changes": [NewChange(section="Ⅱ", after="a", reason="r", finding_ids=[docs["other_finding"]])]},
     "changes.0.finding_ids.0", "same_case"),
    (lambda docs: {"submitted_on": date(2025, 6, 3)}, "submitted_on", "not_future"),
])
def test_bad_versions_name_the_field_and_change_nothing(db, clock, review, make_case, attach, build, field, rule):
    other = make_case("subcommittee_review", body=REVIEWING_BODY)
    purged = attach(review, "点検後削除の資料", Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW)
    with db.writing(EVERY_ORGANISATION) as session:  # as the purge after the review leaves it
        session.execute(text("UPDATE document SET purged_at = uploaded_at, storage_key = NULL WHERE id = :id"),
                        {"id": purged.id})
    docs = {
        "secret": attach(review, "委員限り", Classification.MEMBERS_ONLY).id,
        "elsewhere": attach(other, "他の案件の評価書").id, "purged": purged.id,
        "finding": findings.raise_finding(db, clock, review.id, NewFinding(raised_by="櫻井委員", text="質問"), SYSTEM).id,
        "other_finding": findings.raise_finding(db, clock, other.id, NewFinding(raised_by="櫻井委員", text="質問"),
                                                SYSTEM).id,
    }
    fields = build(docs)
    with pytest.raises(InvalidInput) as refused:
        report_versions.add_version(db, clock, review.id, version(**fields), SYSTEM)
    assert (field, rule) in {(p.field, p.rule) for p in refused.value.problems}
    assert report_versions.versions_of(db, review.id, SYSTEM) == []


def test_a_later_version_records_where_a_finding_landed_last(db, clock, review):
    finding = findings.raise_finding(db, clock, review.id, NewFinding(raised_by="櫻井委員", text="質問"), SYSTEM)
    change = NewChange(section="Ⅱ", before="a", after="b", reason="r", finding_ids=[finding.id, finding.id])
    first = report_versions.add_version(db, clock, review.id, version(changes=[change]), SYSTEM)
    assert first.changes[0].finding_ids == [finding.id]
    second = report_versions.add_version(db, clock, review.id, version(changes=[change]), SYSTEM)
    assert findings.list_findings(db, review.id, SYSTEM)[0].resolved_in_version_id == second.version.id
    entry = [e for e in audit.entries(db, SYSTEM) if e.action == "report_version.added"][-1]
    assert (entry.object_id, entry.detail["number"], entry.detail["resolved_findings"]) == (
        str(second.version.id), 2, [finding.id])


# --- who reads and writes -----------------------------------------------------------------------

def test_only_the_secretariat_records_versions(db, clock, review, member, office):
    for actor in (member, office):
        with pytest.raises(Forbidden):
            report_versions.add_version(db, clock, review.id, version(), actor)

