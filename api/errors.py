"""One error shape for every failure, and the mapping of domain errors to HTTP statuses.

    {"error": {"code": "...", "message": {"ja": "...", "en": "..."},
               "fields": [{"field": "...", "rule": "...", "message": {"ja": "...", "en": "..."}}],
               "allowed_events": [...], "current_version": 3, "current_state": "..."}}

`fields` is present for 422, `allowed_events`, `current_version` and `current_state` for 409.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import CsrfFailed, InvalidToken
from workflow.accounts import SignInFailed, SignInLocked
from workflow.errors import Conflict, DomainError, InvalidInput, Message, NotFound
from workflow.policy import Forbidden, Unauthenticated
from workflow.validation import problem_from_pydantic

log = logging.getLogger("shingi.api")


class LocalisedText(BaseModel):
    ja: str
    en: str


class FieldError(BaseModel):
    field: str
    rule: str
    message: LocalisedText


class ErrorDetail(BaseModel):
    code: str
    message: LocalisedText
    fields: list[FieldError] | None = None
    allowed_events: list[dict[str, Any]] | None = None
    current_version: int | None = None
    current_state: str | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "ログインが必要 / Sign in first (or a bad API token)"},
    403: {"model": ErrorBody, "description": "権限がない、またはCSRF検証の失敗 / Not allowed, or a failed CSRF check"},
    404: {"model": ErrorBody, "description": "見つかりません / Not found"},
    409: {"model": ErrorBody, "description": "現在の状態では実行できない、または版が古い / Not allowed now, or a stale version"},
    422: {"model": ErrorBody, "description": "入力内容の誤り（項目と規則を示す） / Invalid input, naming the field and the rule"},
}

_STATUS_MESSAGES = {
    400: ("リクエストが正しくありません。", "Bad request."),
    401: ("認証が必要です。", "Authentication is required."),
    403: ("この操作の権限がありません。", "You may not do this."),
    404: ("見つかりません。", "Not found."),
    405: ("このメソッドは使用できません。", "Method not allowed."),
    413: ("リクエストが大きすぎます。", "The request is too large."),
    503: ("サービスを一時的に利用できません。", "The service is temporarily unavailable."),
}


def error_response(status: int, code: str, message: Message, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message.as_dict()}
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse({"error": body}, status_code=status)


#: HTTP status of each kind of domain error (the most specific class in its MRO wins).
STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 422,
    Conflict: 409,
    NotFound: 404,
    Unauthenticated: 401,
    SignInFailed: 401,
    InvalidToken: 401,
    Forbidden: 403,
    CsrfFailed: 403,
    SignInLocked: 429,
}


def status_of(error: DomainError) -> int:
    return next((STATUS_OF[kind] for kind in type(error).__mro__ if kind in STATUS_OF), 400)


def _domain_error(_request: Request, error: DomainError) -> JSONResponse:
    status = status_of(error)
    extra: dict[str, Any] = {}
    if isinstance(error, InvalidInput):
        extra["fields"] = [problem.as_dict() for problem in error.problems]
    if isinstance(error, Conflict):
        extra.update(allowed_events=error.allowed_events, current_version=error.current_version,
                     current_state=error.current_state)
    response = error_response(status, error.code, error.message, **extra)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="shingi"'
    if isinstance(error, SignInLocked):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _request_validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [problem_from_pydantic(item) for item in error.errors()]
    return error_response(422, "invalid_input", Message("入力内容に誤りがあります。", "The input is not valid."),
                          fields=[p.as_dict() for p in problems])


def _http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
    ja, en = _STATUS_MESSAGES.get(error.status_code, ("エラーが発生しました。", str(error.detail)))
    response = error_response(error.status_code, f"http_{error.status_code}", Message(ja, en))
    if error.headers:
        response.headers.update(error.headers)
    return response


def _database_unavailable(_request: Request, error: OperationalError) -> JSONResponse:
    # A locked or unreachable database is an outage to retry, not a bug: 503 with Retry-After.
    log.warning("database unavailable: %s", error)
    response = error_response(503, "database_unavailable",
                              Message("データベースに接続できません。しばらくしてから再度お試しください。",
                                      "The database is unavailable; try again shortly."))
    response.headers["Retry-After"] = "5"
    return response


def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    # The last resort: a bug. Logged with its traceback; the client still gets the one error shape.
    log.exception("unexpected error", exc_info=error)
    return error_response(500, "internal_error", Message("システム内部でエラーが発生しました。", "An internal error occurred."))


_E = TypeVar("_E", bound=Exception)


def _for(kind: type[_E],
         handler: Callable[[Request, _E], JSONResponse]) -> Callable[[Request, Exception], JSONResponse]:
    """`handler` as Starlette types an exception handler (taking any exception): it is handed only
    errors of `kind`, the class it is registered for."""
    def handle(request: Request, error: Exception) -> JSONResponse:
        if not isinstance(error, kind):
            raise error
        return handler(request, error)
    return handle


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _for(DomainError, _domain_error))
    app.add_exception_handler(RequestValidationError, _for(RequestValidationError, _request_validation_error))
    app.add_exception_handler(StarletteHTTPException, _for(StarletteHTTPException, _http_error))
    app.add_exception_handler(OperationalError, _for(OperationalError, _database_unavailable))
    app.add_exception_handler(Exception, _unexpected)
