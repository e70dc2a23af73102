"""Domain errors. Each carries a code and a message in Japanese and English; api/ maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Message:
    ja: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"ja": self.ja, "en": self.en}


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one input: the field, the rule it breaks, and a message."""

    field: str
    rule: str
    message: Message

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, "message": self.message.as_dict()}


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: Message):
        super().__init__(message.en)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class Record(StrEnum):
    """The kinds of record a request names by id, each with its one "not found" message."""

    CASE = "case"                      #: 案件（評価・諮問）
    MEETING = "meeting"                #: 会議
    MINUTES = "minutes"                #: 会議録 (named by its meeting's id)
    CORRECTION = "correction"          #: 会議録の修正
    FINDING = "finding"                #: 質問・意見
    DOCUMENT = "document"              #: 資料
    PUBLIC_COMMENT = "public_comment"  #: 住民等の意見
    REPORT_VERSION = "report_version"  #: 評価書の版
    REPORT_CHANGE = "report_change"    #: 修正箇所 (a change a report version makes)
    RESOLUTION = "resolution"          #: 部会報告・答申
    NOTICE = "notice"                  #: お知らせ
    API_TOKEN = "api_token"            #: APIトークン
    CALENDAR_TOKEN = "calendar_token"  #: カレンダーの購読用URL
    BODY = "body"                      #: 会議体


#: The words of each kind's "not found", in the style 案件（ID 12）は見つかりません。 / No case with id 12.
_NOT_FOUND: dict[Record, tuple[str, str]] = {
    Record.CASE: ("案件（ID {id}）は見つかりません。", "No case with id {id}."),
    Record.MEETING: ("会議（ID {id}）は見つかりません。", "No meeting with id {id}."),
    Record.MINUTES: ("会議（ID {id}）の会議録は見つかりません。", "No minutes of the meeting with id {id}."),
    Record.CORRECTION: ("修正（ID {id}）は見つかりません。", "No correction with id {id}."),
    Record.FINDING: ("質問・意見（ID {id}）は見つかりません。", "No finding with id {id}."),
    Record.DOCUMENT: ("資料（ID {id}）は見つかりません。", "No document with id {id}."),
    Record.PUBLIC_COMMENT: ("意見（ID {id}）は見つかりません。", "No public comment with id {id}."),
    Record.REPORT_VERSION: ("評価書の版（ID {id}）は見つかりません。", "No report version with id {id}."),
    Record.REPORT_CHANGE: ("修正箇所（ID {id}）は見つかりません。", "No report change with id {id}."),
    Record.RESOLUTION: ("部会報告・答申（ID {id}）は見つかりません。", "No report or reply with id {id}."),
    Record.NOTICE: ("お知らせ（ID {id}）は見つかりません。", "No notice with id {id}."),
    Record.API_TOKEN: ("APIトークン（ID {id}）は見つかりません。", "No API token with id {id}."),
    Record.CALENDAR_TOKEN: ("カレンダーのURL（ID {id}）は見つかりません。", "No calendar URL with id {id}."),
    Record.BODY: ("会議体（ID {id}）は見つかりません。", "No body with id {id}."),
}


def not_found_message(record: Record, record_id: int) -> Message:
    """The one message for "no `record` with this id" (also the text of a field naming such an id)."""
    ja, en = _NOT_FOUND[record]
    return Message(ja.format(id=record_id), en.format(id=record_id))


class RecordNotFound(NotFound):
    """No record of this kind with the id the request named — or one the actor may not know of.

    The two answer the same words, and the words name only the kind and the id the request gave
    (never what the record hangs on, such as its case): a hidden record is not told apart from a
    missing one. Every loader raises it, and so does `policy.authorize` for a record it hides."""

    def __init__(self, record: Record, record_id: int) -> None:
        super().__init__(not_found_message(record, record_id))
        self.record = record
        self.record_id = record_id


class InvalidInput(DomainError):
    """The request's inputs break a rule: the problems name each field and rule (HTTP 422)."""

    code = "invalid_input"

    def __init__(self, problems: list[FieldProblem], message: Message | None = None):
        super().__init__(message or Message("入力内容に誤りがあります。", "The input is not valid."))
        self.problems = problems

    @classmethod
    def single(cls, field: str, rule: str, ja: str, en: str) -> InvalidInput:
        return cls([FieldProblem(field, rule, Message(ja, en))])


class Conflict(DomainError):
    """The request cannot be carried out in the case's present situation (HTTP 409)."""

    code = "conflict"

    def __init__(self, message: Message, *, allowed_events: list[dict[str, Any]] | None = None,
                 current_version: int | None = None, current_state: str | None = None):
        super().__init__(message)
        self.allowed_events = allowed_events
        self.current_version = current_version
        self.current_state = current_state


class EventNotAllowed(Conflict):
    code = "event_not_allowed"


class StaleVersion(Conflict):
    code = "stale_version"


class GuardRefused(Conflict):
    """The event is allowed from this state but a condition of the procedure does not hold yet."""

    code = "condition_not_met"

    def __init__(self, rule: str, message: Message, **context: Any):
        super().__init__(message, **context)
        self.rule = rule
