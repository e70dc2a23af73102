"""Acceptance: Fukuoka's third-party review (seed 000) replayed as records — the members' findings at the
1st and 2nd meetings, the office's answers and its two revisions (資料3-1, 資料3-2), one question carried
to the 3rd meeting — and the 修正箇所一覧 read back through the API."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers.people import SYSTEM
from tests.helpers.records import at
from tests.helpers.report_versions import AUTHENTICATION_AFTER, AUTHENTICATION_BEFORE, AUTHENTICATION_SECTION
from workflow import audit, findings, report_versions
from workflow.findings import FindingAnswer, FindingCarry, FindingClose, NewFinding
from workflow.policy import Classification
from workflow.report_versions import NewChange, NewReportVersion

pytestmark = pytest.mark.usefixtures("clean_records")

FUKUOKA_BODY = "福岡県個人情報保護審議会第二部会（住基・番号利用法部会）"
FUKUOKA_OFFICE = "行財政支援課"

# 資料3-2 of the 2nd meeting (令和5年11月16日), in the office's words (資料3-1: tests.helpers.report_versions).
LEAK_SECTION = "Ⅳ その他のリスク対策 3. その他のリスク対策、別添3 変更箇所"
LEAK_AFTER = ("第三者への個人情報の流出等住民への影響が大きいと判断される場合には、セキュリティ統括責任者に報告し、"
              "臨時のセキュリティ会議により経緯の確認、詳細な被害状況等を確認及び検討を行い、二次被害防止のために"
              "ホームページ上等で周知するとともに、必要な対応を取る。")


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
