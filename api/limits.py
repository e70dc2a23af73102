"""What a request body may be, checked as it is read, so that a body no route could take answers in the
one error shape (413, or 422 naming the field and the rule) instead of a bare 400 from the parsers.

- any body: at most `SHINGI_MAX_UPLOAD_BYTES` + 1 MiB (`BODY_OVERHEAD`), else 413;
- JSON (`application/json`, `application/*+json`): readable text (rule `encoding`), nested at most
  `MAX_DEPTH` deep (rule `max_depth`), no integer of more than `MAX_DIGITS` digits (rule `max_digits`);
- forms (`multipart/form-data`, `application/x-www-form-urlencoded`): at most `MAX_PARTS` parts (rule
  `max_parts`), a text part of at most `MAX_PART_BYTES` (rule `max_length`), a part's header line of at
  most `MAX_HEADER_BYTES` and a file name of at most `MAX_FILENAME` characters (rule `max_length`), and
  well-formed (rule `multipart`).

The checks run inside `receive`, on the bytes the route reads (a route that reads no body is not
slowed down); a refusal is raised as `api.errors.BodyRefused`, which the error handlers answer.
"""

from __future__ import annotations

import email.message
import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyRefused, too_large
from workflow.errors import FieldProblem
from workflow.errors import Message as Text

log = logging.getLogger("shingi.api")

#: What a form adds to the largest upload it carries (its other parts, the boundaries, the headers).
BODY_OVERHEAD = 1024 * 1024
#: The methods whose bodies the API reads.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

MAX_DEPTH = 32
#: More than any 32-bit integer needs, far less than the digits Python parses slowly.
MAX_DIGITS = 100
#: The parsers' own limits (Starlette's forms, python-multipart's headers), which answered 400 before.
MAX_PARTS = 1000
MAX_PART_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 4096
#: What a stored file name keeps (workflow.models.Document.filename).
MAX_FILENAME = 255


def max_body_bytes(scope: Scope) -> int:
    """The largest body the running app takes (its upload limit, from the settings, and a form's overhead)."""
    services = getattr(scope["app"].state, "services", None)
    limit = services.options.max_upload_bytes if services is not None else 20 * 1024 * 1024
    return int(limit) + BODY_OVERHEAD


def _problem(field: str, rule: str, ja: str, en: str) -> BodyRefused:
    return BodyRefused(FieldProblem(field, rule, Text(ja, en)))


class RequestLimits:
    """ASGI middleware: the limits above, on every POST, PUT and PATCH."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = max_body_bytes(scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            # Answered before a byte is read: the client learns at once, and nothing is buffered.
            await too_large(limit)(scope, receive, send)
            return
        await self.app(scope, _Checked(receive, limit, _checker(headers.get("content-type"))), send)


class _Checker:
    """Sees the body chunk by chunk; raises BodyRefused on the first rule broken."""

    def feed(self, chunk: bytes) -> None:  # a body of another type is only counted
        pass

    def end(self) -> None:
        pass


def _checker(content_type: str | None) -> _Checker:
    try:
        return _checker_for(content_type)
    except Exception:  # a Content-Type the checks cannot read: the parsers judge the body alone
        log.exception("request limits: no checks for Content-Type %r", content_type)
        return _Checker()


def _checker_for(content_type: str | None) -> _Checker:
    if not content_type:
        return _Checker()
    message = email.message.Message()
    message["content-type"] = content_type
    kind = message.get_content_type()
    if message.get_content_maintype() == "application":
        subtype = message.get_content_subtype()
        if subtype == "json" or subtype.endswith("+json"):  # as FastAPI decides to read JSON
            return _JsonChecker()
    if kind == "application/x-www-form-urlencoded":
        return _UrlencodedChecker()
    if kind == "multipart/form-data":
        return _MultipartChecker(content_type)
    return _Checker()


class _Checked:
    """`receive` that counts the body against the limit and hands each chunk to the checker first."""

    def __init__(self, receive: Receive, limit: int, checker: _Checker) -> None:
        self.receive = receive
        self.limit = limit
        self.checker = checker
        self.seen = 0

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise BodyRefused(None, limit=self.limit)
        try:
            self.checker.feed(chunk)
            if not message.get("more_body", False):
                self.checker.end()
        except BodyRefused:
            raise
        except Exception:  # a fault of the checks is no fault of the request: the parsers still judge it
            log.exception("request limits: the body's checks failed; the body is passed on unchecked")
            self.checker = _Checker()
        return message


# --- JSON ---------------------------------------------------------------------------------------

class _TooManyDigits(ValueError):
    pass


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _TooManyDigits(digits)
    return int(digits)


class _JsonChecker(_Checker):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def end(self) -> None:
        body = b"".join(self.chunks)
        self.chunks = []
        if not body:
            return
        try:
            # as json.loads reads bytes (UTF-8, or UTF-16/32 by their first bytes)
            text = body.decode(json.detect_encoding(body), "surrogatepass")
        except UnicodeDecodeError:
            raise _not_unicode("body") from None
        try:
            value = json.loads(text, parse_int=_bounded_int)
        except json.JSONDecodeError:
            return  # FastAPI names it (rule `json`)
        except _TooManyDigits:
            raise _too_many_digits(_locate(text, digits=True)) from None
        except RecursionError:
            raise _too_deep(_locate(text, digits=False)) from None
        _walk(value)


def _not_unicode(field: str) -> BodyRefused:
    return _problem(field, "encoding", "文字として読み取れません（UTF-8で送信してください）。",
                    "This is not readable text (send UTF-8).")


def _too_many_digits(field: str) -> BodyRefused:
    return _problem(field, "max_digits", f"数値は{MAX_DIGITS}桁以内で入力してください。",
                    f"Enter a number of at most {MAX_DIGITS} digits.")


def _too_deep(field: str) -> BodyRefused:
    return _problem(field, "max_depth", f"JSONの入れ子は{MAX_DEPTH}段までです。",
                    f"JSON may be nested at most {MAX_DEPTH} deep.")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _walk(value: Any) -> None:
    """Refuse a value nested deeper than MAX_DEPTH, or text holding half of a UTF-16 pair (`"\\ud800"`
    is JSON, but no character: it cannot be stored), naming where; without recursion."""
    pending: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 0, ())]
    while pending:
        node, depth, path = pending.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise _not_unicode(_field(path))
            continue
        if isinstance(node, dict):
            for key in node:
                if _SURROGATE.search(key):
                    raise _not_unicode(_field(path))
            children: Any = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        if depth + 1 > MAX_DEPTH:
            raise _too_deep(_top(path))
        pending.extend((child, depth + 1, (*path, key)) for key, child in children)


def _field(path: tuple[str | int, ...] | list[str | int]) -> str:
    return ".".join(str(part) for part in path) or "body"


def _top(path: tuple[str | int, ...] | list[str | int]) -> str:
    """The field of the request's object a too deep value was sent in."""
    return path[0] if path and isinstance(path[0], str) else "body"


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[^\s{}\[\],:"]+')


def _locate(text: str, *, digits: bool) -> str:
    """The field (`passages.3.text`) where the JSON first nests deeper than MAX_DEPTH, or (`digits`)
    holds an integer longer than MAX_DIGITS; "body" when that is the document itself. Run only on a
    body already refused, so its cost is the refused client's."""
    path: list[str | int] = []
    containers: list[str] = []
    key: str | int | None = None
    for token in _tokens(text):
        if token in "{[":
            if key is not None:
                path.append(key)
            containers.append(token)
            key = 0 if token == "[" else None
            if not digits and len(containers) > MAX_DEPTH:
                return _top(path)
        elif token in "}]":
            containers.pop()
            key = path.pop() if path and containers else None
        elif token == ",":
            if containers and containers[-1] == "[" and isinstance(key, int):
                key += 1
            elif containers and containers[-1] == "{":
                key = None
        elif token == ":":
            continue
        elif containers and containers[-1] == "{" and key is None and token.startswith('"'):
            key = json.loads(token)
        elif digits and token.lstrip("-").isdigit() and len(token.lstrip("-")) > MAX_DIGITS:
            if key is not None:
                path.append(key)
            break
    return _field(path)


def _tokens(text: str) -> Iterator[str]:
    for match in _TOKEN.finditer(text):
        yield match.group()


# --- forms --------------------------------------------------------------------------------------

def _too_many_parts() -> BodyRefused:
    return _problem("body", "max_parts", f"フォームの項目は{MAX_PARTS}個までです。",
                    f"A form may have at most {MAX_PARTS} parts.")


def _part_too_long(field: str) -> BodyRefused:
    return _problem(field, "max_length", f"{MAX_PART_BYTES // 1024 // 1024} MB以内で入力してください。",
                    f"Enter at most {MAX_PART_BYTES // 1024 // 1024} MB.")


class _UrlencodedChecker(_JsonChecker):
    def end(self) -> None:
        body = b"".join(self.chunks)
        self.chunks = []
        fields = [field for field in re.split(rb"[&;]", body) if field]
        if len(fields) > MAX_PARTS:
            raise _too_many_parts()
        for field in fields:
            if len(field) > MAX_PART_BYTES:
                name = unquote_plus(field.split(b"=", 1)[0][:200].decode("latin-1"))
                raise _part_too_long(name or "body")


def _malformed() -> BodyRefused:
    return _problem("body", "multipart", "フォームの形式（multipart/form-data）が正しくありません。",
                    "The form is not valid multipart/form-data.")


class _MultipartChecker(_Checker):
    """python-multipart's parser, run ahead of Starlette's on the same bytes, with the same limits, to
    name what is wrong: the part (its `name`) and the rule."""

    def __init__(self, content_type: str) -> None:
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        self.parts = 0
        self.part_name = "body"
        self.part_size = 0
        self.is_file = False
        self.header_name = b""
        self.header_value = b""
        self.parser: MultipartParser | None = None
        if boundary:
            self.parser = MultipartParser(boundary, {
                "on_part_begin": self._part_begin, "on_part_data": self._part_data,
                "on_header_field": self._header_field, "on_header_value": self._header_value,
                "on_header_end": self._header_end,
            }, max_header_size=64 * 1024)

    def feed(self, chunk: bytes) -> None:
        if self.parser is None:
            raise _malformed()
        try:
            self.parser.write(chunk)
        except FormParserError:
            raise _malformed() from None

    def end(self) -> None:
        if self.parser is None:
            raise _malformed()
        try:
            self.parser.finalize()
        except FormParserError:
            raise _malformed() from None

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise _too_many_parts()
        self.part_name, self.part_size, self.is_file = "body", 0, False

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self.part_size += end - start
        if not self.is_file and self.part_size > MAX_PART_BYTES:
            raise _part_too_long(self.part_name)

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        name, value = self.header_name.lower(), self.header_value
        self.header_name, self.header_value = b"", b""
        if name == b"content-disposition":
            _, options = parse_options_header(value)
            self.part_name = options.get(b"name", b"").decode("utf-8", "replace")[:200] or "body"
            filename = options.get(b"filename")
            self.is_file = filename is not None
            if filename is not None and len(filename.decode("utf-8", "replace")) > MAX_FILENAME:
                raise _problem(self.part_name, "max_length", f"ファイル名は{MAX_FILENAME}文字以内にしてください。",
                               f"A file name may have at most {MAX_FILENAME} characters.")
        if len(name) + len(value) > MAX_HEADER_BYTES:
            raise _problem(self.part_name, "max_length", f"フォームの項目の見出しは{MAX_HEADER_BYTES}バイトまでです。",
                           f"A form part's header may have at most {MAX_HEADER_BYTES} bytes.")


