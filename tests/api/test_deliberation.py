"""Opinions, reports and replies; consultations; and the generated documents, checked by content — over
HTTP (tests/integration/test_deliberation.py: in the service; the Chiba replay is in tests/acceptance)."""

import io
from datetime import date, datetime

from openpyxl import load_workbook

from tests.helpers.papers import NAOGAKI, add_meeting, docx_text
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow.clock import TOKYO

# --- resolutions --------------------------------------------------------------------------------

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

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _register_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    return list(load_workbook(io.BytesIO(response.content))["計画管理書"].iter_rows(values_only=True))


def test_register_lists_every_assessment_in_html_docx_and_xlsx(make_case, db, workflows, client, core):
    published = make_case("published", title="住民基本台帳に関する事務")
    make_case("drafted", "basic_assessment", title="予防接種に関する事務", target_count=5_000)
    rows = _register_rows(client.get("/api/papers/register", params={"format": "xlsx"}))
    assert rows[0][:8] == ("番号", "評価対象の事務", "実施機関", "対象人数", "取扱者数", "重大事故", "評価の種類", "状態")
    by_title = {row[1]: row for row in rows[1:]}
    assert by_title["住民基本台帳に関する事務"][3] == 430_000
    assert by_title["住民基本台帳に関する事務"][7] == "公表済"
    assert by_title["予防接種に関する事務"][6] == "基礎項目評価"
    html = client.get("/api/papers/register")
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "令和7年5月30日" in html.text and "令和8年5月30日" in html.text  # published, next review
    assert "2件" in html.text
    docx = client.get("/api/papers/register", params={"format": "docx"})
    text = docx_text(docx.content)
    assert "住民基本台帳に関する事務" in text and "430,000" in text and "令和12年5月29日" in text
    assert published.reassessment_due == date(2030, 5, 29)


def test_the_register_is_filtered_by_office_procedure_state_and_fiscal_year(make_case, client, clock):
    make_case("published", title="公表した事務")              # opened on 2 June 2025: 令和7年度
    clock.set(datetime(2025, 3, 31, 23, 30, tzinfo=TOKYO))  # 令和6年度, its last half hour in Tokyo
    make_case("drafted", title="令和6年度の事務")
    clock.set(datetime(2025, 4, 1, 0, 30, tzinfo=TOKYO))    # 令和7年度 (still 31 March in UTC)
    make_case("drafted", "basic_assessment", title="市民税課の事務", office="市民税課")

    def titles(**which):
        return sorted(row[1] for row in _register_rows(client.get("/api/papers/register",
                                                                  params={"format": "xlsx", **which}))[1:])

    assert titles() == ["令和6年度の事務", "公表した事務", "市民税課の事務"]
    assert titles(fiscal_year=2024) == ["令和6年度の事務"]
    assert titles(fiscal_year=2025) == ["公表した事務", "市民税課の事務"]
    assert titles(office="市民税課") == ["市民税課の事務"]
    assert titles(procedure="basic_assessment") == ["市民税課の事務"]
    assert titles(state="published") == ["公表した事務"]
    assert titles(state="published", office="市民税課") == []
    assert titles(office="") == titles()  # a form's empty choice lists them all
    refused = client.get("/api/papers/register", params={"fiscal_year": 1999})
    assert refused.status_code == 422 and refused.json()["error"]["fields"][0]["field"] == "fiscal_year"


def test_the_register_is_read_a_batch_at_a_time_and_streamed(make_case, client, db, monkeypatch):
    """Seven cases in batches of three: three queries of rows, every case once, in order; the HTML is
    sent in pieces (no length known ahead) as the rows are read."""
    from sqlalchemy import event

    from notifications import register

    monkeypatch.setattr(register, "BATCH", 3)
    made = [make_case("drafted", title=f"事務{number}").id for number in range(7)]
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_):
        if statement.lstrip().upper().startswith("SELECT") and "FROM assessment" in statement and "count(" not in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        rows = _register_rows(client.get("/api/papers/register", params={"format": "xlsx"}))
        html = client.get("/api/papers/register")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [row[0] for row in rows[1:]] == made
    assert len(statements) == 2 * 3  # three batches for the .xlsx, three for the HTML
    assert "content-length" not in html.headers
    assert [f"事務{number}" in html.text for number in range(7)] == [True] * 7


def test_a_register_too_long_for_word_says_what_to_do(make_case, client, monkeypatch):
    from notifications import register

    monkeypatch.setattr(register, "DOCX_MAX_ROWS", 2)
    for number in range(3):
        make_case("drafted", title=f"事務{number}")
    refused = client.get("/api/papers/register", params={"format": "docx"})
    assert refused.status_code == 422
    (problem,) = refused.json()["error"]["fields"]
    assert (problem["field"], problem["rule"]) == ("format", "max_rows")
    assert "Excel 形式" in problem["message"]["ja"] and "該当 3 件" in problem["message"]["ja"]
    assert client.get("/api/papers/register", params={"format": "docx", "office": "なし"}).status_code == 200
