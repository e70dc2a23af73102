"""Acceptance: Chiba (seed 002) replayed to an adopted subcommittee report — the public comment with no
comments, the 4th subcommittee meeting with the members' findings, the opinion delegated to the chair —
and the generated report and public comment result carry those facts (HTML and .docx alike)."""

from datetime import date, datetime

from tests.helpers.papers import NAOGAKI, add_meeting, docx_text
from tests.helpers.people import SYSTEM
from workflow import resolutions
from workflow.clock import TOKYO
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import Finding
from workflow.resolutions import OpinionInput, ResolutionKind

CHIBA_COUNCIL = "千葉市情報公開・個人情報保護審議会"
CHIBA_BODY = f"{CHIBA_COUNCIL} 特定個人情報保護評価部会"


def add_finding(db, case, meeting, raised_by, section, text, answer):
    with db.writing(EVERY_ORGANISATION) as session:
        session.add(Finding(assessment_id=case.id, cycle=case.cycle, meeting_id=meeting.id, raised_by=raised_by,
                            raised_on=meeting.starts_at.astimezone(TOKYO).date(), section=section, text=text,
                            answer=answer, status="answered", created_at=meeting.starts_at,
                            updated_at=meeting.starts_at))


def test_chiba_replayed_to_an_adopted_subcommittee_report(make_case, fire, db, clock, client, core):
    clock.set(datetime(2015, 4, 1, 9, tzinfo=TOKYO))
    case = make_case("drafted", title="後期高齢者医療に関する事務 全項目評価書", office="健康保険課", body=CHIBA_BODY,
                     target_count=120_000, handler_count=600)
    case = fire(case, "start_pre_check")
    clock.set(datetime(2015, 6, 22, 20, tzinfo=TOKYO))
    case = fire(case, "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-21")
    clock.set(datetime(2015, 7, 22, 9, tzinfo=TOKYO))
    case = fire(case, "close_public_comment", comment_count=0, note="市民意見聴取の結果、意見の提出はなかった")

    fourth = add_meeting(
        db, CHIBA_BODY, 4, datetime(2015, 8, 6, 18, 0, tzinfo=TOKYO), datetime(2015, 8, 6, 19, 45, tzinfo=TOKYO),
        "千葉中央コミュニティセンター2階 市政情報室",
        [(case.id, "report", "市民意見聴取の結果について"),
         (case.id, "third_party_review", "全項目評価書の第三者点検について（後期高齢者医療事務）")],
        present=[("多賀谷一照", "chair"), ("稲垣総一郎", "member"), ("藤谷護人", "member")])
    add_finding(db, case, fourth, "藤谷委員", "中間サーバー / 資料4",
                "中間サーバーのアクセスログは千葉市からも確認できるのか。",
                "国はアクセスログをCSVファイルとして出力する機能を設けており、千葉市の情報へのアクセスを確認できる。")
    add_finding(db, case, fourth, "多賀谷部会長", "Ⅲ リスク対策",
                "副本のデータを中間サーバーに置くことのリスクをどう管理するのか。",
                "地方公共団体の責任において十分なセキュリティ対策を講じる。")

    clock.set(datetime(2015, 8, 6, 19, 45, tzinfo=TOKYO))
    resolutions.record_opinion(db, clock, case.id, OpinionInput(
        verdict="appropriate", supplementary=[NAOGAKI], decided_on=date(2015, 8, 6), meeting_id=fourth.id), SYSTEM)
    text = core.papers.resolution_text(case.id, ResolutionKind.SUBCOMMITTEE_REPORT)
    report = resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text=text)
    resolutions.delegate_to_chair(db, clock, report.id, "多賀谷部会長", SYSTEM)
    clock.set(datetime(2015, 8, 20, 9, tzinfo=TOKYO))
    resolutions.adopt(db, clock, report.id, date(2015, 8, 20), "特定個人情報保護評価部会長 多賀谷一照", SYSTEM)
    clock.set(datetime(2015, 8, 27, 18, tzinfo=TOKYO))
    case = fire(case, "report_to_plenary", reported_on="2015-08-27")
    assert case.state == "reported_to_plenary"

    generated = core.papers.subcommittee_report(case.id, SYSTEM)
    for fact in ("1 審議事項", "2 調査審議の内容", "3 部会の意見", "4 審議経過", "別表 委員からの意見及び実施機関の対応",
                 "後期高齢者医療に関する事務 全項目評価書", "平成27年6月22日（月）から平成27年7月21日（火）まで",
                 "提出された意見0件", "現段階における評価としては妥当である。", "なお、" + NAOGAKI,
                 "平成27年8月6日（木）", "第4回", "全項目評価書の第三者点検について（後期高齢者医療事務）",
                 "藤谷委員", "中間サーバーのアクセスログは千葉市からも確認できるのか。",
                 "国はアクセスログをCSVファイルとして出力する機能を設けており", "平成27年8月20日"):
        assert fact in generated.html, fact
        assert fact in docx_text(generated.docx()), fact
    sections = [generated.html.index(title) for title in ("1 審議事項", "2 調査審議の内容", "3 部会の意見", "4 審議経過")]
    assert sections == sorted(sections)

    result = core.papers.public_comment_result(case.id, SYSTEM)
    assert "提出された意見はありませんでした。" in result.html
    assert "平成27年6月22日（月）から平成27年7月21日（火）まで" in docx_text(result.docx())

    over_http = client.get(f"/api/papers/subcommittee-report/{case.id}", params={"format": "docx"})
    assert over_http.status_code == 200
    assert "多賀谷" in docx_text(over_http.content)
