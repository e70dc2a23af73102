"""The guards and effects that procedure files name.

A guard checks that an event may happen now: it raises InvalidInput when the event's own inputs
break a rule (HTTP 422) and GuardRefused when the case is not ready (HTTP 409). An effect records
what follows from the event (due dates, a new cycle). Both receive the TransitionContext.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, select

from states.definition import EventSpec, Procedure
from workflow.dates import add_years, days_inclusive, english_date, reassessment_deadline, wareki
from workflow.documents import purge_review_material as purge
from workflow.errors import GuardRefused, InvalidInput, Message
from workflow.models import Assessment
from workflow.records import PublicComment
from workflow.resolutions import ResolutionKind, is_adopted
from workflow.threshold import Level, judge

if TYPE_CHECKING:
    from workflow.audit import AuditActor


class ProcedureFinder(Protocol):
    """What an effect may ask of the loaded procedures (workflow.engine.Workflows is one)."""

    def procedure_for_level(self, level: Level | str) -> Procedure: ...

MIN_COMMENT_DAYS = 30  # 住民等の意見聴取: 30 days or more in principle


@dataclass
class TransitionContext:
    """Everything a guard or an effect may look at while one event is being fired."""

    case: Assessment
    event: EventSpec
    inputs: dict[str, Any]
    today: date
    now: datetime
    actor: str
    workflows: ProcedureFinder
    note: str | None = None
    #: The transaction the event runs in (effects that write other rows use it).
    session: Session | None = None
    audit_actor: AuditActor | None = None
    #: Facts the effects add to the history entry (e.g. a procedure switched by a new threshold).
    outcomes: dict[str, Any] = field(default_factory=dict)
    #: File-store keys of content purged by this event, removed from disk once the transaction commits.
    purged_keys: list[str] = field(default_factory=list)


Guard = Callable[[TransitionContext], None]
Effect = Callable[[TransitionContext], None]

GUARDS: dict[str, Guard] = {}
EFFECTS: dict[str, Effect] = {}


#: Fills in an input the person (or the scheduler) firing an event left out (`default_from:`).
InputDefault = Callable[["Session", Assessment], Any]
DEFAULTS: dict[str, InputDefault] = {}


def input_default(function: InputDefault) -> InputDefault:
    DEFAULTS[function.__name__] = function
    return function


@input_default
def recorded_comment_count(session: Session, case: Assessment) -> int:
    """The public comments recorded for the case's current cycle (提出された意見の数)."""
    return session.exec(select(func.count()).select_from(PublicComment).where(
        PublicComment.assessment_id == case.id, PublicComment.cycle == case.cycle)).one()


def guard(function: Guard) -> Guard:
    GUARDS[function.__name__] = function
    return function


def effect(function: Effect) -> Effect:
    EFFECTS[function.__name__] = function
    return function


def _both(day: date) -> tuple[str, str]:
    return wareki(day), english_date(day)


# --- guards -------------------------------------------------------------------------------------

@guard
def public_comment_period(ctx: TransitionContext) -> None:
    """30 days or more, counted inclusively, unless a reason for a shorter period is stated."""
    start, end = ctx.inputs["comment_start"], ctx.inputs["comment_end"]
    if end < start:
        raise InvalidInput.single(
            "comment_end", "not_before_start",
            "意見聴取終了日は開始日以降の日付としてください。", "The end date cannot be before the start date.",
        )
    days = days_inclusive(start, end)
    if days < MIN_COMMENT_DAYS and not ctx.inputs.get("shortened_reason"):
        raise InvalidInput.single(
            "comment_end", "min_30_days",
            f"意見聴取期間は原則30日以上です（指定された期間は{days}日）。短縮する場合は shortened_reason に理由を記載してください。",
            f"The public comment period must be at least 30 days (this one is {days}); "
            "state the reason in shortened_reason to make it shorter.",
        )


@guard
def public_comment_ended(ctx: TransitionContext) -> None:
    end = ctx.case.comment_end
    if end is not None and ctx.today <= end:
        ja, en = _both(end)
        raise GuardRefused(
            "public_comment_not_ended",
            Message(f"意見聴取期間（{ja}まで）が終了していないため、終了の手続はできません。",
                    f"The public comment period runs until {en}; it cannot be closed before it has ended."),
        )


@guard
def public_comment_held(ctx: TransitionContext) -> None:
    if ctx.case.comment_count is None:
        raise GuardRefused(
            "public_comment_not_held",
            Message("この評価の周期では住民等の意見聴取が終了していないため、部会報告はできません。",
                    "The public comment of this cycle has not been held and closed; the report cannot go to the plenary."),
        )


@guard
def submitted_before_published(ctx: TransitionContext) -> None:
    submitted, published = ctx.inputs["submitted_on"], ctx.inputs["published_on"]
    if published < submitted:
        raise InvalidInput.single(
            "published_on", "not_before_submission",
            "公表日は個人情報保護委員会への提出日以降としてください（提出が先です）。",
            "Publication cannot come before submission to the PPC (submission comes first).",
        )
    reported = ctx.case.reported_on
    if reported is not None and submitted < reported:
        ja, en = _both(reported)
        raise InvalidInput.single(
            "submitted_on", "not_before_report",
            f"提出日は部会報告日（{ja}）以降としてください。",
            f"Submission cannot come before the report to the plenary ({en}).",
        )


@guard
def reviewed_after_publication(ctx: TransitionContext) -> None:
    published = ctx.case.published_on
    if published is not None and ctx.inputs["reviewed_on"] < published:
        ja, en = _both(published)
        raise InvalidInput.single(
            "reviewed_on", "not_before_publication",
            f"見直し実施日は公表日（{ja}）以降としてください。",
            f"The review cannot come before the publication ({en}).",
        )


def _require_adopted(ctx: TransitionContext, kind: str, rule: str, ja: str, en: str) -> None:

    if ctx.session is None:
        raise RuntimeError(f"{rule} needs the event's transaction")
    if not is_adopted(ctx.session, ctx.case, ResolutionKind(kind)):
        raise GuardRefused(rule, Message(ja, en))


@guard
def subcommittee_report_adopted(ctx: TransitionContext) -> None:
    _require_adopted(ctx, "subcommittee_report", "subcommittee_report_not_adopted",
                     "部会報告が確定していないため、全体会への報告はできません。",
                     "The subcommittee report has not been adopted; it cannot go to the plenary.")


@guard
def reply_adopted(ctx: TransitionContext) -> None:
    _require_adopted(ctx, "reply", "reply_not_adopted",
                     "答申が確定していないため、この手続はできません。",
                     "The council's reply (答申) has not been adopted yet.")


_THRESHOLD_INPUTS = ("target_count", "handler_count", "serious_incident")


@guard
def reassessment_grounds(ctx: TransitionContext) -> None:
    """A changed threshold result must be shown by new inputs that change the level."""
    given = {name: ctx.inputs[name] for name in _THRESHOLD_INPUTS if ctx.inputs.get(name) is not None}
    new_level = _rejudged_level(ctx.case, given)
    if new_level is Level.NONE:
        raise InvalidInput.single(
            "target_count", "assessment_required",
            "新たなしきい値判断では評価の実施が義務付けられません（任意）。再評価ではなく取下げ等を検討してください。",
            "Under the new threshold inputs no assessment is required; a re-assessment does not apply.",
        )
    if ctx.inputs["reason"] == "threshold_changed" and new_level == ctx.case.level:
        raise InvalidInput.single(
            "reason", "threshold_result_changed",
            "「しきい値判断結果の変更」には、評価の種類が変わる新しい対象人数・取扱者数・重大事故の有無を入力してください。",
            "A changed threshold result needs new target_count, handler_count or serious_incident that change the level.",
        )


def _rejudged_level(case: Assessment, given: dict[str, Any]) -> Level:
    target_count = given.get("target_count", case.target_count)
    handler_count = given.get("handler_count", case.handler_count)
    if target_count is None or handler_count is None:  # an assessment's counts are recorded when it starts
        raise TypeError(f"case {case.id} has no threshold counts to judge again")
    return judge(target_count, handler_count, given.get("serious_incident", case.serious_incident),
                 case.voluntary_level)


# --- effects ------------------------------------------------------------------------------------

@effect
def reset_public_comment_result(ctx: TransitionContext) -> None:
    ctx.case.comment_count = None


@effect
def schedule_reviews(ctx: TransitionContext) -> None:
    published = ctx.inputs["published_on"]
    ctx.case.annual_review_due = add_years(published, 1)
    ctx.case.reassessment_due = reassessment_deadline(published)
    ctx.case.last_reviewed_on = None
    ctx.outcomes.update(annual_review_due=ctx.case.annual_review_due.isoformat(),
                        reassessment_due=ctx.case.reassessment_due.isoformat())


@effect
def schedule_next_annual_review(ctx: TransitionContext) -> None:
    ctx.case.annual_review_due = add_years(ctx.inputs["reviewed_on"], 1)
    ctx.outcomes["annual_review_due"] = ctx.case.annual_review_due.isoformat()


@effect
def start_new_cycle(ctx: TransitionContext) -> None:
    """再実施: cycle n+1 from its procedure's first state; the earlier cycles stay in the history."""
    case = ctx.case
    given = {name: ctx.inputs[name] for name in _THRESHOLD_INPUTS if ctx.inputs.get(name) is not None}
    new_level = _rejudged_level(case, given)
    for name, value in given.items():
        setattr(case, name, value)
    case.cycle += 1
    case.comment_start = case.comment_end = case.comment_shortened_reason = None
    case.comment_count = None
    case.reported_on = None
    case.last_reviewed_on = None
    ctx.outcomes["cycle"] = case.cycle
    if new_level != case.level:
        procedure = ctx.workflows.procedure_for_level(new_level)
        ctx.outcomes.update(previous_level=case.level, level=str(new_level))
        case.level = str(new_level)
        if procedure.name != case.procedure:
            ctx.outcomes.update(previous_procedure=case.procedure, procedure=procedure.name)
            case.procedure = procedure.name
            case.state = procedure.initial


@effect
def purge_review_material(ctx: TransitionContext) -> None:
    """委員限り（点検後削除）: the review is over, so the material goes (its record stays)."""

    if ctx.session is None or ctx.audit_actor is None:
        raise RuntimeError("purge_review_material needs the event's transaction")
    reason = f"点検終了（{ctx.event.title.ja}）"
    ctx.purged_keys.extend(purge(ctx.session, ctx.case, ctx.audit_actor, ctx.now, reason))
    if ctx.purged_keys:
        ctx.outcomes["purged_documents"] = len(ctx.purged_keys)
