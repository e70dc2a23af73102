"""Authorization in one place: may this actor do this to this object?

Every service asks `authorize(actor, action, target)` before it acts, so the API, the web pages and
the CLI all obey the same rules. A refusal is one of three answers:

- sign in first (401) — an anonymous visitor asked for something that needs an account;
- forbidden (403) — the actor may see the object but not do this to it;
- hidden (404) — the actor may not even know that the object exists.

The rules (the table in tests/test_policy.py walks every endpoint against every role):

| action          | secretariat | member (of the body) | office (own cases)        | admin | public                  |
|-----------------|-------------|----------------------|---------------------------|-------|-------------------------|
| case.create     | yes         | 403                  | 403                       | 403   | 401                     |
| case.read       | all         | its body's cases     | own cases                 | all   | published / in comment  |
| case.history    | all         | its body's cases     | own cases                 | all   | 401 (404 if not public) |
| case.fire       | every event | 403                  | the office's events       | 403   | 401 (404 if not public) |
| document.upload | yes         | 403                  | own cases                 | 403   | 401 (404 if not public) |
| document.read   | all         | its body's cases     | own cases, public ones    | 404*  | public ones of public   |
| audit.read      | yes         | 403                  | 403                       | yes   | 401                     |
| users.manage    | 403         | 403                  | 403                       | yes   | 401                     |

(*) Members-only material (委員限り) is readable by the reviewing body's members and the
secretariat only; to everyone else it does not exist (404), and after purge to nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from workflow.errors import DomainError, Message, NotFound
from workflow.models import Assessment, Document


class Role(StrEnum):
    SECRETARIAT = "secretariat"  #: 事務局
    MEMBER = "member"            #: 委員 (of one or more bodies)
    OFFICE = "office"            #: 実施機関
    ADMIN = "admin"              #: the system's administrator
    SYSTEM = "system"            #: the service itself: scheduler, demo loader, operators' CLI


class Position(StrEnum):
    MEMBER = "member"              #: 委員
    CHAIR = "chair"                #: 会長 / 部会長
    ACTING_CHAIR = "acting_chair"  #: 職務代理者


class Classification(StrEnum):
    PUBLIC = "public"                                              #: 公開
    MEMBERS_ONLY = "members_only"                                  #: 委員限り
    MEMBERS_ONLY_DELETE_AFTER_REVIEW = "members_only_delete_after_review"  #: 委員限り（点検後削除）

    @property
    def confidential(self) -> bool:
        return self is not Classification.PUBLIC


@dataclass(frozen=True)
class Actor:
    """Who is asking: a signed-in user (by session or token), the system, or the anonymous public."""

    user_id: int | None
    label: str
    roles: frozenset[Role] = frozenset()
    email: str | None = None
    office: str | None = None
    #: body id → position held there
    bodies: Mapping[int, Position] = field(default_factory=dict)
    via: str | None = None  # "session" | "token" | None
    source: str | None = None  # the client's address, for the audit trail
    csrf_token: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None or Role.SYSTEM in self.roles

    def has(self, role: Role) -> bool:
        return role in self.roles


ANONYMOUS = Actor(user_id=None, label="一般（未ログイン）")


def system_actor(label: str = "システム") -> Actor:
    return Actor(user_id=None, label=label, roles=frozenset({Role.SYSTEM}))


class Unauthenticated(DomainError):
    code = "sign_in_required"

    def __init__(self) -> None:
        super().__init__(Message("ログインが必要です。", "Sign in first."))


class Forbidden(DomainError):
    code = "forbidden"


class Action(StrEnum):
    CREATE_CASE = "case.create"
    READ_CASE = "case.read"
    READ_HISTORY = "case.history"
    FIRE_EVENT = "case.fire"
    UPLOAD_DOCUMENT = "document.upload"
    READ_DOCUMENT = "document.read"
    READ_AUDIT = "audit.read"
    MANAGE_USERS = "users.manage"
    MANAGE_MEETINGS = "meeting.manage"
    READ_MEETING = "meeting.read"
    READ_RECORDS = "records.read"
    RECORD_FINDING = "finding.record"
    ANSWER_FINDING = "finding.answer"
    RECORD_DELIBERATION = "deliberation.record"
    CORRECT_MINUTES = "minutes.correct"
    CONFIRM_MINUTES = "minutes.confirm"
    READ_FULL_MINUTES = "minutes.read_full"
    READ_REGISTER = "register.read"
    MANAGE_REMINDER_RULES = "reminder_rules.manage"
    READ_INBOX = "inbox.read"


class Decision(Enum):
    ALLOW = "allow"
    SIGN_IN = "sign_in"
    FORBID = "forbid"
    HIDE = "hide"


_STAFF = (Role.SECRETARIAT, Role.ADMIN, Role.SYSTEM)


def _sees_everything(actor: Actor) -> bool:
    return any(actor.has(role) for role in _STAFF)


def _involved(actor: Actor, case: Assessment) -> bool:
    """A member of the reviewing body, or the office whose case it is."""
    return (case.body_id is not None and case.body_id in actor.bodies) or (
        actor.has(Role.OFFICE) and actor.office is not None and actor.office == case.office)


def can_see_case(actor: Actor, case: Assessment) -> bool:
    return _sees_everything(actor) or _involved(actor, case) or case.is_public


def _rule_create(actor: Actor, _target: Any) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM) else Decision.FORBID


def _rule_read_case(actor: Actor, case: Assessment) -> Decision:
    return Decision.ALLOW if can_see_case(actor, case) else Decision.HIDE


def _rule_history(actor: Actor, case: Assessment) -> Decision:
    if not can_see_case(actor, case):
        return Decision.HIDE
    if _sees_everything(actor) or _involved(actor, case):
        return Decision.ALLOW
    return Decision.FORBID if actor.signed_in else Decision.SIGN_IN


def _own_office(actor: Actor, case: Assessment) -> bool:
    return actor.has(Role.OFFICE) and actor.office is not None and actor.office == case.office


def _case_rule(permits: Callable[[Actor, Assessment, Any], bool]) -> Callable[[Actor, Any], Decision]:
    """The shape of every rule about doing something to a case: unseen cases stay hidden, the public is
    asked to sign in, the secretariat (and the system) may, and anyone else may when `permits` says so.
    The target is the case, or (case, detail) — the event being fired, for instance."""

    def rule(actor: Actor, target: Any) -> Decision:
        case, detail = target if isinstance(target, tuple) else (target, None)
        if not can_see_case(actor, case):
            return Decision.HIDE
        if not actor.signed_in:
            return Decision.SIGN_IN
        if actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM):
            return Decision.ALLOW
        return Decision.ALLOW if permits(actor, case, detail) else Decision.FORBID

    return rule


#: An office fires the events its procedure marks as the office's, on its own cases.
_rule_fire = _case_rule(lambda actor, case, event: _own_office(actor, case) and event.actor == "office")
#: An office attaches documents to its own cases.
_rule_upload = _case_rule(lambda actor, case, _: _own_office(actor, case))
#: The secretariat records findings raised at meetings; members may raise theirs in writing.
_rule_record_finding = _case_rule(lambda actor, case, _: case.body_id is not None and case.body_id in actor.bodies)
#: The office answers (the secretariat may record an answer given at a meeting).
_rule_answer_finding = _case_rule(lambda actor, case, _: _own_office(actor, case))
#: Opinions, reports, replies, report versions and public comments are recorded by the secretariat.
_rule_deliberation = _case_rule(lambda *_: False)


def can_read_document(actor: Actor, case: Assessment, document: Document) -> bool:
    if not can_see_case(actor, case):
        return False
    if Classification(document.classification) is Classification.PUBLIC:
        return True
    if document.purged_at is not None:
        return False
    return actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM) or (
        case.body_id is not None and case.body_id in actor.bodies)


def _rule_read_document(actor: Actor, target: tuple[Assessment, Document]) -> Decision:
    return Decision.ALLOW if can_read_document(actor, *target) else Decision.HIDE


def _rule_audit(actor: Actor, _target: Any) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if _sees_everything(actor) else Decision.FORBID


def _rule_users(actor: Actor, _target: Any) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if actor.has(Role.ADMIN) or actor.has(Role.SYSTEM) else Decision.FORBID


def _staff_only(actor: Actor, _target: Any = None) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM) else Decision.FORBID


def _rule_own_inbox(actor: Actor, _target: Any = None) -> Decision:
    """Everyone with an account reads their own inbox (the system has none)."""
    return Decision.ALLOW if actor.user_id is not None else Decision.SIGN_IN


def _rule_read_meeting(actor: Actor, target: tuple[Any, frozenset[str]]) -> Decision:
    """target: (meeting, the offices whose cases are on its agenda). Public meetings are public."""
    meeting, offices = target
    if meeting.is_public or _sees_everything(actor) or meeting.body_id in actor.bodies:
        return Decision.ALLOW
    if actor.has(Role.OFFICE) and actor.office in offices:
        return Decision.ALLOW
    return Decision.HIDE


def _member_of(actor: Actor, body_id: int, positions: frozenset[Position] | None = None) -> bool:
    position = actor.bodies.get(body_id)
    return position is not None and (positions is None or position in positions)


_CHAIRS = frozenset({Position.CHAIR, Position.ACTING_CHAIR})


def _rule_correct_minutes(actor: Actor, meeting: Any) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    if actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM) or _member_of(actor, meeting.body_id):
        return Decision.ALLOW
    return Decision.HIDE if not meeting.is_public else Decision.FORBID


def _rule_confirm_minutes(actor: Actor, meeting: Any) -> Decision:
    """The chair (or acting chair) confirms; the secretariat records a confirmation the chair gave."""
    if not actor.signed_in:
        return Decision.SIGN_IN
    if actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM) or _member_of(actor, meeting.body_id, _CHAIRS):
        return Decision.ALLOW
    return Decision.FORBID if _member_of(actor, meeting.body_id) or meeting.is_public else Decision.HIDE


def _rule_full_minutes(actor: Actor, meeting: Any) -> Decision:
    """The full minutes (non-public passages included, drafts) are for the body and the staff."""
    if _sees_everything(actor) or _member_of(actor, meeting.body_id):
        return Decision.ALLOW
    if not actor.signed_in:
        return Decision.SIGN_IN if meeting.is_public else Decision.HIDE
    return Decision.FORBID if meeting.is_public else Decision.HIDE


RULES: dict[Action, Callable[[Actor, Any], Decision]] = {
    Action.CREATE_CASE: _rule_create,
    Action.READ_CASE: _rule_read_case,
    Action.READ_HISTORY: _rule_history,
    Action.FIRE_EVENT: _rule_fire,
    Action.UPLOAD_DOCUMENT: _rule_upload,
    Action.READ_DOCUMENT: _rule_read_document,
    Action.READ_AUDIT: _rule_audit,
    Action.MANAGE_USERS: _rule_users,
    Action.MANAGE_MEETINGS: _staff_only,
    Action.READ_MEETING: _rule_read_meeting,
    Action.READ_RECORDS: _rule_history,
    Action.RECORD_FINDING: _rule_record_finding,
    Action.ANSWER_FINDING: _rule_answer_finding,
    Action.RECORD_DELIBERATION: _rule_deliberation,
    Action.CORRECT_MINUTES: _rule_correct_minutes,
    Action.CONFIRM_MINUTES: _rule_confirm_minutes,
    Action.READ_FULL_MINUTES: _rule_full_minutes,
    Action.READ_REGISTER: _rule_audit,
    Action.MANAGE_REMINDER_RULES: _staff_only,
    Action.READ_INBOX: _rule_own_inbox,
}

_FORBIDDEN = {
    Action.CREATE_CASE: ("評価の登録は事務局のみ行えます。", "Only the secretariat registers assessments."),
    Action.READ_HISTORY: ("この案件の経過を閲覧する権限がありません。", "You may not read this case's history."),
    Action.FIRE_EVENT: ("この手続を行う権限がありません（事務局、または実施機関の手続は当該実施機関のみ）。",
                        "You may not fire this event (the secretariat may; an office only its own events)."),
    Action.UPLOAD_DOCUMENT: ("資料を登録する権限がありません。", "You may not attach documents to this case."),
    Action.READ_AUDIT: ("監査記録を閲覧する権限がありません。", "You may not read the audit trail."),
    Action.MANAGE_USERS: ("利用者の管理は管理者のみ行えます。", "Only an administrator manages users."),
    Action.MANAGE_MEETINGS: ("会議の設定は事務局のみ行えます。", "Only the secretariat schedules meetings."),
    Action.READ_RECORDS: ("この案件の審議記録を閲覧する権限がありません。", "You may not read this case's records."),
    Action.RECORD_FINDING: ("質問・意見を登録できるのは事務局と審議する会議体の委員です。",
                            "Only the secretariat and the reviewing body's members record findings."),
    Action.ANSWER_FINDING: ("回答を登録できるのは当該実施機関と事務局です。",
                            "Only the office concerned and the secretariat record answers."),
    Action.RECORD_DELIBERATION: ("審議の記録は事務局が行います。", "The secretariat keeps the deliberation record."),
    Action.CORRECT_MINUTES: ("会議録の修正を申し出られるのは当該会議体の委員です。",
                             "Only the body's members correct its minutes."),
    Action.CONFIRM_MINUTES: ("会議録の確定は会長（部会長）または職務代理者が行います。",
                             "The chair or acting chair confirms the minutes."),
    Action.READ_FULL_MINUTES: ("会議録（全文）を閲覧する権限がありません。", "You may not read the full minutes."),
    Action.READ_REGISTER: ("計画管理書は事務局・管理者が閲覧できます。", "Only the secretariat and the administrator read the register."),
    Action.MANAGE_REMINDER_RULES: ("リマインダーの規則は事務局が設定します。", "Only the secretariat sets the reminder rules."),
}


def decide(actor: Actor, action: Action, target: Any = None) -> Decision:
    return RULES[action](actor, target)


def authorize(actor: Actor, action: Action, target: Any = None) -> None:
    """Raise unless `actor` may do `action` to `target`."""
    decision = decide(actor, action, target)
    if decision is Decision.ALLOW:
        return
    if decision is Decision.SIGN_IN:
        raise Unauthenticated()
    if decision is Decision.HIDE:
        raise NotFound(Message("見つかりません。", "Not found."))
    ja, en = _FORBIDDEN.get(action, ("この操作の権限がありません。", "You may not do this."))
    raise Forbidden(Message(ja, en))


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition that limits a listing of cases to those the actor may see."""
    if _sees_everything(actor):
        return true()
    conditions: list[ColumnElement[bool]] = [col(Assessment.is_public).is_(True)]
    if actor.bodies:
        conditions.append(Assessment.body_id.in_(list(actor.bodies)))
    if actor.has(Role.OFFICE) and actor.office:
        conditions.append(Assessment.office == actor.office)
    return or_(*conditions) if conditions else false()
