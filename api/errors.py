"""One error shape for every failure, and the mapping of domain errors to HTTP statuses.

    {"error": {"code": "...", "message": {"ja": "...", "en": "..."},
               "fields": [{"field": "...", "rule": "...", "message": {"ja": "...", "en": "..."}}],
               "allowed_events": [...], "current_version": 3, "current_state": "..."}}

`fields` is present for 422, `allowed_events`, `current_version` and `current_state` for 409.

The OpenAPI schema says the same (`document`): every error status an operation can answer, each as
`application/json` with this shape, whatever the operation's own content type (HTML, .docx, iCalendar).
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
from starlette.routing import Match

from api.auth import CsrfFailed, InvalidToken
from workflow.accounts import SignInFailed, SignInLocked
from workflow.documents import DocumentGone
from workflow.errors import Conflict, DomainError, FieldProblem, InvalidInput, Message, NotFound
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
    503: {"model": ErrorBody, "description": "データベースに接続できない（Retry-After 秒後に再試行） / "
                                             "The database is unavailable (retry after Retry-After seconds)"},
}

#: What signing in may answer besides: too many failures from one place (Retry-After).
SIGN_IN_LOCKED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorBody, "description": "失敗が続いたため一時的にロック / Locked for a while after repeated failures"},
}

#: What every operation that takes a body may answer besides (api/limits.py), added by `document`.
TOO_LARGE: dict[str, Any] = {"description": "リクエストが大きすぎる（上限: SHINGI_MAX_UPLOAD_BYTES + 1 MiB） / "
                                            "The request is too large (limit: SHINGI_MAX_UPLOAD_BYTES + 1 MiB)"}

#: The headers that come with an error status (RFC 9110): who to authenticate with, when to retry.
_ERROR_HEADERS: dict[str, dict[str, Any]] = {
    "401": {"WWW-Authenticate": {"description": 'Bearer realm="shingi"', "schema": {"type": "string"}}},
    "429": {"Retry-After": {"description": "seconds", "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
    "503": {"Retry-After": {"description": "seconds", "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorBody"}


def document(openapi: dict[str, Any]) -> dict[str, Any]:
    """The app's OpenAPI schema, its errors stated as they are answered: each in the one JSON shape
    (FastAPI would give a route's error responses the route's own content type), 413 wherever a body
    is read, and the headers that come with 401, 429 and 503."""
    for operations in openapi.get("paths", {}).values():
        for method, operation in operations.items():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if method.upper() in ("POST", "PUT", "PATCH"):
                responses.setdefault("413", {**TOO_LARGE, "content": {"application/json": {"schema": _ERROR_SCHEMA}}})
            for status, response in responses.items():
                content = response.get("content", {})
                if not any(media.get("schema") == _ERROR_SCHEMA for media in content.values()):
                    continue  # a success, or an answer of its own shape (/ready's 503)
                response["content"] = {"application/json": {"schema": dict(_ERROR_SCHEMA)}}
                if status in _ERROR_HEADERS:
                    response.setdefault("headers", {}).update(_ERROR_HEADERS[status])
    return openapi

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


def invalid_input(problems: list[FieldProblem]) -> JSONResponse:
    return error_response(422, "invalid_input", Message("入力内容に誤りがあります。", "The input is not valid."),
                          fields=[problem.as_dict() for problem in problems])


def too_large(limit: int) -> JSONResponse:
    return error_response(413, "too_large", Message(f"リクエストが大きすぎます（上限 {limit:,} バイト）。",
                                                    f"The request is too large (at most {limit:,} bytes)."))


class BodyRefused(StarletteHTTPException):
    """A body refused while it is read (api/limits.py): 422 naming the field and the rule, or (no
    problem) 413. An HTTPException, so that the parsers and FastAPI let it through to `_http_error`."""

    def __init__(self, problem: FieldProblem | None, *, limit: int = 0) -> None:
        super().__init__(422 if problem is not None else 413)
        self.problem = problem
        self.limit = limit


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
    DocumentGone: 410,
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


def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    if isinstance(error, BodyRefused):
        return invalid_input([error.problem]) if error.problem is not None else too_large(error.limit)
    if error.status_code == 400:
        # What api/limits.py does not see first: a body the parsers cannot read at all (a form
        # without its boundary …). It is the input that is wrong, so it is said like any other.
        return invalid_input([FieldProblem("body", "readable", Message(
            "リクエストの本文を読み取れません（Content-Type と本文の形式を確認してください）。",
            "The request body cannot be read (check its Content-Type and format)."))])
    ja, en = _STATUS_MESSAGES.get(error.status_code, ("エラーが発生しました。", str(error.detail)))
    response = error_response(error.status_code, f"http_{error.status_code}", Message(ja, en))
    if error.headers:
        response.headers.update(error.headers)
    if error.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method the request's path answers to. Starlette's 405 names only the methods of the first
    route that matched the path, and GET and POST of one path are two routes: each method is asked
    of the router as the request would be."""
    routes = request.app.router.routes
    return [method for method in _METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)]


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
