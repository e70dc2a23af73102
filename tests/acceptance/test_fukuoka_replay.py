"""Acceptance: Fukuoka's second meeting of the 第二部会 (seed 000) replayed as records through the API —
members' findings, the office's two revisions with before/after, the next meeting fixed for
12月21日（木）10時 特9会議室 — and the generated convocation notice and findings table carry those facts,
in Japanese, with 和暦 dates (HTML and .docx alike); the members are reminded of the next meeting."""

import io
from datetime import datetime

from docx import Document as WordDocument
from sqlmodel import select

from notifications import reminders
from notifications.models import Notice
from tests.helpers.core import deliver_due, follow_changes
from workflow.clock import TOKYO
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION

BODY = "福岡県個人情報保護審議会 第二部会（住基・番号利用法部会）"
WORK = "住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価書の第三者点検について"
AUTH_BEFORE = "IDと生体認証(又はパスワード)による認証が必要となる"
AUTH_AFTER = ("サーバへのアクセスは、原則、IDと生体認証による認証が必要となる。例外として生体認証による照合が困難な"
              "職員についてはIDとパスワードによる認証とする")
LEAK_AFTER = "万一流出した場合には、委託先からの報告を受け、速やかに関係機関へ連絡し被害の拡大防止に努める"


def docx_text(content: bytes) -> str:
    word = WordDocument(io.BytesIO(content))
    return "\n".join([p.text for p in word.paragraphs] + [c.text for t in word.tables for r in t.rows for c in r.cells])


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def test_fukuoka_second_meeting_replayed(client, public, person, db, clock, make_case, fire):
    reminders.ensure_default_rules(db)
    person("member")  # sits on another body: not reminded of Fukuoka's meetings
    admin = person("admin")
    ok(public.post("/api/users", headers=admin.headers, json={
        "email": "sasaki@example.jp", "display_name": "佐々木 久美子", "roles": ["member"], "bodies": {BODY: "member"}}),
       201)
    clock.set(datetime(2023, 6, 1, 9, tzinfo=TOKYO))
    case = make_case("drafted", title="住民基本台帳ネットワークに関する事務", office="行財政支援課", body=BODY)
    clock.set(datetime(2023, 8, 21, 9, tzinfo=TOKYO))
    case = fire(case, "open_public_comment", comment_start="2023-08-21", comment_end="2023-09-19")
    clock.set(datetime(2023, 9, 20, 9, tzinfo=TOKYO))
    case = fire(case, "close_public_comment", comment_count=0)

    clock.set(datetime(2023, 11, 10, 9, tzinfo=TOKYO))
    second = ok(client.post("/api/meetings", json={
        "body": BODY, "term": "第16期", "number": 2, "starts_at": "2023-11-16T10:00:00+09:00",
        "ends_at": "2023-11-16T11:30:00+09:00", "venue": "県庁行政棟10階 特9会議室", "is_public": True,
        "agenda": [{"assessment_id": case.id, "purpose": "third_party_review", "title": WORK}]}), 201)

    clock.set(datetime(2023, 11, 16, 11, 30, tzinfo=TOKYO))
    raised = [ok(client.post(f"/api/assessments/{case.id}/findings", json={
        "raised_by": who, "meeting_id": second["id"], "kind": "question", "section": section, "text": text}), 201)
        for who, section, text in (
            ("櫻井委員", "Ⅲ リスク対策 / 資料3-2", "ログやデータが外部に流出した場合の対策は評価書のどこに記載されているのか。"),
            ("山元委員", "Ⅱ 6. 保管場所 / 資料3-1", "生体認証とパスワードではセキュリティレベルが異なるのではないか。"),
            ("小林部会長", "再委託", "個人番号を含む作業を再委託する必要性と、再委託先の監督はどうなっているのか。"),
        )]
    version = ok(client.post(f"/api/assessments/{case.id}/versions", json={
        "label": "第三者点検を踏まえた修正案（資料3）", "submitted_on": "2023-11-16",
        "changes": [
            {"section": "Ⅱ 6. 保管場所（資料3-1）", "before": AUTH_BEFORE, "after": AUTH_AFTER,
             "reason": "生体認証とパスワードではセキュリティレベルが異なるとの指摘", "finding_ids": [raised[1]["id"]]},
            {"section": "Ⅲ リスク対策（資料3-2）", "before": "", "after": LEAK_AFTER,
             "reason": "流出時の対策の記載がないとの指摘", "finding_ids": [raised[0]["id"]]},
        ]}), 201)
    for finding, answer in ((raised[0], "資料3-2のとおり、流出時の対策を追記した。"),
                            (raised[1], "資料3-1のとおり、原則として生体認証による認証とする記載に改めた。"),
                            (raised[2], "再委託先には委託元と同等の安全管理措置を契約で義務付け、定期的に報告を求める。")):
        ok(client.post(f"/api/findings/{finding['id']}/answer", json={"answer": answer,
                                                                      "answered_at_meeting_id": second["id"]}))

    third = ok(client.post(f"/api/meetings/{second['id']}/next", json={
        "starts_at": "2023-12-21T10:00:00+09:00", "venue": "県庁行政棟10階 特9会議室",
        "agenda": [{"assessment_id": case.id, "purpose": "reply_draft", "title": WORK}]}), 201)
    assert third["number"] == 3 and third["term"] == "第16期"

    notice = client.get(f"/api/papers/convocation/{third['id']}")
    word = docx_text(client.get(f"/api/papers/convocation/{third['id']}", params={"format": "docx"}).content)
    for fact in ("第16期第3回", "令和5年12月21日（木）", "午前10時", "県庁行政棟10階 特9会議室", WORK, "答申案の検討"):
        assert fact in notice.text and fact in word, fact

    table = client.get(f"/api/papers/findings/{case.id}")
    word = docx_text(client.get(f"/api/papers/findings/{case.id}", params={"format": "docx"}).content)
    for fact in ("櫻井委員", "山元委員", "小林部会長", "令和5年11月16日（木）", "生体認証とパスワードではセキュリティレベルが異なる",
                 "資料3-2のとおり、流出時の対策を追記した。", AUTH_BEFORE, AUTH_AFTER, LEAK_AFTER,
                 f"第{version['number']}版で修正", "回答済"):
        assert fact in table.text and fact in word, fact

    # the members of Fukuoka's body are reminded of 第3回 a week before, in Japanese with 和暦 dates
    clock.set(datetime(2023, 12, 14, 9, 0, 5, tzinfo=TOKYO))
    follow_changes(db, clock)
    assert deliver_due(db, clock) >= 1
    with db.reading(EVERY_ORGANISATION) as session:
        user = session.exec(select(UserAccount).where(UserAccount.email == "sasaki@example.jp")).one()
        inbox = session.exec(select(Notice).where(Notice.user_id == user.id, Notice.channel == "inbox")).all()
    assert len(inbox) == 1
    assert "令和5年12月21日（木）" in inbox[0].body_text and "特9会議室" in inbox[0].body_text
    assert "佐々木 久美子" in inbox[0].body_text
    with db.reading(EVERY_ORGANISATION) as session:
        others = session.exec(select(Notice).where(Notice.user_id != user.id)).all()
    assert others == []  # nobody else sits on Fukuoka's body; 第2回's reminders expired unsent (it was past)
