"""Every request observed: a request id, its duration in the metrics, one access line, and the request in
every log line written while it is served.

The request id is the caller's `X-Request-ID` when it is well formed (`REQUEST_ID`: at most 128 letters,
digits and `._:-`), else a new one; it is answered in the `X-Request-ID` header and carried, with the
method and the route's template, by every log line of the request (a context variable, which the thread
pool's threads inherit). The access line names the method, the route's template, the status and the
duration — never the path as asked (a calendar feed's path is its secret), the query, a header or the
body, so that no token, cookie or password reaches the log.

`configure_logging` sets the log up for a process (SHINGI_LOG_FORMAT: `text`, or `json`, one object a line).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from workflow.clock import TOKYO

REQUEST_ID_HEADER = "X-Request-ID"
#: What a caller's request id may be; any other is replaced by a new one.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access = logging.getLogger("shingi.access")


@dataclass(frozen=True)
class RequestContext:
    """The request being served (its scope is the one the router writes the matched route into)."""

    request_id: str
    method: str
    scope: Scope

    @property
    def route(self) -> str | None:
        return route_template(self.scope)


_current: ContextVar[RequestContext | None] = ContextVar("shingi_request", default=None)


def current() -> RequestContext | None:
    """The request this code serves, if any."""
    return _current.get()


def route_template(scope: Scope) -> str | None:
    """The template of the route that took the request (`/api/meetings/{meeting_id}`), once routed."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else None


def request_id(sent: str | None) -> str:
    """The caller's request id when it is well formed, else a new one."""
    if sent is not None and REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class Observed:
    """ASGI middleware around the whole application, the error handlers included (so that a 500 is
    observed, and logged with its request id, like any other answer)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = RequestContext(request_id(_header(scope, b"x-request-id")), scope["method"], scope)
        token = _current.set(context)
        started = time.perf_counter()
        status = 500  # unless an answer starts: what the server then answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = context.request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = context.route or "unmatched"
            metrics.observe_request(route, context.method, status, seconds)
            if access.isEnabledFor(logging.INFO):
                access.info("%s %s %d %.1f ms", context.method, route, status, seconds * 1000,
                            extra={"status": status, "duration_ms": round(seconds * 1000, 3)})
            _current.reset(token)


# --- the log ------------------------------------------------------------------------------------

#: The fields of every line besides time, level, logger and message (None where they do not apply).
FIELDS = ("request_id", "method", "route", "status", "duration_ms")


class RequestFields(logging.Filter):
    """Gives every record the fields of the request it was written in (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _current.get()
        if context is not None:
            record.request_id, record.method, record.route = context.request_id, context.method, context.route
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, None)
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, TOKYO).isoformat(timespec="milliseconds")


class JsonLines(logging.Formatter):
    """One JSON object a line: time (ISO 8601 with its offset), level, logger, message, the request's
    fields, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": _time(record), "level": record.levelname, "logger": record.name,
                                "message": record.getMessage()}
        line.update({name: getattr(record, name, None) for name in FIELDS})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextLines(logging.Formatter):
    """`2025-06-02T09:00:00.000+09:00 INFO shingi.access [request id] message`, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{_time(record)} {record.levelname} {record.name} [{getattr(record, 'request_id', None) or '-'}] " \
               f"{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


def log_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler that writes lines of `log_format` (json | text) with the request's fields."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RequestFields())
    handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
    return handler


def configure_logging(log_format: str, level: str, *, access_log: bool = True) -> None:
    """The process's log: every logger through one handler on stderr, in `log_format`, from `level` on.

    Uvicorn's own access log is switched off (it writes the path as asked, query and all): the access
    lines are this module's. The libraries that write a line for every tick (APScheduler) or every
    callback of every transition (transitions) are heard from WARNING on.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(log_handler(log_format))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    for chatty in ("apscheduler", "transitions"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    access.disabled = not access_log
