"""Opinions, reports and replies; consultations; and the generated documents, checked by content."""

import io
from datetime import date, datetime

import pytest
from conftest import REVIEWING_BODY, SYSTEM
from docx import Document as WordDocument
from openpyxl import load_workbook

from notifications import papers
from workflow import accounts, resolutions
from workflow.clock import TOKYO
from workflow.errors import Conflict, InvalidInput
from workflow.records import AgendaItem, Attendance, Finding, Meeting
from workflow.resolutions import OpinionInput, ResolutionKind

CHIBA_COUNCIL = "千葉市情報公開・個人情報保護審議会"
CHIBA_BODY = f"{CHIBA_COUNCIL} 特定個人情報保護評価部会"
NAOGAKI = ("中間サーバーソフトウェアのアクセスログを監視する仕組みについては、国の回答を踏まえ、"
           "千葉市において適切な監視がなされるよう引き続き検討されたい。")


def docx_text(content: bytes) -> str:
    word = WordDocument(io.BytesIO(content))
    parts = [paragraph.text for paragraph in word.paragraphs]
    for table in word.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def add_meeting(db, body_name, number, starts, ends, venue, items, present=(), term=""):
    with db.writing() as session:
        body = accounts.body_by_name(session, body_name)
        meeting = Meeting(body_id=body.id, term=term, number=number, starts_at=starts, ends_at=ends, venue=venue,
                          created_at=starts, updated_at=starts)
        session.add(meeting)
        session.flush()
        for position, (case_id, purpose, title) in enumerate(items, start=1):
            session.add(AgendaItem(meeting_id=meeting.id, position=position, assessment_id=case_id, purpose=purpose,
                                   title=title))
        for name, role in present:
            session.add(Attendance(meeting_id=meeting.id, name=name, role=role))
    return meeting


def add_finding(db, case, meeting, raised_by, section, text, answer):
    with db.writing() as session:
        session.add(Finding(assessment_id=case.id, cycle=case.cycle, meeting_id=meeting.id, raised_by=raised_by,
                            raised_on=meeting.starts_at.astimezone(TOKYO).date(), section=section, text=text,
                            answer=answer, status="answered", created_at=meeting.starts_at,
                            updated_at=meeting.starts_at))


# --- resolutions --------------------------------------------------------------------------------

def test_a_report_goes_from_draft_through_the_chair_to_adoption(make_case, db, clock):
    case = make_case("subcommittee_review")
    draft = resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text="案")
    assert draft.status == "draft" and draft.title.endswith("（部会報告）")
    delegated = resolutions.delegate_to_chair(db, clock, draft.id, "多賀谷 部会長", SYSTEM)
    assert (delegated.status, delegated.delegated_to) == ("delegated", "多賀谷 部会長")
    adopted = resolutions.adopt(db, clock, draft.id, date(2025, 6, 1), "多賀谷 部会長", SYSTEM)
    assert (adopted.status, adopted.adopted_on) == ("adopted", date(2025, 6, 1))
    with pytest.raises(Conflict):
        resolutions.adopt(db, clock, draft.id, date(2025, 6, 2), "x", SYSTEM)
    with pytest.raises(Conflict):
        resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text="書き換え")


def test_conditions_are_required_for_a_conditional_verdict(make_case, db, clock):
    case = make_case("subcommittee_review")
    with pytest.raises(InvalidInput) as refused:
        resolutions.record_opinion(db, clock, case.id, OpinionInput(
            verdict="appropriate_with_conditions", decided_on=date(2025, 6, 1)), SYSTEM)
    assert refused.value.problems[0].field == "conditions"


def test_the_opinion_is_frozen_once_the_report_is_adopted(make_case, db, clock, prepare_for):
    case = make_case("subcommittee_review")
    resolutions.record_opinion(db, clock, case.id, OpinionInput(verdict="appropriate", decided_on=date(2025, 6, 1)),
                               SYSTEM)
    prepare_for(case, "report_to_plenary")
    with pytest.raises(Conflict):
        resolutions.record_opinion(db, clock, case.id, OpinionInput(verdict="inappropriate",
                                                                    decided_on=date(2025, 6, 1)), SYSTEM)


def test_resolution_api(client, make_case):
    case = make_case("subcommittee_review")
    response = client.put(f"/api/assessments/{case.id}/opinion", json={
        "verdict": "appropriate", "supplementary": [NAOGAKI], "decided_on": "2025-06-01"})
    assert response.status_code == 200, response.text
    drafted = client.post(f"/api/assessments/{case.id}/resolutions", json={"kind": "subcommittee_report"})
    assert drafted.status_code == 201, drafted.text
    assert "3 部会の意見" in drafted.json()["text"] and NAOGAKI in drafted.json()["text"]
    adopted = client.post(f"/api/resolutions/{drafted.json()['id']}/adopt",
                          json={"adopted_on": "2025-06-01", "adopted_by": "部会長"})
    assert adopted.status_code == 200 and adopted.json()["status"] == "adopted"
    again = client.post(f"/api/resolutions/{drafted.json()['id']}/adopt",
                        json={"adopted_on": "2025-06-01", "adopted_by": "部会長"})
    assert again.status_code == 409
    fired = client.post(f"/api/assessments/{case.id}/events",
                        json={"event": "report_to_plenary", "expected_version": case.version,
                              "reported_on": "2025-06-01"})
    assert fired.status_code == 200 and fired.json()["state"] == "reported_to_plenary"


# --- consultations ------------------------------------------------------------------------------

def test_a_consultation_is_deliberated_and_answered(client):
    created = client.post("/api/consultations", json={
        "title": "個人番号を含む作業の再委託について", "office": "行財政支援課", "consultation_type": "re_outsourcing",
        "body": REVIEWING_BODY})
    assert created.status_code == 201, created.text
    case = created.json()
    assert (case["kind"], case["procedure"], case["state"], case["level"]) == ("consultation", "consultation",
                                                                              "consulted", None)
    case = client.post(f"/api/assessments/{case['id']}/events",
                       json={"event": "start_deliberation", "expected_version": 1}).json()
    refused = client.post(f"/api/assessments/{case['id']}/events", json={"event": "reply", "expected_version": 2})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "condition_not_met"
    client.put(f"/api/assessments/{case['id']}/opinion",
               json={"verdict": "no_particular_problem", "decided_on": "2025-06-01"})
    reply = client.post(f"/api/assessments/{case['id']}/resolutions", json={"kind": "reply"}).json()
    assert "特段の支障がないと考える" in reply["text"]
    client.post(f"/api/resolutions/{reply['id']}/adopt", json={"adopted_on": "2025-06-02", "adopted_by": "会長"})
    answered = client.post(f"/api/assessments/{case['id']}/events", json={"event": "reply", "expected_version": 2})
    assert answered.status_code == 200 and answered.json()["state"] == "replied"
    listed = client.get("/api/assessments", params={"kind": "consultation"}).json()
    assert listed["total"] == 1


def test_consultation_types_are_checked(client):
    response = client.post("/api/consultations", json={"title": "x", "office": "y", "consultation_type": "gossip"})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "consultation_type"


# --- Chiba: public comment with no comments, 4th subcommittee meeting, adopted report (seed 002) -----

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


# --- Fukuoka: the next meeting's convocation (seed 000) --------------------------------------------

def test_fukuoka_convocation_notice_carries_the_facts(make_case, db, client, core):
    body = "福岡県個人情報保護審議会 第二部会（住基・番号利用法部会）"
    case = make_case("subcommittee_review", title="住民基本台帳ネットワークに関する事務", office="行財政支援課",
                     body=body)
    third = add_meeting(
        db, body, 3, datetime(2023, 12, 21, 10, 0, tzinfo=TOKYO), None, "県庁行政棟10階 特9会議室",
        [(case.id, "reply_draft", "住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価書の第三者点検について")],
        term="第16期")
    notice = core.papers.convocation(third.id, SYSTEM)
    for fact in ("第16期第3回", "令和5年12月21日（木）", "午前10時から", "県庁行政棟10階 特9会議室",
                 "住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価書の第三者点検について",
                 "答申案の検討", "開催について（通知）"):
        assert fact in notice.html, fact
        assert fact in docx_text(notice.docx()), fact
    response = client.get(f"/api/papers/convocation/{third.id}")
    assert response.status_code == 200 and "令和5年12月21日（木）" in response.text
    result = client.get(f"/api/papers/meeting-result/{third.id}", params={"format": "docx"})
    assert result.status_code == 200 and "特9会議室" in docx_text(result.content)


# --- the plan register --------------------------------------------------------------------------

def test_register_lists_every_assessment_in_html_docx_and_xlsx(make_case, db, workflows, client, core):
    published = make_case("published", title="住民基本台帳に関する事務")
    make_case("drafted", "basic_assessment", title="予防接種に関する事務", target_count=5_000)
    register = core.papers.register(SYSTEM)
    book = load_workbook(io.BytesIO(register.xlsx()))
    sheet = book["計画管理書"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == ("番号", "評価対象の事務", "実施機関", "対象人数", "取扱者数", "重大事故", "評価の種類", "状態")
    by_title = {row[1]: row for row in rows[1:]}
    assert by_title["住民基本台帳に関する事務"][3] == 430_000
    assert by_title["住民基本台帳に関する事務"][7] == "公表済"
    assert by_title["予防接種に関する事務"][6] == "基礎項目評価"
    assert "令和7年5月30日" in register.html and "令和8年5月30日" in register.html  # published, next review
    text = docx_text(register.docx())
    assert "住民基本台帳に関する事務" in text and "430,000" in text and "令和12年5月29日" in text
    assert client.get("/api/papers/register", params={"format": "xlsx"}).status_code == 200
    assert published.reassessment_due == date(2030, 5, 29)


def test_a_secretariat_template_replaces_the_shipped_one(tmp_path, make_case, db, core):
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "reply.html").write_text(
        "<html><body><main><h1>{{ subject }}（答申・当市様式）</h1></main></body></html>", encoding="utf-8")
    case = make_case("subcommittee_review", title="独自様式の確認")
    paper = papers.reply(db, case.id, SYSTEM, core.letterhead, papers.environment(tmp_path))
    assert "独自様式の確認（答申・当市様式）" in paper.html


def test_cli_writes_documents(make_case, db, tmp_path):
    import os
    import subprocess
    import sys

    case = make_case("published", title="CLI確認の事務")
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url}
    register = tmp_path / "register.xlsx"
    done = subprocess.run([sys.executable, "-m", "shingi.cli", "papers", "register", "--format", "xlsx",
                           "--output", str(register)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert any(row[1] == "CLI確認の事務" for row in load_workbook(register)["計画管理書"].iter_rows(values_only=True))
    report = tmp_path / "report.docx"
    done = subprocess.run([sys.executable, "-m", "shingi.cli", "papers", "subcommittee-report", "--case", str(case.id),
                           "--output", str(report)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "1 審議事項" in docx_text(report.read_bytes())
    missing = subprocess.run([sys.executable, "-m", "shingi.cli", "papers", "reply"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 1 and "needs --case" in missing.stderr
