"""Authorization in one place: may this actor do this to this object?

Every service asks `authorize(actor, action, target)` before it acts, so the API, the web pages and
the CLI all obey the same rules. A refusal is one of three answers:

- sign in first (401) — an anonymous visitor asked for something that needs an account;
- forbidden (403) — the actor may see the object but not do this to it;
- hidden (404) — the actor may not even know that the object exists: the answer is word for word
  that to an id with no record (workflow.errors.RecordNotFound; tests/api/test_existence.py).

The rules, as `decide` answers them (yes, 401, 403, 404). Each row names a representative target:
a *closed* case is one under review (not public), reviewed by the chair's and the member's body and
belonging to the office; a *public* case is the same published; *other member* sits on another
body, *other office* is another office; meetings are the chair's and member's body's; "own" is the
actor's own; *system* is the service itself (the scheduler, the operators' CLI).
tests/unit/test_policy_table.py reads this table and checks every cell against RULES (and holds the
full table); tests/api/test_policy*.py walk every endpoint against every role over HTTP.

| action                | target                                  | secretariat | chair | member | other member | office | other office | admin | public | system |
|-----------------------|-----------------------------------------|-------------|-------|--------|--------------|--------|--------------|-------|--------|--------|
| case.create           | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| case.read             | closed case                             | yes         | yes   | yes    | 404          | yes    | 404          | yes   | 404    | yes    |
| case.read             | public case                             | yes         | yes   | yes    | yes          | yes    | yes          | yes   | yes    | yes    |
| case.history          | closed case                             | yes         | yes   | yes    | 404          | yes    | 404          | yes   | 404    | yes    |
| case.history          | public case                             | yes         | yes   | yes    | 403          | yes    | 403          | yes   | 401    | yes    |
| case.fire             | secretariat's event                     | yes         | 403   | 403    | 404          | 403    | 404          | 403   | 404    | yes    |
| case.fire             | office's event                          | yes         | 403   | 403    | 404          | yes    | 404          | 403   | 404    | yes    |
| document.upload       | closed case                             | yes         | 403   | 403    | 404          | yes    | 404          | 403   | 404    | yes    |
| document.upload       | public case                             | yes         | 403   | 403    | 403          | yes    | 403          | 403   | 401    | yes    |
| document.know         | members-only, closed case               | yes         | yes   | yes    | 404          | 404    | 404          | 404   | 404    | yes    |
| document.know         | members-only, purged                    | yes         | yes   | yes    | 404          | 404    | 404          | 404   | 404    | yes    |
| document.know         | public document, closed case            | yes         | yes   | yes    | 404          | yes    | 404          | yes   | 404    | yes    |
| document.read         | members-only, closed case               | yes         | yes   | yes    | 404          | 404    | 404          | 404   | 404    | yes    |
| document.read         | members-only, purged                    | 404         | 404   | 404    | 404          | 404    | 404          | 404   | 404    | 404    |
| document.read         | public document, closed case            | yes         | yes   | yes    | 404          | yes    | 404          | yes   | 404    | yes    |
| document.read         | public document, public case            | yes         | yes   | yes    | yes          | yes    | yes          | yes   | yes    | yes    |
| audit.read            | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | yes   | 401    | yes    |
| users.manage          | —                                       | 403         | 403   | 403    | 403          | 403    | 403          | yes   | 401    | yes    |
| register.read         | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | yes   | 401    | yes    |
| reminder_rules.manage | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| organisation.manage   | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| meeting.manage        | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| meeting.read          | closed meeting, office's case on agenda | yes         | yes   | yes    | 404          | yes    | 404          | yes   | 404    | yes    |
| meeting.read          | public meeting, office's case on agenda | yes         | yes   | yes    | yes          | yes    | yes          | yes   | yes    | yes    |
| minutes.correct       | closed meeting                          | yes         | yes   | yes    | 404          | 404    | 404          | 404   | 401    | yes    |
| minutes.correct       | public meeting                          | yes         | yes   | yes    | 403          | 403    | 403          | 403   | 401    | yes    |
| minutes.confirm       | closed meeting                          | yes         | yes   | 403    | 404          | 404    | 404          | 404   | 401    | yes    |
| minutes.confirm       | public meeting                          | yes         | yes   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| minutes.read_full     | closed meeting                          | yes         | yes   | yes    | 404          | 404    | 404          | yes   | 404    | yes    |
| minutes.read_full     | public meeting                          | yes         | yes   | yes    | 403          | 403    | 403          | yes   | 401    | yes    |
| records.read          | closed case                             | yes         | yes   | yes    | 404          | yes    | 404          | yes   | 404    | yes    |
| records.read          | public case                             | yes         | yes   | yes    | 403          | yes    | 403          | yes   | 401    | yes    |
| finding.record        | closed case                             | yes         | yes   | yes    | 404          | 403    | 404          | 403   | 404    | yes    |
| finding.record        | public case                             | yes         | yes   | yes    | 403          | 403    | 403          | 403   | 401    | yes    |
| finding.answer        | closed case                             | yes         | 403   | 403    | 404          | yes    | 404          | 403   | 404    | yes    |
| finding.answer        | public case                             | yes         | 403   | 403    | 403          | yes    | 403          | 403   | 401    | yes    |
| deliberation.record   | closed case                             | yes         | 403   | 403    | 404          | 403    | 404          | 403   | 404    | yes    |
| deliberation.record   | public case                             | yes         | 403   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| inbox.read            | —                                       | yes         | yes   | yes    | yes          | yes    | yes          | yes   | 401    | 401    |
| account.read          | —                                       | yes         | yes   | yes    | yes          | yes    | yes          | yes   | 401    | 401    |
| token.issue           | own                                     | yes         | yes   | yes    | yes          | yes    | yes          | yes   | 401    | 401    |
| token.issue           | another user                            | 403         | 403   | 403    | 403          | 403    | 403          | yes   | 401    | yes    |
| token.list            | own                                     | yes         | yes   | yes    | yes          | yes    | yes          | yes   | 401    | 401    |
| token.list            | another user                            | 403         | 403   | 403    | 403          | 403    | 403          | yes   | 401    | yes    |
| token.revoke          | own token                               | yes         | yes   | yes    | yes          | yes    | yes          | yes   | 401    | yes    |
| token.revoke          | another user's token                    | 404         | 404   | 404    | 404          | 404    | 404          | yes   | 401    | yes    |
| calendar.issue_own    | —                                       | 403         | yes   | yes    | yes          | 403    | 403          | 403   | 401    | 403    |
| calendar.issue_body   | —                                       | yes         | 403   | 403    | 403          | 403    | 403          | 403   | 401    | yes    |
| calendar.rotate       | the member's calendar                   | 404         | 404   | yes    | 404          | 404    | 404          | 404   | 401    | 404    |
| calendar.rotate       | a body's calendar                       | yes         | 404   | 404    | 404          | 404    | 404          | 404   | 401    | yes    |

Members-only material (委員限り) is for the reviewing body's members and the secretariat; to everyone
else it does not exist (404), and once purged after the review nobody reads it. A calendar feed's
secret URL, like an API token, does not exist for anyone but its owner (and the secretariat, for a
body's calendar; the administrator, for any API token).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Protocol

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from states.definition import EventSpec
from workflow.errors import DomainError, Message, NotFound, Record, RecordNotFound
from workflow.models import ApiToken, Assessment, Document, UserAccount
from workflow.records import AgendaItem, Meeting


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
    #: The organisation whose records the actor reads and changes (None: every organisation — the
    #: service's sweeps, and the public, who reads only what is published anywhere).
    organisation_id: int | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None or Role.SYSTEM in self.roles

    def has(self, role: Role) -> bool:
        return role in self.roles


ANONYMOUS = Actor(user_id=None, label="一般（未ログイン）")


def system_actor(label: str = "システム", *, organisation_id: int | None = None) -> Actor:
    """The service itself: for every organisation, or acting in one (the demo, an operator's command)."""
    return Actor(user_id=None, label=label, roles=frozenset({Role.SYSTEM}), organisation_id=organisation_id)


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
    KNOW_DOCUMENT = "document.know"
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
    MANAGE_ORGANISATION = "organisation.manage"  #: its letterhead and closure days
    READ_INBOX = "inbox.read"
    READ_OWN_ACCOUNT = "account.read"
    ISSUE_TOKEN = "token.issue"
    LIST_TOKENS = "token.list"
    REVOKE_TOKEN = "token.revoke"
    ISSUE_OWN_CALENDAR = "calendar.issue_own"
    ISSUE_BODY_CALENDAR = "calendar.issue_body"
    ROTATE_CALENDAR = "calendar.rotate"


class CalendarFeed(Protocol):
    """A calendar feed's token as the rules see it (notifications.models.CalendarToken, which the domain
    does not import): a member's own (`user_id`) or a body's (`body_id`)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def body_id(self) -> int | None: ...


#: What an action is done to: nothing (creating, listing, one's own things); a case, with the event
#: fired on it or one of its documents; a meeting, with the offices whose cases are on its agenda; a
#: user (whose API tokens); an API token; a calendar feed's token (None: no such live token).
Target = (Assessment | tuple[Assessment, EventSpec] | tuple[Assessment, Document] | Meeting
          | tuple[Meeting, frozenset[str]] | UserAccount | ApiToken | CalendarFeed | None)


class Decision(Enum):
    ALLOW = "allow"
    SIGN_IN = "sign_in"
    FORBID = "forbid"
    HIDE = "hide"


_STAFF = (Role.SECRETARIAT, Role.ADMIN, Role.SYSTEM)


def _sees_everything(actor: Actor) -> bool:
    return any(actor.has(role) for role in _STAFF)


def _secretariat(actor: Actor) -> bool:
    """The secretariat, or the system acting for it (the scheduler, the demo loader, the operators' CLI)."""
    return actor.has(Role.SECRETARIAT) or actor.has(Role.SYSTEM)


def records_for_members(actor: Actor) -> bool:
    """The secretariat records what a member said on the member's behalf (a question raised at a meeting,
    a correction received in writing) and names the member; anyone else records in their own name."""
    return _secretariat(actor)


def is_own(actor: Actor, user_id: int | None) -> bool:
    """Whether something addressed to `user_id` (a notice, an account, a token) is the actor's own."""
    return actor.user_id is not None and user_id == actor.user_id


def _involved(actor: Actor, case: Assessment) -> bool:
    """A member of the reviewing body, or the office whose case it is."""
    return (case.body_id is not None and case.body_id in actor.bodies) or (
        actor.has(Role.OFFICE) and actor.office is not None and actor.office == case.office)


def can_see_case(actor: Actor, case: Assessment) -> bool:
    return _sees_everything(actor) or _involved(actor, case) or case.is_public


def _rule_create(actor: Actor, _target: None = None) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if _secretariat(actor) else Decision.FORBID


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


CaseTarget = Assessment | tuple[Assessment, EventSpec]


def _case_rule(permits: Callable[[Actor, Assessment, EventSpec | None], bool]) -> Callable[[Actor, CaseTarget], Decision]:
    """The shape of every rule about doing something to a case: unseen cases stay hidden, the public is
    asked to sign in, the secretariat (and the system) may, and anyone else may when `permits` says so.
    The target is the case, or (case, event) — the event being fired."""

    def rule(actor: Actor, target: CaseTarget) -> Decision:
        case, event = target if isinstance(target, tuple) else (target, None)
        if not can_see_case(actor, case):
            return Decision.HIDE
        if not actor.signed_in:
            return Decision.SIGN_IN
        if _secretariat(actor):
            return Decision.ALLOW
        return Decision.ALLOW if permits(actor, case, event) else Decision.FORBID

    return rule


#: An office fires the events its procedure marks as the office's, on its own cases.
_rule_fire = _case_rule(lambda actor, case, event: _own_office(actor, case) and event is not None
                        and event.actor == "office")
#: An office attaches documents to its own cases.
_rule_upload = _case_rule(lambda actor, case, _: _own_office(actor, case))
#: The secretariat records findings raised at meetings; members may raise theirs in writing.
_rule_record_finding = _case_rule(lambda actor, case, _: case.body_id is not None and case.body_id in actor.bodies)
#: The office answers (the secretariat may record an answer given at a meeting).
_rule_answer_finding = _case_rule(lambda actor, case, _: _own_office(actor, case))
#: Opinions, reports, replies, report versions and public comments are recorded by the secretariat.
_rule_deliberation = _case_rule(lambda *_: False)


def _reads_confidential(actor: Actor, case: Assessment) -> bool:
    """Members-only material (委員限り) is for the secretariat and the reviewing body's members."""
    return _secretariat(actor) or (case.body_id is not None and case.body_id in actor.bodies)


def can_know_document(actor: Actor, case: Assessment, document: Document) -> bool:
    """Whether the actor may learn that the document exists (its title, its place in a listing): a public
    one with its case; members-only material, purged or not, only those who read such material."""
    if not can_see_case(actor, case):
        return False
    return Classification(document.classification) is Classification.PUBLIC or _reads_confidential(actor, case)


def can_read_document(actor: Actor, case: Assessment, document: Document) -> bool:
    """Whether the actor may read the content: what they may know of, unless it was purged (then nobody)."""
    if not can_know_document(actor, case, document):
        return False
    return Classification(document.classification) is Classification.PUBLIC or document.purged_at is None


def _rule_know_document(actor: Actor, target: tuple[Assessment, Document]) -> Decision:
    return Decision.ALLOW if can_know_document(actor, *target) else Decision.HIDE


def _rule_read_document(actor: Actor, target: tuple[Assessment, Document]) -> Decision:
    return Decision.ALLOW if can_read_document(actor, *target) else Decision.HIDE


def _rule_audit(actor: Actor, _target: None = None) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if _sees_everything(actor) else Decision.FORBID


def _administers(actor: Actor) -> bool:
    return actor.has(Role.ADMIN) or actor.has(Role.SYSTEM)


def _rule_users(actor: Actor, _target: None = None) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if _administers(actor) else Decision.FORBID


def _staff_only(actor: Actor, _target: Meeting | None = None) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if _secretariat(actor) else Decision.FORBID


def _rule_own_account(actor: Actor, _target: None = None) -> Decision:
    """Everyone with an account has their own: who they are, their inbox, their tokens (the system has none)."""
    return Decision.ALLOW if actor.user_id is not None else Decision.SIGN_IN


def _rule_tokens_of(actor: Actor, user: UserAccount | None) -> Decision:
    """A user's API tokens (None: the actor's own): one's own, or anyone's for the administrator."""
    if user is None:
        return _rule_own_account(actor)
    if not actor.signed_in:
        return Decision.SIGN_IN
    own = is_own(actor, user.id)
    return Decision.ALLOW if own or _administers(actor) else Decision.FORBID


def _rule_revoke_token(actor: Actor, token: ApiToken | None) -> Decision:
    """One's own API token, or anyone's for the administrator; someone else's (or none, the target
    None) does not exist for the actor."""
    if not actor.signed_in:
        return Decision.SIGN_IN
    if token is None:
        return Decision.HIDE
    own = is_own(actor, token.user_id)
    return Decision.ALLOW if own or _administers(actor) else Decision.HIDE


def _rule_issue_own_calendar(actor: Actor, _target: None = None) -> Decision:
    """A personal calendar (the meetings and deadlines of one's bodies) is for members of a body."""
    if not actor.signed_in:
        return Decision.SIGN_IN
    return Decision.ALLOW if actor.user_id is not None and actor.bodies else Decision.FORBID


def _rule_rotate_calendar(actor: Actor, feed: CalendarFeed | None) -> Decision:
    """A member rotates their own calendar, the secretariat a body's. Someone else's, or one no longer
    live (the target None), is not there for the actor: the URL is a secret, and so is its existence."""
    if not actor.signed_in:
        return Decision.SIGN_IN
    if feed is None:
        return Decision.HIDE
    if feed.body_id is not None:
        return Decision.ALLOW if _secretariat(actor) else Decision.HIDE
    own = actor.user_id is not None and feed.user_id == actor.user_id
    return Decision.ALLOW if own else Decision.HIDE


def can_see_meeting(actor: Actor, meeting: Meeting, offices: Collection[str]) -> bool:
    """Public meetings are public; a closed one is for the staff, the body's members and the offices
    whose cases are on its agenda (`offices`)."""
    if meeting.is_public or _sees_everything(actor) or meeting.body_id in actor.bodies:
        return True
    return actor.has(Role.OFFICE) and actor.office is not None and actor.office in offices


def _rule_read_meeting(actor: Actor, target: tuple[Meeting, frozenset[str]]) -> Decision:
    """target: (meeting, the offices whose cases are on its agenda)."""
    return Decision.ALLOW if can_see_meeting(actor, *target) else Decision.HIDE


def _member_of(actor: Actor, body_id: int, positions: frozenset[Position] | None = None) -> bool:
    position = actor.bodies.get(body_id)
    return position is not None and (positions is None or position in positions)


_CHAIRS = frozenset({Position.CHAIR, Position.ACTING_CHAIR})


def _rule_correct_minutes(actor: Actor, meeting: Meeting) -> Decision:
    if not actor.signed_in:
        return Decision.SIGN_IN
    if _secretariat(actor) or _member_of(actor, meeting.body_id):
        return Decision.ALLOW
    return Decision.HIDE if not meeting.is_public else Decision.FORBID


def _rule_confirm_minutes(actor: Actor, meeting: Meeting) -> Decision:
    """The chair (or acting chair) confirms; the secretariat records a confirmation the chair gave."""
    if not actor.signed_in:
        return Decision.SIGN_IN
    if _secretariat(actor) or _member_of(actor, meeting.body_id, _CHAIRS):
        return Decision.ALLOW
    return Decision.FORBID if _member_of(actor, meeting.body_id) or meeting.is_public else Decision.HIDE


def _rule_full_minutes(actor: Actor, meeting: Meeting) -> Decision:
    """The full minutes (non-public passages included, drafts) are for the body and the staff."""
    if _sees_everything(actor) or _member_of(actor, meeting.body_id):
        return Decision.ALLOW
    if not actor.signed_in:
        return Decision.SIGN_IN if meeting.is_public else Decision.HIDE
    return Decision.FORBID if meeting.is_public else Decision.HIDE


#: The rule of each action. A rule takes its action's own kind of target (see `Target`), hence `Any`.
RULES: dict[Action, Callable[[Actor, Any], Decision]] = {
    Action.CREATE_CASE: _rule_create,
    Action.READ_CASE: _rule_read_case,
    Action.READ_HISTORY: _rule_history,
    Action.FIRE_EVENT: _rule_fire,
    Action.UPLOAD_DOCUMENT: _rule_upload,
    Action.KNOW_DOCUMENT: _rule_know_document,
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
    Action.MANAGE_ORGANISATION: _staff_only,
    Action.READ_INBOX: _rule_own_account,
    Action.READ_OWN_ACCOUNT: _rule_own_account,
    Action.ISSUE_TOKEN: _rule_tokens_of,
    Action.LIST_TOKENS: _rule_tokens_of,
    Action.REVOKE_TOKEN: _rule_revoke_token,
    Action.ISSUE_OWN_CALENDAR: _rule_issue_own_calendar,
    Action.ISSUE_BODY_CALENDAR: _staff_only,
    Action.ROTATE_CALENDAR: _rule_rotate_calendar,
}

#: The message of a refusal (403), per action that can refuse one.
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
    Action.MANAGE_ORGANISATION: ("団体の名称・閉庁日は事務局が設定します。",
                                 "Only the secretariat sets the organisation's name and closure days."),
    Action.ISSUE_TOKEN: ("他の利用者のAPIトークンは管理者のみ発行できます。",
                         "Only an administrator issues API tokens for other users."),
    Action.LIST_TOKENS: ("他の利用者のAPIトークンは管理者のみ閲覧できます。",
                         "Only an administrator lists other users' API tokens."),
    Action.ISSUE_OWN_CALENDAR: ("個人用のカレンダーは会議体の委員が発行できます（会議体のカレンダーは事務局が発行します）。",
                                "A personal calendar is for members of a body (the secretariat issues body calendars)."),
    Action.ISSUE_BODY_CALENDAR: ("会議体のカレンダーは事務局のみ発行できます。", "Only the secretariat issues a body's calendar."),
}


def decide(actor: Actor, action: Action, target: Target = None) -> Decision:
    return RULES[action](actor, target)


#: The actions whose target is a meeting but whose hidden record is the meeting's minutes.
_MINUTES_ACTIONS = frozenset({Action.CORRECT_MINUTES, Action.CONFIRM_MINUTES, Action.READ_FULL_MINUTES})


def hidden_error(action: Action, target: Target) -> NotFound:
    """The answer to an actor who may not know of `target`: the "not found" of the record the target is —
    the case (an event fired on it included), the case's document, the meeting, the meeting's minutes, the
    API token — word for word what the loader says when there is no such record. A target that names
    no record by id (a calendar feed, none) gets a plain "not found"; its service passes its own."""
    first = target[0] if isinstance(target, tuple) else target
    second = target[1] if isinstance(target, tuple) else None
    if isinstance(second, Document) and second.id is not None:
        return RecordNotFound(Record.DOCUMENT, second.id)
    if isinstance(first, Assessment) and first.id is not None:
        return RecordNotFound(Record.CASE, first.id)
    if isinstance(first, Meeting) and first.id is not None:
        return RecordNotFound(Record.MINUTES if action in _MINUTES_ACTIONS else Record.MEETING, first.id)
    if isinstance(first, ApiToken) and first.id is not None:
        return RecordNotFound(Record.API_TOKEN, first.id)
    return NotFound(Message("見つかりません。", "Not found."))


def authorize(actor: Actor, action: Action, target: Target = None, *, hidden: NotFound | None = None) -> None:
    """Raise unless `actor` may do `action` to `target`. A target the actor may not know of answers as if
    it were not there: `hidden_error`, the loader's own 404 for that record. `hidden` replaces it when
    the request named another record than the target — a finding, reached by its own id, hidden with its
    case, must answer like a missing finding of that id, not like a hidden case."""
    decision = decide(actor, action, target)
    if decision is Decision.ALLOW:
        return
    if decision is Decision.SIGN_IN:
        raise Unauthenticated()
    if decision is Decision.HIDE:
        raise hidden or hidden_error(action, target)
    ja, en = _FORBIDDEN.get(action, ("この操作の権限がありません。", "You may not do this."))
    raise Forbidden(Message(ja, en))


# --- the rules as SQL conditions, for listings ---------------------------------------------------

def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition of READ_CASE: limits a listing of cases to those the actor may see."""
    if _sees_everything(actor):
        return true()
    conditions: list[ColumnElement[bool]] = [col(Assessment.is_public).is_(True)]
    if actor.bodies:
        conditions.append(col(Assessment.body_id).in_(list(actor.bodies)))
    if actor.has(Role.OFFICE) and actor.office:
        conditions.append(col(Assessment.office) == actor.office)
    return or_(*conditions)


def readable_records(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition of READ_RECORDS over the cases the actor may see (join it with visible_cases):
    the deliberation record is the staff's, the reviewing body's and the office's."""
    if _sees_everything(actor):
        return true()
    conditions: list[ColumnElement[bool]] = []
    if actor.bodies:
        conditions.append(col(Assessment.body_id).in_(list(actor.bodies)))
    if actor.has(Role.OFFICE) and actor.office:
        conditions.append(col(Assessment.office) == actor.office)
    return or_(*conditions) if conditions else false()


def visible_documents(actor: Actor, case: Assessment) -> ColumnElement[bool]:
    """The SQL condition of KNOW_DOCUMENT over the documents of `case` (the caller limits the listing
    to that case): none of an unseen case, all for those who read members-only material, else the
    public ones."""
    if not can_see_case(actor, case):
        return false()
    if _reads_confidential(actor, case):
        return true()
    return col(Document.classification) == Classification.PUBLIC.value


def visible_meetings(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition of READ_MEETING: public meetings, the actor's bodies' meetings, and those with
    the actor's office's cases on the agenda (the staff see all)."""
    if _sees_everything(actor):
        return true()
    conditions: list[ColumnElement[bool]] = [col(Meeting.is_public).is_(True)]
    if actor.bodies:
        conditions.append(col(Meeting.body_id).in_(list(actor.bodies)))
    if actor.has(Role.OFFICE) and actor.office:
        conditions.append(col(Meeting.id).in_(
            select(AgendaItem.meeting_id).join(Assessment, col(Assessment.id) == AgendaItem.assessment_id)
            .where(col(Assessment.office) == actor.office)))
    return or_(*conditions)


def feed_meetings(feed: CalendarFeed | None, member_bodies: Collection[int] = ()) -> ColumnElement[bool]:
    """The meetings a calendar feed shows. The public feed (None): what the public may see. A body's
    feed: all of that body's meetings, closed ones included (its secret URL is given to the body's
    people). A member's feed: the meetings of `member_bodies`, the bodies the member sits on now."""
    if feed is None:
        return visible_meetings(ANONYMOUS)
    if feed.body_id is not None:
        return col(Meeting.body_id) == feed.body_id
    return col(Meeting.body_id).in_(list(member_bodies)) if member_bodies else false()
