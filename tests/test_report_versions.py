"""Report versions (評価書の版) and the 修正箇所一覧, with Fukuoka's third-party review (seed 000) replayed
as records: the members' findings, the office's answers and its two revisions (資料3-1, 資料3-2)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import REVIEWING_BODY, SYSTEM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from test_findings import at, clean_records, json_values, make_meeting, member, office, user_actor  # noqa: F401

from workflow import audit, documents, findings, report_versions
from workflow.documents import Upload
from workflow.errors import InvalidInput
from workflow.findings import FindingAnswer, FindingCarry, FindingClose, NewFinding
from workflow.policy import Classification, Forbidden
from workflow.report_versions import NewChange, NewReportVersion, NewWithheldPart

PDF = "%PDF-1.7\n% 全項目評価書\n".encode()

FUKUOKA_BODY = "福岡県個人情報保護審議会第二部会（住基・番号利用法部会）"
FUKUOKA_OFFICE = "行財政支援課"

# 資料3-1 and 3-2 of the 2nd meeting (令和5年11月16日), in the office's words.
AUTHENTICATION_SECTION = ("Ⅱ 特定個人情報ファイルの概要 (1) 都道府県知事保存本人確認情報ファイル 6. 特定個人情報の保管・消去"
                          " ①保管場所（都道府県知事附票本人確認情報ファイルも同じ）、別添3 変更箇所")
AUTHENTICATION_BEFORE = "IDと生体認証(又はパスワード)による認証が必要となる"
AUTHENTICATION_AFTER = ("サーバへのアクセスは、原則、IDと生体認証による認証が必要となる。例外として生体認証による照合が困難な"
                        "場合に限り、管理監督者の承認の下、パスワードによる認証を行う。")
LEAK_SECTION = "Ⅳ その他のリスク対策 3. その他のリスク対策、別添3 変更箇所"
LEAK_AFTER = ("第三者への個人情報の流出等住民への影響が大きいと判断される場合には、セキュリティ統括責任者に報告し、"
              "臨時のセキュリティ会議により経緯の確認、詳細な被害状況等を確認及び検討を行い、二次被害防止のために"
              "ホームページ上等で周知するとともに、必要な対応を取る。")


def version(**fields) -> NewReportVersion:
    return NewReportVersion(**{"submitted_on": date(2025, 5, 30), **fields})


@pytest.fixture
def review(make_case):
    return make_case("subcommittee_review", body=REVIEWING_BODY)


@pytest.fixture
def attach(db, files, clock):
    def upload(case, title: str, classification: Classification = Classification.PUBLIC):
        return documents.attach(db, files, clock, case.id, Upload(title, "hyoukasho.pdf", PDF, classification),
                                SYSTEM, 10**6)

    return upload


def test_fukuoka_third_party_review_replayed(db, clock, make_case, make_meeting, user_actor, attach, client):
    case = make_case("subcommittee_review", body=FUKUOKA_BODY, title="住民基本台帳ネットワークに関する事務",
                     office=FUKUOKA_OFFICE)
    office = user_actor("行財政支援課 久芳", roles={"office"}, office=FUKUOKA_OFFICE)
    # The seed does not give the date of the 1st meeting (前回); 2nd and 3rd are as announced.
    first = make_meeting(case, 1, at("2023-10-19"), venue="県庁行政棟10階 特9会議室")
    second = make_meeting(case, 2, at("2023-11-16"), venue="県庁行政棟10階 特9会議室")
    third = make_meeting(case, 3, at("2023-12-21"), venue="特9会議室", status="scheduled")
    draft = attach(case, "全項目評価書（当初案）", Classification.MEMBERS_ONLY)
    first_version = report_versions.add_version(db, clock, case.id, NewReportVersion(
        label="当初案", submitted_on=date(2023, 10, 19), document_id=draft.id), SYSTEM).version

    def raised(who: str, day: str, meeting, kind: str, section: str, words: str):
        return findings.raise_finding(db, clock, case.id, NewFinding(
            raised_by=who, raised_on=date.fromisoformat(day), meeting_id=meeting.id, kind=kind, section=section,
            text=words), SYSTEM)

    # 第1回: what the members asked the office to sort out (as the 2nd meeting recalls it).
    outsourcing = raised("小林部会長", "2023-10-19", first, "request", "資料2 再委託とリスク対策",
                         "個人番号を含む作業の再委託する必要性と、直近で発生した自動車税における個人情報の流出の事案と、"
                         "今後やろうとしている再委託がどう違うのかをまとめていただきたい。")
    authentication = raised("山元委員", "2023-10-19", first, "opinion", AUTHENTICATION_SECTION,
                            "「IDと生体認証(又はパスワード)による認証が必要となる」としているが、生体認証とパスワードでは"
                            "セキュリティレベルが異なるため、記載に違和感がある。")
    # 部会長: 「櫻井委員か井上委員のどちらかから御指摘があって」 — recorded under 櫻井委員.
    leak = raised("櫻井委員", "2023-10-19", first, "request", "Ⅳ その他のリスク対策",
                  "自動車税における個人情報の流出事案を踏まえ、流出が発生した場合の対策が必要である。")
    before_second = findings.open_findings(db, case.id, SYSTEM)
    assert [f.raised_by for f in before_second] == ["小林部会長", "山元委員", "櫻井委員"]

    # 第2回 (令和5年11月16日): the office's answers (資料2, 資料3) and the questions asked on the day.
    revised = report_versions.add_version(db, clock, case.id, NewReportVersion(
        label="第三者点検における指摘を踏まえた修正案（資料3）", submitted_on=date(2023, 11, 16),
        changes=[
            NewChange(section=AUTHENTICATION_SECTION, before=AUTHENTICATION_BEFORE, after=AUTHENTICATION_AFTER,
                      reason="生体認証とパスワードではセキュリティレベルが異なるため、記載に違和感があるという御指摘",
                      finding_ids=[authentication.id]),
            NewChange(section=LEAK_SECTION, before="", after=LEAK_AFTER,
                      reason="自動車税における個人情報の流出事案を踏まえ、流出が発生した場合の対策が必要であるとの御指摘",
                      finding_ids=[leak.id]),
        ]), SYSTEM)
    assert (revised.version.number, [c.position for c in revised.changes]) == (2, [1, 2])

    def answered(finding, words: str):
        return findings.answer_finding(db, clock, finding.id, FindingAnswer(
            answer=words, answered_on=date(2023, 11, 16), answered_at_meeting_id=second.id), office)

    answered(outsourcing, "資料2のとおり、個人番号を含む作業を認めることで任意の連続した個人番号による検索等の不適切な操作の"
                          "発見と、障害時の迅速な復旧が可能となる。自動車税の事案とは異なり、再委託先は【本県が指定する場所】"
                          "で職員の立会いの下に作業する。")
    answered(authentication, "資料3-1のとおり、原則IDと生体認証による認証とし、例外として生体認証による照合が困難な場合に限り、"
                             "管理監督者の承認の下、パスワードによる認証を行うと修正した。")
    answered(leak, "資料3-2のとおり、流出が発生した場合の対策を追記した。")
    attendance = raised("櫻井委員", "2023-11-16", second, "question", "資料2 3 当課のリスク対策",
                        "保守業者の作業をこれまでは随時立会いとしてたのを、今後は常時とする。随時というのが、"
                        "いつでもできるということなのか、時々するというのか、非常に曖昧で、これは決まってないということですか。")
    answered(attendance, "これまで作業開始時と随時、立会いをやっていたのですが、立会いしてなかった時間とかもありますので、"
                         "職員が常時立会うというような見直しを行いました。")
    exception = raised("佐々木委員", "2023-11-16", second, "question", AUTHENTICATION_SECTION,
                       "生体認証による照合が困難な場合というのは、いつどういう場合を想定しているのでしょうか。")
    answered(exception, "身体障がいがある方などで、導入している生体認証の方式が使えない方を想定しています。")
    one_time = raised("佐々木委員", "2023-11-16", second, "opinion", AUTHENTICATION_SECTION,
                      "パスワードは今、ワンタイムパスワードとかあるので、そういうのとかも導入されてもいいかもしれないですね。")
    # Left to the reply's drafting at the 3rd meeting (答申案の検討).
    findings.carry_finding(db, clock, one_time.id, FindingCarry(carried_to_meeting_id=third.id), SYSTEM)
    for settled in (outsourcing, authentication, leak, attendance, exception):
        findings.close_finding(db, clock, settled.id, FindingClose(), SYSTEM)

    still_open = findings.open_findings(db, case.id, SYSTEM)
    assert [(f.raised_by, f.status, f.carried_to_meeting_id) for f in still_open] == [
        ("佐々木委員", "carried", third.id)]
    by_id = {f.id: f for f in findings.list_findings(db, case.id, SYSTEM)}
    assert {by_id[authentication.id].resolved_in_version_id, by_id[leak.id].resolved_in_version_id} == {
        revised.version.id}
    assert by_id[outsourcing.id].resolved_in_version_id is None  # answered by 資料2, no change to the report
    assert {f.status for f in by_id.values()} == {"closed", "carried"}

    # The 修正箇所一覧, through the API as the secretariat sees it.
    response = client.get(f"/api/assessments/{case.id}/changes")
    assert response.status_code == 200, response.text
    changes = response.json()
    assert [(c["version_number"], c["position"], c["section"]) for c in changes] == [
        (2, 1, AUTHENTICATION_SECTION), (2, 2, LEAK_SECTION)]
    assert (changes[0]["before"], changes[0]["after"]) == (AUTHENTICATION_BEFORE, AUTHENTICATION_AFTER)
    assert (changes[1]["before"], changes[1]["after"]) == ("", LEAK_AFTER)
    assert [(f["raised_by"], f["status"]) for f in changes[0]["findings"]] == [("山元委員", "closed")]
    assert [(f["raised_by"], f["status"]) for f in changes[1]["findings"]] == [("櫻井委員", "closed")]
    versions = client.get(f"/api/assessments/{case.id}/versions").json()
    assert [(v["number"], v["label"], len(v["changes"])) for v in versions] == [
        (1, "当初案", 0), (2, "第三者点検における指摘を踏まえた修正案（資料3）", 2)]
    assert versions[0]["id"] == first_version.id and versions[0]["document_id"] == draft.id
    assert audit.verify(db, SYSTEM).ok


# --- numbering ----------------------------------------------------------------------------------

def test_numbers_are_per_case_and_continue_across_cycles(db, clock, review, make_case):
    other = make_case("subcommittee_review", body=REVIEWING_BODY)
    assert report_versions.add_version(db, clock, review.id, version(), SYSTEM).version.number == 1
    assert report_versions.add_version(db, clock, other.id, version(), SYSTEM).version.number == 1
    assert report_versions.add_version(db, clock, review.id, version(), SYSTEM).version.number == 2
    with db.writing() as session:  # a re-assessment (再実施) starts cycle 2
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
    (lambda docs: {"document_id": 424242}, "document_id", "same_case"),
    (lambda docs: {"document_id": docs["purged"]}, "document_id", "not_purged"),
    (lambda docs: {"withheld": [NewWithheldPart(section="Ⅲ", reason="セキュリティ上の支障")]}, "withheld",
     "needs_public_version"),
    (lambda docs: {"changes": [NewChange(section="Ⅱ", reason="誤記")]}, "changes.0.after", "not_empty"),
    (lambda docs: {"changes": [NewChange(section="Ⅱ", after="a", reason="r", finding_ids=[docs["finding"], 424242])]},
     "changes.0.finding_ids.1", "same_case"),
    (lambda docs: {"changes": [NewChange(section="Ⅱ", after="a", reason="r", finding_ids=[docs["other_finding"]])]},
     "changes.0.finding_ids.0", "same_case"),
    (lambda docs: {"submitted_on": date(2025, 6, 3)}, "submitted_on", "not_future"),
])
def test_bad_versions_name_the_field_and_change_nothing(db, clock, review, make_case, attach, build, field, rule):
    other = make_case("subcommittee_review", body=REVIEWING_BODY)
    purged = attach(review, "点検後削除の資料", Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW)
    with db.writing() as session:  # as the purge after the review leaves it
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


def test_withheld_parts_need_a_reason(client, review):
    response = client.post(f"/api/assessments/{review.id}/versions", json={
        "submitted_on": "2025-05-30", "public_document_id": 1, "withheld": [{"section": "Ⅲ", "reason": " "}]})
    assert response.status_code == 422
    assert ("withheld.0.reason", "not_empty") in {(p["field"], p["rule"]) for p in response.json()["error"]["fields"]}


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
