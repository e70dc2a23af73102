"""Notice templates: every kind renders in both languages with no missing variable, Japanese notices
use 和暦 dates and 午前/午後 times, HTML is escaped, a late notice names its due time, and the
secretariat's own templates are used before the shipped ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from notifications import notices
from notifications.notices import Common, Material, Question
from workflow.clock import TOKYO

FUKUOKA_START = datetime(2023, 12, 21, 10, 0, tzinfo=TOKYO)


def fukuoka_meeting(**overrides) -> dict:
    facts = {"council": "福岡県個人情報保護審議会", "body": "第二部会（住基・番号利用法部会）", "term": "第16期", "number": 3,
             "starts_at": FUKUOKA_START, "venue": "県庁行政棟10階 特9会議室",
             "agenda": ["住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価に係る答申案の検討について"],
             "materials": [Material("資料1", "答申（案）"), Material("資料2", "ログのサンプル", members_only=True)]}
    return notices.meeting_facts(**{**facts, **overrides})


@pytest.mark.parametrize("language", notices.LANGUAGES)
@pytest.mark.parametrize("kind", notices.KINDS)
@pytest.mark.parametrize("late", [False, True], ids=["on_time", "late"])
def test_every_kind_renders_in_every_language(kind: str, language: str, late: bool) -> None:
    rendered = notices.preview(kind, language, late=late)
    assert rendered.subject and "\n" not in rendered.subject and len(rendered.subject) <= notices.SUBJECT_MAX
    assert rendered.text.endswith("\n") and "\n\n\n" not in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>") and rendered.html.rstrip().endswith("</html>")
    assert f'<html lang="{language}">' in rendered.html
    assert "井上 真由美" in rendered.text and "福岡県個人情報保護審議会事務局" in rendered.text
    # The due time is shown only when the notice goes out late.
    due = "令和5年12月14日（木）午前9時" if language == "ja" else "Thu 14 Dec 2023, 09:00"
    assert (due in rendered.text) is late and (due in rendered.html) is late
    if language == "en":  # no Japanese boilerplate left in the English notice (facts stay as recorded)
        assert "様" not in rendered.text and "記" not in rendered.text.splitlines()


def test_every_template_belongs_to_a_kind_and_has_the_three_blocks() -> None:
    folder = resources.files("notifications") / "templates" / "notices"
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".j2")
                   and not entry.name.startswith("_"))
    assert names == sorted(f"{kind}.{language}.j2" for kind in notices.KINDS for language in notices.LANGUAGES)
    env = notices.environment()
    for name in names:
        assert set(env.get_template(f"notices/{name}").blocks) == set(notices.BLOCKS), name


def test_meeting_reminder_in_formal_japanese() -> None:
    rendered = notices.preview("meeting_reminder")
    assert rendered.subject == "【会議開催のお知らせ】第16期第3回 第二部会（住基・番号利用法部会）（令和5年12月21日（木）午前10時）"
    text = rendered.text
    assert text.startswith("井上 真由美 様\n")
    assert ("福岡県個人情報保護審議会 第16期第3回 第二部会（住基・番号利用法部会）を下記のとおり開催いたしますので、"
            "御出席くださいますようお願いいたします。") in text
    assert "1　日時　令和5年12月21日（木）午前10時から\n" in text
    assert "2　場所　県庁行政棟10階 特9会議室\n" in text
    assert "　(1) 住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価に係る答申案の検討について\n" in text
    assert "　資料3　第2回第二部会会議録（案）（委員限り）\n" in text
    assert "\n記\n" in text and "\n以上\n" in text
    assert "<li>住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価に係る答申案の検討について</li>" in rendered.html


def test_times_in_the_afternoon_and_at_noon_and_an_end_time() -> None:
    meeting = fukuoka_meeting(starts_at=datetime(2023, 12, 26, 13, 30, tzinfo=TOKYO),
                              ends_at=datetime(2023, 12, 26, 15, 0, tzinfo=TOKYO))
    ja = notices.render("meeting_reminder", notices.meeting_reminder(meeting))
    assert "令和5年12月26日（火）午後1時30分から午後3時まで" in ja.text
    en = notices.render("meeting_reminder", notices.meeting_reminder(meeting), "en")
    assert "Tue 26 Dec 2023, 13:30–15:00 (JST)" in en.text
    noon = fukuoka_meeting(starts_at=datetime(2023, 12, 26, 12, 0, tzinfo=TOKYO))
    assert notices.render("meeting_reminder", notices.meeting_reminder(noon)).subject.endswith("（令和5年12月26日（火）正午）")


def test_instants_are_read_in_tokyo() -> None:
    meeting = fukuoka_meeting(starts_at=FUKUOKA_START.astimezone(UTC))  # 01:00 UTC, as the database returns it
    assert "令和5年12月21日（木）午前10時" in notices.render("meeting_reminder", notices.meeting_reminder(meeting)).subject
    english = notices.render("meeting_reminder", notices.meeting_reminder(meeting), "en")
    assert "Thu 21 Dec 2023, 10:00" in english.subject
    with pytest.raises(ValueError, match="timezone-aware"):
        fukuoka_meeting(starts_at=datetime(2023, 12, 21, 10, 0))


def test_html_is_escaped_and_text_is_not() -> None:
    context = notices.meeting_reminder(
        fukuoka_meeting(agenda=["<script>alert(1)</script> & 答申案"]),
        common=Common(custom_message="当日は<b>正面玄関</b>から\nお入りください。", recipient_name="A & B"))
    rendered = notices.render("meeting_reminder", context)
    assert "<script>" not in rendered.html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 答申案" in rendered.html
    assert "当日は&lt;b&gt;正面玄関&lt;/b&gt;から<br>\nお入りください。" in rendered.html
    assert "A &amp; B 様" in rendered.html
    assert "<script>alert(1)</script> & 答申案" in rendered.text
    assert "【事務局からのお知らせ】\n当日は<b>正面玄関</b>から\nお入りください。" in rendered.text
    assert "A & B 様" in rendered.text and "&amp;" not in rendered.text + rendered.subject


def test_a_missing_fact_fails_loudly() -> None:
    context = notices.meeting_reminder(fukuoka_meeting())
    del context["meeting"]["venue"]
    with pytest.raises(UndefinedError, match="venue"):
        notices.render("meeting_reminder", context)
    with pytest.raises(UndefinedError, match="review_due"):
        notices.render("annual_review_due", {"case": notices.case_facts(title="x", office="y")})
    with pytest.raises(ValueError, match="unknown notice kind"):
        notices.render("meeting_postponed", context)
    with pytest.raises(ValueError, match="unknown language"):
        notices.render("meeting_reminder", notices.meeting_reminder(fukuoka_meeting()), "fr")


def test_common_variables_may_be_left_out() -> None:
    rendered = notices.render("meeting_reminder", {"meeting": fukuoka_meeting()})
    assert rendered.text.startswith("関係者各位\n") and rendered.text.rstrip().splitlines()[-2] == "事務局"
    english = notices.render("meeting_reminder", {"meeting": fukuoka_meeting()}, "en")
    assert english.text.startswith("Dear colleagues,\n") and "The secretariat" in english.text


def test_late_notice_names_its_due_time() -> None:
    due = datetime(2023, 12, 14, 9, 0, tzinfo=TOKYO)
    assert not Common.due(due, due + timedelta(minutes=30)).sent_late
    late = Common.due(due, due + timedelta(hours=3), recipient_name="小林 登")
    assert late.sent_late and late.due_at == due and late.recipient_name == "小林 登"
    ja = notices.render("meeting_reminder", notices.meeting_reminder(fukuoka_meeting(), common=late))
    assert "※本通知は、令和5年12月14日（木）午前9時にお送りする予定でしたが、システムの停止により送信が遅れました。" in ja.text
    en = notices.render("meeting_reminder", notices.meeting_reminder(fukuoka_meeting(), common=late), "en")
    assert "This notice was due on Thu 14 Dec 2023, 09:00 (JST)" in en.text
    with pytest.raises(ValueError, match="due_at"):
        notices.meeting_reminder(fukuoka_meeting(), common=Common(sent_late=True))


def test_meeting_changed_says_what_changed() -> None:
    new_time = fukuoka_meeting(starts_at=datetime(2023, 12, 26, 13, 30, tzinfo=TOKYO))
    context = notices.meeting_changed(new_time, previous_starts_at=FUKUOKA_START)
    assert context["time_changed"] and not context["venue_changed"]
    rendered = notices.render("meeting_changed", context)
    assert rendered.subject.startswith("【日時変更のお知らせ】第16期第3回 第二部会（住基・番号利用法部会）")
    assert "令和5年12月21日（木）午前10時から開催を予定しておりました" in rendered.text
    assert "下記のとおり日時を変更いたしましたので、お知らせいたします。" in rendered.text
    assert "1　変更前\n　日時　令和5年12月21日（木）午前10時から\n　場所　県庁行政棟10階 特9会議室\n" in rendered.text
    assert "2　変更後\n　日時　令和5年12月26日（火）午後1時30分から\n" in rendered.text
    assert "変更の理由" not in rendered.text

    new_room = fukuoka_meeting(venue="県庁行政棟10階 特7会議室")
    context = notices.meeting_changed(new_room, previous_starts_at=FUKUOKA_START, previous_venue="県庁行政棟10階 特9会議室",
                                      reason="会議室の工事のため")
    rendered = notices.render("meeting_changed", context)
    assert rendered.subject.startswith("【会場変更のお知らせ】") and "場所を変更いたしました" in rendered.text
    assert "3　変更の理由　会議室の工事のため" in rendered.text
    assert notices.render("meeting_changed", context, "en").subject.startswith("Change of venue: ")


def test_meeting_cancelled() -> None:
    rendered = notices.render("meeting_cancelled", notices.meeting_cancelled(fukuoka_meeting(), reason="台風の接近のため"))
    assert rendered.subject == "【中止のお知らせ】第16期第3回 第二部会（住基・番号利用法部会）（令和5年12月21日（木）午前10時開催予定）"
    assert "中止することといたしましたので、お知らせいたします。" in rendered.text
    assert "4　中止の理由　台風の接近のため" in rendered.text


def test_case_notices() -> None:
    case = notices.case_facts(title="住民基本台帳に関する事務", office="市民課")
    closing = notices.public_comment_closing(case, comment_start=date(2015, 6, 22), comment_end=date(2015, 7, 21),
                                             today=date(2015, 7, 16))
    assert closing["comment_days"] == 30 and not closing["closed"]
    text = notices.render("public_comment_closing", closing).text
    assert "平成27年7月21日（火）をもって終了いたします。" in text
    assert "3　意見聴取期間　平成27年6月22日（月）から平成27年7月21日（火）まで（30日間）" in text
    closed = notices.public_comment_closing(case, comment_start=date(2015, 6, 22), comment_end=date(2015, 7, 21),
                                            today=date(2015, 7, 22))
    assert "をもって終了いたしました。" in notices.render("public_comment_closing", closed).text

    questions = notices.finding_unanswered(case, questions=["再委託先の監督の方法", Question("ログの保存期間", date(2023, 11, 16))])
    text = notices.render("finding_unanswered", questions).text
    assert "　(1) 再委託先の監督の方法\n　(2) ログの保存期間（令和5年11月16日（木））\n" in text
    assert "回答の期限" not in text and "回答を御提出くださいますようお願いいたします。" in text

    overdue = notices.state_overdue(case, state_title="第三者点検中", state_entered_on=date(2023, 9, 1), target_days=90)
    assert overdue["target_date"] == date(2023, 11, 30)
    assert "4　目標期間　90日（令和5年11月30日（木）まで）" in notices.render("state_overdue", overdue).text

    holding = notices.planned_holding_date(case, planned_holding_date=date(2024, 4, 1), state_title="意見聴取中")
    assert "評価書はまだ公表されておりません（現在の状況：意見聴取中）" in notices.render("planned_holding_date", holding).text
    review = notices.annual_review_due(case, review_due=date(2024, 3, 29))
    assert "評価書の公表日" not in notices.render("annual_review_due", review).text
    again = notices.reassessment_due(case, reassessment_due=date(2028, 3, 29), published_on=date(2023, 3, 30))
    assert "3　再実施の期限　令和10年3月29日（水）\n4　評価書の公表日　令和5年3月30日（木）" in \
        notices.render("reassessment_due", again).text


def test_minutes_correction() -> None:
    held = fukuoka_meeting(number=2, starts_at=datetime(2023, 11, 16, 10, 0, tzinfo=TOKYO),
                           ends_at=datetime(2023, 11, 16, 11, 30, tzinfo=TOKYO))
    rendered = notices.render("minutes_correction", notices.minutes_correction(held, correction_due=date(2023, 12, 1)))
    assert rendered.subject == "【会議録の修正期限のお知らせ】第16期第2回 第二部会（住基・番号利用法部会）（令和5年12月1日（金）まで）"
    assert "令和5年11月16日（木）に開催いたしました" in rendered.text
    assert "令和5年12月1日（金）までに事務局へ御連絡くださいますようお願いいたします。" in rendered.text
    assert "2　開催日時　令和5年11月16日（木）午前10時から午前11時30分まで" in rendered.text


def test_the_secretariats_templates_come_first(tmp_path: Path) -> None:
    (tmp_path / "notices").mkdir()
    (tmp_path / "notices" / "meeting_reminder.ja.j2").write_text(
        "{% block subject %}開催通知 {{ meeting.body }}{% endblock %}"
        "{% block text %}{{ meeting.starts_at|ja_datetime }} {{ meeting.venue }}{% endblock %}"
        "{% block html %}<p>{{ meeting.venue }}</p>{% endblock %}", encoding="utf-8")
    ours = notices.preview("meeting_reminder", templates_dir=tmp_path)
    assert ours.subject == "開催通知 第二部会（住基・番号利用法部会）"
    assert ours.text == "令和5年12月21日（木）午前10時 県庁行政棟10階 特9会議室\n"
    # The other kinds and languages still come from the shipped templates.
    assert notices.preview("meeting_reminder", "en", templates_dir=tmp_path).subject.startswith("Meeting notice: ")
    assert notices.preview("meeting_cancelled", templates_dir=tmp_path).subject.startswith("【中止のお知らせ】")


def test_a_long_subject_is_cut_to_fit() -> None:
    case = notices.case_facts(title="長" * 400, office="市民課")
    subject = notices.render("state_overdue", notices.state_overdue(
        case, state_title="第三者点検中", state_entered_on=date(2023, 9, 1), target_days=90)).subject
    assert len(subject) == notices.SUBJECT_MAX and subject.endswith("…")
