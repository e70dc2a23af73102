"""Domain errors. Each carries a code and a message in Japanese and English; api/ maps them to HTTP."""

from __future__ import annotations

from dataclasses import dataclass
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
