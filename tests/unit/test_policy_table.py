"""The policy as a table, without HTTP or a database: `Actor`s and model instances built in memory,
and `decide` asked for every action, every role the rules tell apart and every kind of target.

Two tables are checked here:

- `TABLE` below, the full one (acting chairs, other bodies' chairs, the system, cases elsewhere,
  purged material, revoked calendars …);
- the table in the docstring of workflow/policy.py, read from the docstring itself: each cell is
  `decide` for the column's actor and the row's target, so the documentation cannot drift from RULES.

The HTTP role tables (tests/api/test_policy*.py) check that the services ask the policy; this file checks
what the policy answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from notifications.models import CalendarToken
from states.definition import EventSpec, Text
from workflow import policy
from workflow.clock import TOKYO
from workflow.errors import Message, NotFound, Record, RecordNotFound
from workflow.models import ApiToken, Assessment, Document, UserAccount
from workflow.policy import (
    ANONYMOUS,
    RULES,
    Action,
    Actor,
    Classification,
    Decision,
    Forbidden,
    Position,
    Role,
    Target,
    Unauthenticated,
    authorize,
    decide,
    system_actor,
)
from workflow.records import Meeting

BODY, OTHER_BODY, THIRD_BODY = 1, 2, 3  # the body that reviews the cases below, another one, a third
OFFICE, OTHER_OFFICE, THIRD_OFFICE = "市民課", "市民税課", "会計課"
SOMEONE_ELSE = 99  # a user id no actor below has
AN_INSTANT = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)


def _person(user_id: int, label: str, *roles: Role, office: str | None = None,
            bodies: dict[int, Position] | None = None) -> Actor:
    return Actor(user_id=user_id, label=label, roles=frozenset(roles), email=f"user{user_id}@example.jp",
                 office=office, bodies=bodies or {})


#: One actor per role the rules tell apart.
ACTORS: dict[str, Actor] = {
    "public": ANONYMOUS,
    "secretariat": _person(1, "事務局", Role.SECRETARIAT),
    "chair": _person(2, "部会長", Role.MEMBER, bodies={BODY: Position.CHAIR}),
    "acting chair": _person(3, "職務代理者", Role.MEMBER, bodies={BODY: Position.ACTING_CHAIR}),
    "member": _person(4, "委員", Role.MEMBER, bodies={BODY: Position.MEMBER}),
    "other member": _person(5, "別の会議体の委員", Role.MEMBER, bodies={OTHER_BODY: Position.MEMBER}),
    "other chair": _person(6, "別の会議体の会長", Role.MEMBER, bodies={OTHER_BODY: Position.CHAIR}),
    "office": _person(7, "市民課", Role.OFFICE, office=OFFICE),
    "other office": _person(8, "市民税課", Role.OFFICE, office=OTHER_OFFICE),
    "admin": _person(9, "管理者", Role.ADMIN),
    "system": system_actor(),
}


# --- targets, built in memory ---------------------------------------------------------------------

def _case(*, public: bool = False, office: str = OFFICE, body: int | None = BODY) -> Assessment:
    return Assessment(id=1, title="住民基本台帳に関する事務", office=office, body_id=body, is_public=public,
                      procedure="full_assessment", state="published" if public else "subcommittee_review")


def _event(name: str, by: str) -> EventSpec:
    return EventSpec(name=name, title=Text(name, name), sources=("subcommittee_review",), target="revised", actor=by)


def _document(classification: Classification, *, purged: bool = False) -> Document:
    return Document(id=1, assessment_id=1, title="資料2", filename="shiryou.pdf", content_type="application/pdf",
                    size=100, sha256="0" * 64, classification=classification.value,
                    storage_key=None if purged else "key", uploaded_at=AN_INSTANT,
                    purged_at=AN_INSTANT if purged else None)


def _meeting(*, public: bool, body: int = BODY) -> Meeting:
    return Meeting(id=1, body_id=body, term="第8期", number=3, starts_at=AN_INSTANT, venue="市政情報室",
                   is_public=public, closed_reason=None if public else "個人情報を含む事項を審議するため",
                   created_at=AN_INSTANT, updated_at=AN_INSTANT)


def _token(user_id: int | None) -> ApiToken:
    return ApiToken(id=1, user_id=user_id, name="api", prefix="shg_xxxxxxxx", token_hash="0" * 64,
                    created_at=AN_INSTANT, expires_at=AN_INSTANT)


def _calendar(*, user_id: int | None = None, body_id: int | None = None) -> CalendarToken:
    return CalendarToken(id=1, token_hash="0" * 64, user_id=user_id, body_id=body_id, created_at=AN_INSTANT)


MEMBERS_ONLY, PUBLIC = Classification.MEMBERS_ONLY, Classification.PUBLIC
DELETE_AFTER_REVIEW = Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW
OFFICES_ON_AGENDA = frozenset({OFFICE})

#: target name → the target for an actor (the actor's "own" things depend on who asks).
TARGETS: dict[str, Callable[[Actor], Target]] = {
    "—": lambda _: None,
    "closed case": lambda _: _case(),
    "public case": lambda _: _case(public=True),
    # elsewhere: a case of a third office, reviewed by a third body — nobody's below but the staff's
    "closed case elsewhere": lambda _: _case(office=THIRD_OFFICE, body=THIRD_BODY),
    "public case elsewhere": lambda _: _case(public=True, office=THIRD_OFFICE, body=THIRD_BODY),
    "case without a body": lambda _: _case(body=None),
    "secretariat's event": lambda _: (_case(), _event("request_revision", "secretariat")),
    "office's event": lambda _: (_case(), _event("submit_revision", "office")),
    "office's event, public case": lambda _: (_case(public=True), _event("submit_revision", "office")),
    "members-only, closed case": lambda _: (_case(), _document(MEMBERS_ONLY)),
    "members-only, public case": lambda _: (_case(public=True), _document(MEMBERS_ONLY)),
    "delete-after-review, closed case": lambda _: (_case(), _document(DELETE_AFTER_REVIEW)),
    "members-only, purged": lambda _: (_case(), _document(DELETE_AFTER_REVIEW, purged=True)),
    "public document, closed case": lambda _: (_case(), _document(PUBLIC)),
    "public document, public case": lambda _: (_case(public=True), _document(PUBLIC)),
    "closed meeting, office's case on agenda": lambda _: (_meeting(public=False), OFFICES_ON_AGENDA),
    "closed meeting, no office's case": lambda _: (_meeting(public=False), frozenset()),
    "public meeting, office's case on agenda": lambda _: (_meeting(public=True), OFFICES_ON_AGENDA),
    "closed meeting": lambda _: _meeting(public=False),
    "public meeting": lambda _: _meeting(public=True),
    "own": lambda _: None,
    "own account": lambda actor: UserAccount(id=actor.user_id, email="own@example.jp", display_name="本人"),
    "another user": lambda _: UserAccount(id=SOMEONE_ELSE, email="other@example.jp", display_name="他の利用者"),
    "own token": lambda actor: _token(actor.user_id),
    "another user's token": lambda _: _token(SOMEONE_ELSE),
    "no such token": lambda _: None,
    "own calendar": lambda actor: _calendar(user_id=actor.user_id),
    "the member's calendar": lambda _: _calendar(user_id=ACTORS["member"].user_id),
    "a body's calendar": lambda _: _calendar(body_id=BODY),
    "another body's calendar": lambda _: _calendar(body_id=OTHER_BODY),
    "no live calendar": lambda _: None,
}

ANSWERS = {"yes": Decision.ALLOW, "401": Decision.SIGN_IN, "403": Decision.FORBID, "404": Decision.HIDE}

COLUMNS = ("public", "secretariat", "chair", "acting chair", "member", "other member", "other chair", "office",
           "other office", "admin", "system")

# (action, target) → answer for:
#  public, secretariat, chair, acting chair, member, other member, other chair, office, other office, admin, system
TABLE: dict[tuple[Action, str], tuple[str, ...]] = {
    (Action.CREATE_CASE, "—"):                                 ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.READ_CASE, "closed case"):                         ("404", "yes", "yes", "yes", "yes", "404", "404", "yes", "404", "yes", "yes"),
    (Action.READ_CASE, "public case"):                         ("yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
    (Action.READ_CASE, "closed case elsewhere"):               ("404", "yes", "404", "404", "404", "404", "404", "404", "404", "yes", "yes"),
    (Action.READ_CASE, "case without a body"):                 ("404", "yes", "404", "404", "404", "404", "404", "yes", "404", "yes", "yes"),
    (Action.READ_HISTORY, "closed case"):                      ("404", "yes", "yes", "yes", "yes", "404", "404", "yes", "404", "yes", "yes"),
    (Action.READ_HISTORY, "public case"):                      ("401", "yes", "yes", "yes", "yes", "403", "403", "yes", "403", "yes", "yes"),
    (Action.READ_HISTORY, "public case elsewhere"):            ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "yes", "yes"),
    (Action.FIRE_EVENT, "secretariat's event"):                ("404", "yes", "403", "403", "403", "404", "404", "403", "404", "403", "yes"),
    (Action.FIRE_EVENT, "office's event"):                     ("404", "yes", "403", "403", "403", "404", "404", "yes", "404", "403", "yes"),
    (Action.FIRE_EVENT, "office's event, public case"):        ("401", "yes", "403", "403", "403", "403", "403", "yes", "403", "403", "yes"),
    (Action.UPLOAD_DOCUMENT, "closed case"):                   ("404", "yes", "403", "403", "403", "404", "404", "yes", "404", "403", "yes"),
    (Action.UPLOAD_DOCUMENT, "public case"):                   ("401", "yes", "403", "403", "403", "403", "403", "yes", "403", "403", "yes"),
    (Action.KNOW_DOCUMENT, "members-only, closed case"):       ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.KNOW_DOCUMENT, "members-only, public case"):       ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.KNOW_DOCUMENT, "members-only, purged"):            ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.KNOW_DOCUMENT, "public document, closed case"):    ("404", "yes", "yes", "yes", "yes", "404", "404", "yes", "404", "yes", "yes"),
    (Action.KNOW_DOCUMENT, "public document, public case"):    ("yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
    (Action.READ_DOCUMENT, "members-only, closed case"):       ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.READ_DOCUMENT, "delete-after-review, closed case"): ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.READ_DOCUMENT, "members-only, public case"):       ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.READ_DOCUMENT, "members-only, purged"):            ("404", "404", "404", "404", "404", "404", "404", "404", "404", "404", "404"),
    (Action.READ_DOCUMENT, "public document, closed case"):    ("404", "yes", "yes", "yes", "yes", "404", "404", "yes", "404", "yes", "yes"),
    (Action.READ_DOCUMENT, "public document, public case"):    ("yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
    (Action.READ_AUDIT, "—"):                                  ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "yes", "yes"),
    (Action.MANAGE_USERS, "—"):                                ("401", "403", "403", "403", "403", "403", "403", "403", "403", "yes", "yes"),
    (Action.MANAGE_MEETINGS, "—"):                             ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.MANAGE_MEETINGS, "closed meeting"):                ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.READ_MEETING, "closed meeting, office's case on agenda"): ("404", "yes", "yes", "yes", "yes", "404", "404", "yes", "404", "yes", "yes"),
    (Action.READ_MEETING, "closed meeting, no office's case"): ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "yes", "yes"),
    (Action.READ_MEETING, "public meeting, office's case on agenda"): ("yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
    (Action.READ_RECORDS, "closed case"):                      ("404", "yes", "yes", "yes", "yes", "404", "404", "yes", "404", "yes", "yes"),
    (Action.READ_RECORDS, "public case"):                      ("401", "yes", "yes", "yes", "yes", "403", "403", "yes", "403", "yes", "yes"),
    (Action.RECORD_FINDING, "closed case"):                    ("404", "yes", "yes", "yes", "yes", "404", "404", "403", "404", "403", "yes"),
    (Action.RECORD_FINDING, "public case"):                    ("401", "yes", "yes", "yes", "yes", "403", "403", "403", "403", "403", "yes"),
    (Action.ANSWER_FINDING, "closed case"):                    ("404", "yes", "403", "403", "403", "404", "404", "yes", "404", "403", "yes"),
    (Action.ANSWER_FINDING, "public case"):                    ("401", "yes", "403", "403", "403", "403", "403", "yes", "403", "403", "yes"),
    (Action.RECORD_DELIBERATION, "closed case"):               ("404", "yes", "403", "403", "403", "404", "404", "403", "404", "403", "yes"),
    (Action.RECORD_DELIBERATION, "public case"):               ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.CORRECT_MINUTES, "closed meeting"):                ("401", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "404", "yes"),
    (Action.CORRECT_MINUTES, "public meeting"):                ("401", "yes", "yes", "yes", "yes", "403", "403", "403", "403", "403", "yes"),
    (Action.CONFIRM_MINUTES, "closed meeting"):                ("401", "yes", "yes", "yes", "403", "404", "404", "404", "404", "404", "yes"),
    (Action.CONFIRM_MINUTES, "public meeting"):                ("401", "yes", "yes", "yes", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.READ_FULL_MINUTES, "closed meeting"):              ("404", "yes", "yes", "yes", "yes", "404", "404", "404", "404", "yes", "yes"),
    (Action.READ_FULL_MINUTES, "public meeting"):              ("401", "yes", "yes", "yes", "yes", "403", "403", "403", "403", "yes", "yes"),
    (Action.READ_REGISTER, "—"):                               ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "yes", "yes"),
    (Action.MANAGE_REMINDER_RULES, "—"):                       ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.MANAGE_ORGANISATION, "—"):                         ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.READ_INBOX, "—"):                                  ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "401"),
    (Action.READ_OWN_ACCOUNT, "—"):                            ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "401"),
    (Action.ISSUE_TOKEN, "own"):                               ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "401"),
    (Action.ISSUE_TOKEN, "own account"):                       ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
    (Action.ISSUE_TOKEN, "another user"):                      ("401", "403", "403", "403", "403", "403", "403", "403", "403", "yes", "yes"),
    (Action.LIST_TOKENS, "own"):                               ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "401"),
    (Action.LIST_TOKENS, "another user"):                      ("401", "403", "403", "403", "403", "403", "403", "403", "403", "yes", "yes"),
    (Action.REVOKE_TOKEN, "own token"):                        ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes"),
    (Action.REVOKE_TOKEN, "another user's token"):             ("401", "404", "404", "404", "404", "404", "404", "404", "404", "yes", "yes"),
    (Action.REVOKE_TOKEN, "no such token"):                    ("401", "404", "404", "404", "404", "404", "404", "404", "404", "404", "404"),
    (Action.ISSUE_OWN_CALENDAR, "—"):                          ("401", "403", "yes", "yes", "yes", "yes", "yes", "403", "403", "403", "403"),
    (Action.ISSUE_BODY_CALENDAR, "—"):                         ("401", "yes", "403", "403", "403", "403", "403", "403", "403", "403", "yes"),
    (Action.ROTATE_CALENDAR, "own calendar"):                  ("401", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "yes", "404"),
    (Action.ROTATE_CALENDAR, "the member's calendar"):         ("401", "404", "404", "404", "yes", "404", "404", "404", "404", "404", "404"),
    (Action.ROTATE_CALENDAR, "a body's calendar"):             ("401", "yes", "404", "404", "404", "404", "404", "404", "404", "404", "yes"),
    (Action.ROTATE_CALENDAR, "another body's calendar"):       ("401", "yes", "404", "404", "404", "404", "404", "404", "404", "404", "yes"),
    (Action.ROTATE_CALENDAR, "no live calendar"):              ("401", "404", "404", "404", "404", "404", "404", "404", "404", "404", "404"),
}


def _cells() -> list[pytest.param]:
    return [pytest.param(action, target, role, answer, id=f"{action} | {target} | {role}")
            for (action, target), answers in TABLE.items()
            for role, answer in zip(COLUMNS, answers, strict=True)]


@pytest.mark.parametrize(("action", "target", "role", "answer"), _cells())
def test_the_rules_answer_as_the_table_says(action, target, role, answer):
    actor = ACTORS[role]
    assert decide(actor, action, TARGETS[target](actor)) is ANSWERS[answer]


def test_every_action_has_a_rule_and_a_row():
    assert set(RULES) == set(Action)
    assert {action for action, _ in TABLE} == set(Action)


@pytest.mark.parametrize("action", sorted({action for (action, _), answers in TABLE.items() if "403" in answers}))
def test_every_refusal_says_what_is_not_allowed(action):
    """A 403 names the rule in both languages, never the catch-all text."""
    target, answers = next((target, answers) for (row, target), answers in TABLE.items()
                           if row is action and "403" in answers)
    actor = ACTORS[COLUMNS[answers.index("403")]]
    with pytest.raises(Forbidden) as refused:
        authorize(actor, action, TARGETS[target](actor))
    assert refused.value.message.ja and refused.value.message.en
    assert refused.value.message != Message("この操作の権限がありません。", "You may not do this.")


def test_authorize_turns_each_answer_into_its_error():
    member, public = ACTORS["member"], ACTORS["public"]
    authorize(member, Action.READ_CASE, _case())  # allowed: no error
    with pytest.raises(Unauthenticated):
        authorize(public, Action.CREATE_CASE)
    with pytest.raises(NotFound) as hidden:
        authorize(ACTORS["other member"], Action.READ_CASE, _case())
    # hidden: the words of a case that is not there (tests/api/test_existence.py compares them over HTTP)
    assert hidden.value.message == Message("案件（ID 1）は見つかりません。", "No case with id 1.")
    own_words = NotFound(Message("トークンが見つかりません。", "No such token."))
    with pytest.raises(NotFound) as hidden:
        authorize(member, Action.REVOKE_TOKEN, _token(SOMEONE_ELSE), hidden=own_words)
    assert hidden.value is own_words
    with pytest.raises(Forbidden):
        authorize(member, Action.MANAGE_MEETINGS)


#: The record each target is, as a refusal to let the actor know of it names it (every target's id is 1):
#: the loader's own words for a missing record of that kind. None: a plain "not found" (the service
#: passes its own words, e.g. for a calendar feed).
HIDDEN_AS: dict[str, Record | None] = {
    **{name: Record.CASE for name in ("closed case", "public case", "closed case elsewhere",
                                     "public case elsewhere", "case without a body", "secretariat's event",
                                     "office's event", "office's event, public case")},
    **{name: Record.DOCUMENT for name in TARGETS if "document" in name or name.startswith(
        ("members-only", "delete-after-review"))},
    **{name: Record.MEETING for name in TARGETS if name.startswith(("closed meeting,", "public meeting,"))},
    # minutes.* act on a meeting the actor may see; what is hidden is its minutes
    "closed meeting": Record.MINUTES, "public meeting": Record.MINUTES,
    "own token": Record.API_TOKEN, "another user's token": Record.API_TOKEN,
}


def _hidden_cells() -> list[pytest.param]:
    return [param for param in _cells() if param.values[3] == "404"]


@pytest.mark.parametrize(("action", "target", "role", "answer"), _hidden_cells())
def test_a_hidden_target_answers_as_a_missing_record(action, target, role, answer):
    """HIDE is the loader's 404 of the record the target is, word for word: RecordNotFound(kind, id)."""
    actor = ACTORS[role]
    with pytest.raises(NotFound) as hidden:
        authorize(actor, action, TARGETS[target](actor))
    kind = HIDDEN_AS.get(target)
    if kind is None:
        assert type(hidden.value) is NotFound and hidden.value.message == Message("見つかりません。", "Not found.")
    else:
        assert isinstance(hidden.value, RecordNotFound) and (hidden.value.record, hidden.value.record_id) == (kind, 1)
        assert hidden.value.message == RecordNotFound(kind, 1).message
        assert hidden.value.code == "not_found"


def test_a_service_names_the_record_it_was_asked_for():
    """`hidden=` replaces the target's words: a finding reached by its id answers as a missing finding."""
    with pytest.raises(RecordNotFound) as hidden:
        authorize(ACTORS["other member"], Action.ANSWER_FINDING, _case(), hidden=RecordNotFound(Record.FINDING, 7))
    assert hidden.value.message == Message("質問・意見（ID 7）は見つかりません。", "No finding with id 7.")


def test_every_kind_of_record_has_its_words_in_both_languages():
    for kind in Record:
        message = RecordNotFound(kind, 12).message
        assert "（ID 12）" in message.ja and message.ja.endswith("見つかりません。"), kind
        assert message.en.startswith("No ") and message.en.endswith(" with id 12."), kind


# --- the docstring's table ------------------------------------------------------------------------

def _docstring_table() -> list[list[str]]:
    """The lines of the Markdown table in workflow/policy.py's docstring, split into cells."""
    lines = [line.strip() for line in (policy.__doc__ or "").splitlines() if line.strip().startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _docstring_cells() -> list[pytest.param]:
    header, _separator, *rows = _docstring_table() or [[], []]
    return [pytest.param(row[0], row[1], role, answer, id=f"{row[0]} | {row[1]} | {role}")
            for row in rows for role, answer in zip(header[2:], row[2:], strict=False)]


def test_the_docstring_table_has_a_cell_for_every_action_and_role():
    header, separator, *rows = _docstring_table()
    assert header[:2] == ["action", "target"] and set(header[2:]) <= set(ACTORS)
    assert all(set(cell) <= {"-", ":"} for cell in separator)
    assert all(len(row) == len(header) for row in rows)
    assert all(row[1] in TARGETS and set(row[2:]) <= set(ANSWERS) for row in rows)
    assert {Action(row[0]) for row in rows} == set(Action)


@pytest.mark.parametrize(("action", "target", "role", "answer"), _docstring_cells())
def test_the_docstring_table_is_what_the_rules_say(action, target, role, answer):
    actor = ACTORS[role]
    assert decide(actor, Action(action), TARGETS[target](actor)) is ANSWERS[answer]
