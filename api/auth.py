"""Who is asking: an API token (Authorization: Bearer), a browser session (cookie), or the public.

A browser session must prove each change with its CSRF token (header X-CSRF-Token, or the form
field csrf_token); a token-authenticated program needs none, since no browser sends its token.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from api.deps import Services, ServicesDep
from workflow import accounts
from workflow.errors import DomainError, Message
from workflow.policy import ANONYMOUS, Actor

SESSION_COOKIE = "shingi_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(DomainError):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(Message("フォームの有効期限が切れたか、不正な送信です。画面を再読み込みしてやり直してください。",
                                 "The form has expired or was not sent from this site; reload the page and try again."))


class InvalidToken(DomainError):
    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__(Message("APIトークンが無効です（失効・期限切れ・誤り）。", "The API token is not valid (revoked, expired or wrong)."))


#: What the audit trail and the sign-in throttle keep of where a request came from (their columns' length).
MAX_SOURCE = 64


def client_source(request: Request) -> str:
    """The client's address. Behind a proxy it comes from X-Forwarded-For (the server's proxy headers),
    which is text any client writes: bounded to what the columns hold."""
    return request.client.host[:MAX_SOURCE] if request.client else "unknown"


async def _form_csrf(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def current_actor(request: Request, services: ServicesDep) -> Actor:
    source = client_source(request)
    authorization = request.headers.get("authorization", "")
    # The look-ups below are short blocking reads done on the event loop: moving them to the thread
    # pool was measured to cost 2.4 ms of server CPU per request (bench/transitions.py), more than
    # they block the loop.
    if authorization.lower().startswith("bearer "):
        actor = accounts.actor_from_token(services.db, services.clock, authorization[7:].strip(), source,
                                         cache_seconds=services.options.token_cache_seconds)
        if actor is None:
            raise InvalidToken()
        return actor
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        actor = accounts.actor_from_session(services.db, services.clock, cookie, source)
        if actor is not None:
            if request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER) or await _form_csrf(request)
                if not sent or not _same(sent, actor.csrf_token):
                    raise CsrfFailed()
            return actor
    return Actor(user_id=None, label=ANONYMOUS.label, source=source)


def _same(sent: str, expected: str | None) -> bool:

    return expected is not None and hmac.compare_digest(sent.encode(), expected.encode())


ActorDep = Annotated[Actor, Depends(current_actor)]


def session_cookie_options(services: Services) -> dict:
    return {"httponly": True, "secure": services.options.cookie_secure, "samesite": "lax", "path": "/"}
