"""Every shipped reminder rule is delivered at the moment it promises, driven by the clock: nothing a
second before, the notice at its moment, to the people the rule names. And a secretariat's own
procedure speaks in every notice, page and paper with its own titles and target days."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import select

from notifications import reminders
from notifications.models import Notice, Reminder
from notifications.register import open_register
from shingi import bootstrap
from shingi.config import Settings
from states.loader import load_procedures
from tests.helpers.core import ROOT, deliver_due, follow_changes
from tests.helpers.people import PASSWORD, REVIEWING_BODY, SYSTEM
from workflow import accounts, findings, meetings, minutes, service
from workflow.clock import TOKYO, FixedClock
from workflow.db import Database
from workflow.engine import Workflows
from workflow.guards import DEFAULTS, EFFECTS, GUARDS
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION

PROCEDURES = ROOT / "states" / "procedures"

pytestmark = pytest.mark.usefixtures("reminder_rules")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=TOKYO)


@dataclass(frozen=True)
class Moment:
    """A rule, how its subject is set up, when it must go out, and whom it reaches."""

    rule: str
    due: datetime
    recipients: frozenset[str]
    state: str = "drafted"  # the state the case is brought to before the subject is set up


def _meeting(db: Database, clock: FixedClock, case_id: int, starts: datetime) -> int:
    record = meetings.schedule(db, clock, meetings.NewMeeting(
        body=REVIEWING_BODY, term="第16期", starts_at=starts, venue="特9会議室",
        agenda=[meetings.AgendaItemInput(assessment_id=case_id, purpose="third_party_review", title="第三者点検")]),
        SYSTEM)
    assert record.meeting.id is not None
    return record.meeting.id


def _minutes_out_for_corrections(db: Database, clock: FixedClock, case_id: int, deadline: date) -> None:
    """A meeting held this morning; its draft minutes sent to the members for corrections by `deadline`."""
    meeting_id = _meeting(db, clock, case_id, at(2025, 6, 2, 10))
    clock.set(at(2025, 6, 2, 12))
    meetings.record_held(db, clock, meeting_id, meetings.HeldMeeting(expected_version=1), SYSTEM)
    minutes.draft(db, clock, meeting_id, minutes.MinutesDraft(passages=[
        minutes.Passage(speaker="部会長", text="ただいまから部会を開催します。")]), SYSTEM)
    minutes.send_for_corrections(db, clock, meeting_id, minutes.SendForCorrections(deadline=deadline), SYSTEM)


# Mon 2 Jun 2025, 09:00 is where every test starts (tests.helpers.core.START).
MOMENTS: dict[str, tuple[Moment, Callable[..., None]]] = {
    # meeting on Fri 20 Jun: 7 calendar days before is Fri 13 Jun, in the morning
    "meeting_start_7d": (Moment("meeting_start_7d", at(2025, 6, 13, 9), frozenset({"member", "chair"})),
                         lambda db, clock, case, **_: _meeting(db, clock, case.id, at(2025, 6, 20, 10))),
    # one open day before Fri 20 Jun is Thu 19 Jun
    "meeting_start_1d": (Moment("meeting_start_1d", at(2025, 6, 19, 9), frozenset({"member", "chair", "secretariat"})),
                         lambda db, clock, case, **_: _meeting(db, clock, case.id, at(2025, 6, 20, 10))),
    # comment period ends Tue 1 Jul: three open days before is Thu 26 Jun
    "public_comment_end_3d": (Moment("public_comment_end_3d", at(2025, 6, 26, 9), frozenset({"secretariat", "office"})),
                              lambda case, fire, **_: fire(case, "open_public_comment", comment_start="2025-06-02",
                                                           comment_end="2025-07-01")),
    # corrections due Mon 16 Jun: two open days before is Thu 12 Jun
    "minutes_correction_2d": (Moment("minutes_correction_2d", at(2025, 6, 12, 9), frozenset({"member", "chair"})),
                              lambda db, clock, case, **_: _minutes_out_for_corrections(db, clock, case.id,
                                                                                        date(2025, 6, 16))),
    # a question raised on Mon 2 Jun and not answered: 14 days after, Mon 16 Jun
    "finding_unanswered_14d": (Moment("finding_unanswered_14d", at(2025, 6, 16, 9), frozenset({"office"}),
                                      state="subcommittee_review"),
                               lambda db, clock, case, **_: findings.raise_finding(db, clock, case.id, findings.NewFinding(
                                   raised_by="櫻井委員", kind="question", text="ログの確認頻度は。"), SYSTEM)),
    # planned holding on Sun 31 Aug 2025: 60 days before is Wed 2 Jul
    "planned_holding_60d": (Moment("planned_holding_60d", at(2025, 7, 2, 9), frozenset({"secretariat", "office"})),
                            lambda **_: None),
    # entered `drafted` (target 90 days) on Mon 2 Jun 09:00: overdue on Sun 31 Aug 09:00, a closed day,
    # so the secretariat hears of it on the next open day's morning, Mon 1 Sep — never before it is overdue
    "state_overdue": (Moment("state_overdue", at(2025, 9, 1, 9), frozenset({"secretariat"})), lambda **_: None),
    # published on Fri 30 May 2025: the annual review is due Sat 30 May 2026; 30 days before is Thu 30 Apr
    "annual_review_30d": (Moment("annual_review_30d", at(2026, 4, 30, 9), frozenset({"secretariat", "office"}),
                                 state="published"), lambda **_: None),
    # and the re-assessment within five years, by Wed 29 May 2030: 180 days before is Fri 30 Nov 2029
    "reassessment_180d": (Moment("reassessment_180d", at(2029, 11, 30, 9), frozenset({"secretariat", "office"}),
                                 state="published"), lambda **_: None),
}


def _people(db: Database, notices: list[Notice]) -> set[str]:
    with db.reading(EVERY_ORGANISATION) as session:
        return {session.get(UserAccount, notice.user_id).email.split("@")[0].replace("-", "_")  # type: ignore[union-attr]
                for notice in notices}


def _inbox_of_rule(db: Database, rule: str) -> list[Notice]:
    with db.reading(EVERY_ORGANISATION) as session:
        ids = select(Reminder.id).where(Reminder.rule_key == rule)
        return list(session.exec(select(Notice).where(Notice.channel == "inbox",
                                                      Notice.reminder_id.in_(ids))).all())  # type: ignore[union-attr]


def test_every_shipped_rule_has_its_moment():
    shipped = yaml.safe_load(reminders.DEFAULT_RULES.read_text(encoding="utf-8"))
    assert {rule["key"] for rule in shipped} == set(MOMENTS)


@pytest.mark.parametrize("rule", sorted(MOMENTS))
def test_each_shipped_rule_goes_out_at_its_moment(rule, db, clock, workflows, make_case, fire, person):
    for role in ("secretariat", "member", "chair", "office", "other_member"):
        person(role)
    moment, set_up = MOMENTS[rule]
    overrides = {"planned_holding_date": date(2025, 8, 31)} if rule == "planned_holding_60d" else {}
    case = make_case(moment.state, body=REVIEWING_BODY, **overrides)
    set_up(db=db, clock=clock, case=case, fire=fire)

    clock.set(moment.due - timedelta(seconds=1))
    follow_changes(db, clock, workflows)
    deliver_due(db, clock, workflows)
    assert _inbox_of_rule(db, rule) == []

    clock.set(moment.due)
    follow_changes(db, clock, workflows)
    deliver_due(db, clock, workflows)
    sent = _inbox_of_rule(db, rule)
    assert _people(db, sent) == moment.recipients
    assert all(notice.due_at == moment.due for notice in sent)
    # on time: no apology for a delay
    assert not any("遅れ" in notice.body_text for notice in sent)


def test_state_overdue_reaches_the_secretariat_when_the_case_passes_its_target(db, clock, workflows, make_case,
                                                                               person):
    """The case entered 評価書作成中 (target 90 days) on Tue 3 Jun 14:00; it is overdue on Mon 1 Sep 14:00."""
    person("secretariat")
    clock.set(at(2025, 6, 3, 14))
    make_case("drafted", body=REVIEWING_BODY)
    for instant, expected in ((at(2025, 9, 1, 9), 0), (at(2025, 9, 1, 13, 59, 59), 0), (at(2025, 9, 1, 14), 1)):
        clock.set(instant)
        follow_changes(db, clock, workflows)
        deliver_due(db, clock, workflows)
        assert len(_inbox_of_rule(db, "state_overdue")) == expected, instant
    (notice,) = _inbox_of_rule(db, "state_overdue")
    assert "目標期間（90日）" in notice.body_text and "超過" in notice.body_text
    assert "遅れ" not in notice.body_text


# --- a secretariat's own procedure -------------------------------------------------------------

def _own_basic_procedure(folder: Path) -> Path:
    """The shipped 基礎項目評価 with its first state renamed and its target shortened to one day."""
    text = (PROCEDURES / "basic_assessment.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("drafted:"):
            lines[index] = "  drafted: {title: {ja: 独自手続の作成中, en: Our own drafting}, target_days: 1}"
    (folder / "basic_assessment.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_a_secretariats_procedure_speaks_in_notices_pages_and_papers(tmp_path, db, clock, files, person):
    own = Workflows(load_procedures([_own_basic_procedure(tmp_path)], guards=GUARDS, effects=EFFECTS,
                                    defaults=DEFAULTS))
    assert own.procedure("basic_assessment").states["drafted"].title.ja == "独自手続の作成中"
    core = bootstrap.build(Settings(database_url=db.url, migrate_on_start=False, files_dir=files.root,
                                    scheduler=False), database=db, workflows=own, clock=clock, files=files)
    person("secretariat")
    case = service.create_assessment(db, own, clock, service.NewAssessment(
        title="独自の事務", office="市民課", target_count=5000, handler_count=10, serious_incident=False), SYSTEM)
    assert case.procedure == "basic_assessment"

    # the notice: its title and its one-day target, on time
    clock.set(clock.now() + timedelta(days=1))
    jobs = core.jobs()
    jobs.follower.follow()
    jobs.deliver_reminders()
    (notice,) = _inbox_of_rule(db, "state_overdue")
    assert "独自手続の作成中" in notice.body_text and "目標期間（1日）" in notice.body_text
    assert "評価書作成中" not in notice.body_text and "60日" not in notice.body_text

    # the page (signed in as the secretariat) and the paper
    accounts.add_user(db, clock, accounts.NewUser(email="web@example.jp", display_name="事務局 ウェブ",
                                                  password=PASSWORD, roles={"secretariat"}), SYSTEM)
    with TestClient(bootstrap.web_app(core), base_url="https://testserver", follow_redirects=False) as client:
        form = re.search(r'name="form_token" value="([^"]*)"', client.get("/sign-in").text)
        assert form is not None
        signed = client.post("/sign-in", data={"email": "web@example.jp", "password": PASSWORD,
                                               "form_token": unescape(form.group(1))})
        assert signed.status_code == 303, signed.text
        page = client.get(f"/assessments/{case.id}")
        assert page.status_code == 200 and "独自手続の作成中" in page.text
    register = open_register(db, SYSTEM, own, core.paper_templates)
    assert "独自手続の作成中" in "".join(register.html())


def test_the_secretariats_notice_templates_are_the_ones_delivered(tmp_path, db, clock, workflows, files, person,
                                                                 make_case):
    (tmp_path / "notices").mkdir()
    for kind in ("meeting_reminder", "meeting_changed"):
        (tmp_path / "notices" / f"{kind}.ja.j2").write_text(
            "{% block subject %}【当市様式】" + kind + "{% endblock %}"
            "{% block text %}当市様式の文面（{{ meeting.venue }}）{% endblock %}"
            "{% block html %}<p>当市様式の文面</p>{% endblock %}", encoding="utf-8")
    core = bootstrap.build(Settings(database_url=db.url, migrate_on_start=False, files_dir=files.root,
                                    scheduler=False, templates_dir=tmp_path),
                           database=db, workflows=workflows, clock=clock, files=files)
    core.prepare()  # the setting is written to the first organisation's row
    person("member")
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    meeting_id = _meeting(db, clock, case.id, at(2025, 6, 20, 10))
    jobs = core.jobs()
    clock.set(at(2025, 6, 13, 9))
    jobs.follower.follow()
    jobs.deliver_reminders()
    (reminded,) = _inbox_of_rule(db, "meeting_start_7d")
    assert reminded.subject == "【当市様式】meeting_reminder" and "特9会議室" in reminded.body_text

    meetings.move(db, clock, meeting_id, meetings.MeetingMove(expected_version=1, starts_at=at(2025, 6, 27, 10)),
                  SYSTEM)
    jobs.follower.follow()
    with db.reading(EVERY_ORGANISATION) as session:
        (changed,) = session.exec(select(Notice).where(Notice.kind == "change", Notice.channel == "inbox")).all()
    assert changed.subject == "【当市様式】meeting_changed"


def test_the_organisations_closure_days_reach_the_reminders(db, clock, workflows, files, person, make_case):
    """Fri 13 Jun is this organisation's own closure day: the 7-day reminder goes out on Thu 12 Jun."""
    core = bootstrap.build(Settings(database_url=db.url, migrate_on_start=False, files_dir=files.root,
                                    scheduler=False, closure_days="12-29..01-03,06-13"),
                           database=db, workflows=workflows, clock=clock, files=files)
    core.prepare()  # the setting is written to the first organisation's row
    person("member")
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    meeting_id = _meeting(db, clock, case.id, at(2025, 6, 20, 10))
    core.jobs().follower.follow()
    with db.reading(EVERY_ORGANISATION) as session:
        dues = {row.rule_key: row.due_at for row in reminders.pending_for(session, "meeting", meeting_id)}
    assert dues["meeting_start_7d"] == at(2025, 6, 12, 9)
