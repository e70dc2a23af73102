"""Minutes (会議録) of the Fukuoka meeting: the held meeting (`held`), its passages, and minutes brought
to any status."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers.meetings import FUKUOKA, FUKUOKA_MEMBERS, TOPIC, schedule, tokyo
from tests.helpers.people import SYSTEM
from workflow import meetings, minutes
from workflow.clock import local_today
from workflow.meetings import AttendeeInput, HeldMeeting
from workflow.minutes import Confirmation, CorrectionInput, MinutesDraft, Publication, SendForCorrections

#: From seed 000, shortened; the third passage (the log image's details) is not public.
PASSAGES = [
    {"speaker": "部会長", "text": "ただいまから、個人情報保護審議会の第二部会を開催いたします。本日の会議は公開となっておりますが、"
                                 "傍聴者はおられないということですので、このまま進めさせていただきます。"},
    {"speaker": "事務局", "text": "本日の議題について御説明いたします。前回いただいた御質問について諮問実施機関である"
                                 "行財政支援課から御説明をいたします。"},
    {"speaker": "実施機関", "text": "資料2の2枚目のログのイメージ図について御説明します（ログの項目と保存期間）。",
     "public": False},
    {"speaker": "実施機関", "text": "現在60市町村のうち、29市町村で戸籍の附票を取得できるという状況になっております。"},
]


@pytest.fixture
def held(db, clock, fukuoka):
    """第16期第2回, held on 2023-11-16 with its five members; the clock on the day after."""
    clock.set(tokyo(2023, 11, 16, 11, 30))
    record = schedule(db, clock, FUKUOKA, number=2, agenda=[{"assessment_id": fukuoka.case.id,
                                                             "purpose": "third_party_review", "title": TOPIC}])
    attendance = [AttendeeInput(name=name, role=role) for name, role in FUKUOKA_MEMBERS.items()]
    record = meetings.record_held(db, clock, record.meeting.id,
                                  HeldMeeting(expected_version=1, observers=0, attendance=attendance), SYSTEM)
    clock.set(tokyo(2023, 11, 17, 9))
    return record


def draft(db, clock, meeting_id, passages=PASSAGES):
    return minutes.draft(db, clock, meeting_id, MinutesDraft(passages=passages), SYSTEM)[0]


def minutes_in(db, clock, meeting_id: int, status: str) -> int | None:
    """Minutes in `status`; the id of a correction recorded while correcting (None before)."""
    draft(db, clock, meeting_id)
    if status == "draft":
        return None
    deadline = local_today(clock) + timedelta(days=14)
    minutes.send_for_corrections(db, clock, meeting_id, SendForCorrections(deadline=deadline), SYSTEM)
    correction = minutes.record_correction(db, clock, meeting_id, CorrectionInput(passage_index=0, text="訂正"),
                                           SYSTEM)
    if status == "correcting":
        return correction.id
    minutes.confirm(db, clock, meeting_id, Confirmation(confirmed_by="部会長"), SYSTEM)
    if status == "published":
        minutes.publish(db, clock, meeting_id, Publication(), SYSTEM)
    return correction.id
