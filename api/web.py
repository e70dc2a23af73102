"""The web pages: a server-rendered shell over workflow/, in Japanese first (English with ?lang=en).

Like the API routes, the handlers only parse, call a workflow service (which applies the policy) and
render; they never query the database themselves. Errors of the domain are shown as pages in the
visitor's language, never as JSON and never as a 500.

- `GET /` — the cases the viewer may see, grouped by state, with counts and the 目標超過 badge.
- `GET /assessments/{id}` — one case, the events this viewer may fire (one form each), its history.
- `POST /assessments/{id}/events` — fire an event from a form, then 303 back to the case page.
- `GET|POST /sign-in`, `POST /sign-out` — password sign-in into the same session cookie as the API.

CSRF: every state-changing form of a signed-in browser carries the session's token (checked by
api.auth.current_actor); the sign-in form itself carries a double-submit token (cookie `shingi_form`
and the hidden field `form_token`), so that no other site can sign a browser into an account.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import select_autoescape
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from api.auth import SESSION_COOKIE, ActorDep, CsrfFailed, client_source, session_cookie_options
from api.deps import Services, ServicesDep
from api.errors import status_of
from api.schemas.cases import AssessmentOut, assessment_out
from notifications import templating
from states.definition import EARLIEST_DATE, LATEST_DATE, EventSpec, InputSpec, Procedure
from workflow import accounts, service
from workflow.accounts import SignInFailed, SignInLocked
from workflow.cases import MAX_ID
from workflow.clock import TOKYO, local_today
from workflow.dates import english_date, wareki
from workflow.errors import Conflict, DomainError, FieldProblem, InvalidInput, Message, NotFound
from workflow.models import Assessment, HistoryEntry
from workflow.policy import ANONYMOUS, Action, Actor, Decision, Position, Role, decide
from workflow.service import AssessmentFilter
from workflow.threshold import LEVEL_TITLES, Level
from workflow.validation import Text2000, has_control_characters, validate

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

LANG_COOKIE = "shingi_lang"
FORM_COOKIE = "shingi_form"  # the sign-in form's double-submit token
FLASH_COOKIE = "shingi_flash"
LANGUAGES = ("ja", "en")
PAGE_SIZE = 100

_SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# --- words of the pages (the procedure data brings the titles of states, events and inputs) -----

_TEXT: dict[str, tuple[str, str]] = {
    "brand_sub": ("特定個人情報保護評価 審議管理", "Privacy impact assessment deliberations"),
    "dashboard": ("案件一覧", "Cases"),
    "dashboard_heading": ("案件の一覧（評価・諮問）", "Assessments and consultations"),
    "public_note": ("公表済みの評価書と、意見聴取（パブリックコメント）を実施中の案件を掲載しています。",
                    "Published assessment reports and assessments open for public comment."),
    "filter_by_state": ("状態で絞り込む", "Filter by state"),
    "all_states": ("すべて", "All"),
    "cases_count": ("{count}件", "{count}"),
    "col_id": ("番号", "No."),
    "col_title": ("件名", "Subject"),
    "col_state": ("状態", "State"),
    "col_level": ("評価の種類", "Assessment"),
    "consultation": ("諮問（{type}）", "Consultation ({type})"),
    "kind_assessment": ("特定個人情報保護評価", "Privacy impact assessment"),
    "kind_consultation": ("諮問", "Consultation"),
    "col_office": ("実施機関", "Office"),
    "col_entered": ("状態に入った日", "In this state since"),
    "col_days": ("経過日数", "Days in state"),
    "days": ("{days}日", "{days} d"),
    "days_of_target": ("{days}日／目標{target}日", "{days} of {target} d"),
    "overdue": ("目標超過", "Overdue"),
    "no_cases": ("該当する案件はありません。", "No cases."),
    "previous_page": ("前の{size}件", "Previous {size}"),
    "next_page": ("次の{size}件", "Next {size}"),
    "showing": ("{total}件中 {first}〜{last}件目", "{first}–{last} of {total}"),
    "sign_in": ("ログイン", "Sign in"),
    "sign_out": ("ログアウト", "Sign out"),
    "signed_in_as": ("ログイン中", "Signed in"),
    "sign_in_heading": ("ログイン", "Sign in"),
    "sign_in_lead": ("事務局・委員・実施機関の方は、登録されたメールアドレスとパスワードでログインしてください。",
                     "Secretariat, members and offices: sign in with your registered e-mail address and password."),
    "already_signed_in": ("{name} としてログインしています。", "You are signed in as {name}."),
    "email": ("メールアドレス", "E-mail address"),
    "password": ("パスワード", "Password"),
    "sign_in_missing": ("メールアドレスとパスワードを入力してください。", "Enter your e-mail address and password."),
    "signed_out": ("ログアウトしました。", "You have signed out."),
    "signed_in": ("ログインしました。", "You have signed in."),
    "event_done": ("「{event}」を実行しました。", "Done: {event}."),
    "back_to_list": ("案件一覧へ戻る", "Back to the cases"),
    "case_facts": ("案件の概要", "About this case"),
    "procedure": ("手続", "Procedure"),
    "version": ("版", "Version"),
    "cycle": ("周期", "Cycle"),
    "cycle_n": ("第{n}周期", "{n}"),
    "target_count": ("対象人数", "Persons in the file"),
    "handler_count": ("取扱者数", "Handlers"),
    "serious_incident": ("過去1年以内の重大事故", "Serious incident in the past year"),
    "persons": ("{count}人", "{count}"),
    "yes": ("あり", "yes"),
    "no": ("なし", "no"),
    "planned_holding_date": ("保有予定日", "Planned holding date"),
    "comment_period": ("意見聴取期間", "Public comment period"),
    "comment_shortened_reason": ("30日未満とする理由", "Reason for a shorter period"),
    "comment_count": ("提出された意見の数", "Comments received"),
    "comments": ("{count}件", "{count}"),
    "reported_on": ("部会報告日", "Reported to the plenary"),
    "submitted_on": ("個人情報保護委員会への提出日", "Submitted to the PPC"),
    "published_on": ("公表日", "Published"),
    "last_reviewed_on": ("直近の見直し実施日", "Last annual review"),
    "annual_review_due": ("次回見直し期限", "Next annual review due"),
    "reassessment_due": ("再実施期限", "Re-assessment due"),
    "withdrawn_reason": ("取下げの理由", "Reason for withdrawal"),
    "state_since": ("{date}から（{days}）", "since {date} ({days})"),
    "period": ("{start}〜{end}", "{start} – {end}"),
    "events_heading": ("手続を進める", "Next steps"),
    "events_none": ("現在、あなたが実行できる手続はありません。", "There is nothing you can do on this case now."),
    "event_to": ("実行後の状態: {state}", "Leads to: {state}"),
    "note": ("備考（経過に記録されます）", "Note (kept in the history)"),
    "optional": ("任意", "optional"),
    "required": ("必須", "required"),
    "choose": ("選択してください", "Choose"),
    "submit": ("実行する", "Carry out"),
    "history_heading": ("経過", "History"),
    "history_none": ("経過はまだありません。", "No history yet."),
    "history_hidden": ("経過は、事務局・担当の委員・当該実施機関のみ閲覧できます。",
                       "The history is shown to the secretariat, the reviewing members and the office only."),
    "col_at": ("日時", "When"),
    "col_event": ("手続", "Event"),
    "col_transition": ("状態の変化", "State"),
    "col_actor": ("実施者", "By"),
    "col_details": ("内容・備考", "Details"),
    "created": ("登録", "Registered"),
    "allowed_now": ("現在実行できる手続", "Allowed now"),
    "allowed_none": ("（なし）", "(none)"),
    "fix_fields": ("入力内容に誤りがあります。該当する項目を確認してください。", "Some inputs are not valid; see the marked fields."),
    "error_heading": ("エラー", "Error"),
    "not_found": ("ページが見つかりません", "Page not found"),
    "forbidden": ("この操作はできません", "Not allowed"),
    "sign_in_needed": ("ログインが必要です", "Please sign in"),
    "unavailable": ("一時的に利用できません", "Temporarily unavailable"),
    "bad_request": ("入力内容に誤りがあります", "Invalid request"),
    "to_sign_in": ("ログイン画面へ", "Go to sign-in"),
    "footer": ("shingi 審議 — 個人情報保護審議会の審議手続管理", "shingi — deliberation procedures of privacy councils"),
    "expected_version_bad": ("画面の情報が正しくありません。再読み込みしてからやり直してください。",
                             "The form is incomplete; reload the page and try again."),
    "role_secretariat": ("事務局", "Secretariat"),
    "role_member": ("委員", "Member"),
    "role_chair": ("部会長", "Chair"),
    "role_acting_chair": ("職務代理者", "Acting chair"),
    "role_office": ("実施機関", "Office"),
    "role_admin": ("管理者", "Administrator"),
    "role_system": ("システム", "System"),
    "public_viewer": ("一般（未ログイン）", "Public (not signed in)"),
    "language_other": ("English", "日本語"),
}

#: Kinds of consultation (諮問) other than an assessment.
_CONSULTATION_TYPES: dict[str, tuple[str, str]] = {
    "online_coupling": ("オンライン結合", "Online coupling"),
    "re_outsourcing": ("再委託", "Re-outsourcing"),
    "ordinance_amendment": ("条例改正", "Ordinance amendment"),
    "other": ("その他", "Other"),
}

#: Titles of what the history records besides an event's declared inputs.
_RECORDED: dict[str, tuple[str, str]] = {
    "title": ("事務の名称", "Work assessed"),
    "office": ("実施機関", "Office"),
    "target_count": ("対象人数", "Persons"),
    "handler_count": ("取扱者数", "Handlers"),
    "serious_incident": ("重大事故", "Serious incident"),
    "voluntary_level": ("任意で実施する評価", "Voluntary level"),
    "planned_holding_date": ("保有予定日", "Planned holding date"),
    "body": ("会議体", "Reviewing body"),
    "level": ("評価の種類", "Assessment"),
    "previous_level": ("従前の評価の種類", "Previous assessment"),
    "procedure": ("手続", "Procedure"),
    "previous_procedure": ("従前の手続", "Previous procedure"),
    "cycle": ("周期", "Cycle"),
    "annual_review_due": ("次回見直し期限", "Next annual review due"),
    "reassessment_due": ("再実施期限", "Re-assessment due"),
    "purged_documents": ("削除した委員限り資料", "Members-only documents deleted"),
    "kind": ("案件の種類", "Kind"),
    "consultation_type": ("諮問の種類", "Kind of consultation"),
}

_ROLE_ORDER = (Role.SECRETARIAT, Role.MEMBER, Role.OFFICE, Role.ADMIN, Role.SYSTEM)
_POSITION_ORDER = (Position.CHAIR, Position.ACTING_CHAIR, Position.MEMBER)


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(LANG_COOKIE)
    return kept if kept in LANGUAGES else "ja"


class Words:
    """What a template needs to speak the visitor's language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        ja, en = _TEXT[key]
        text = en if self.lang == "en" else ja
        return text.format(**values) if values else text

    def pick(self, text: Any) -> str:
        """A bilingual value ({ja, en} dict, Message, Text or (ja, en)) in the page's language."""
        if isinstance(text, Mapping):
            return str(text.get(self.lang) or text.get("ja"))
        if isinstance(text, tuple):
            return text[1] if self.lang == "en" else text[0]
        return str(getattr(text, self.lang))

    # Before `date`: in the class body below it, that name is the method, not the type.
    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(TOKYO).date()

    def date(self, day: date | str | None, *, weekday: bool = True) -> str:
        if day is None:
            return "—"
        if isinstance(day, str):
            day = date.fromisoformat(day)
        return english_date(day, weekday=weekday) if self.lang == "en" else wareki(day, weekday=weekday)

    def instant(self, instant: datetime) -> str:
        local = instant.astimezone(TOKYO)
        return f"{self.date(local.date())} {local:%H:%M}"

    def number(self, value: int) -> str:
        return f"{value:,}"

    def choice(self, spec: InputSpec, value: str) -> str:
        """A choice value as its procedure names it (the value itself when the file gives no title)."""
        return spec.choice_title(value).in_language(self.lang)


_environment = templating.environment(Path(TEMPLATES_DIR),
                                      autoescape=select_autoescape(enabled_extensions=("html",), default=True))


# --- rendering ----------------------------------------------------------------------------------

def _viewer(actor: Actor, words: Words) -> dict[str, Any]:
    roles: list[str] = []
    for role in _ROLE_ORDER:
        if not actor.has(role):
            continue
        if role is Role.MEMBER:
            positions = set(actor.bodies.values()) or {Position.MEMBER}
            roles.extend(words(f"role_{position}") for position in _POSITION_ORDER if position in positions)
        elif role is Role.OFFICE and actor.office:
            roles.append(f"{words('role_office')}（{actor.office}）" if words.lang == "ja"
                         else f"{words('role_office')} ({actor.office})")
        else:
            roles.append(words(f"role_{role}"))
    return {
        "signed_in": actor.signed_in,
        "name": actor.label if actor.signed_in else words("public_viewer"),
        "roles": roles,
        "via": actor.via,
        "csrf_token": actor.csrf_token or "",
    }


def _flash(request: Request, services: Services, words: Words) -> str | None:
    value = request.cookies.get(FLASH_COOKIE, "")
    kind, _, rest = value.partition(":")
    if kind in ("signed_out", "signed_in"):
        return words(kind)
    if kind == "done":
        procedure_name, _, event_name = rest.partition(":")
        procedure = services.workflows.procedures.get(procedure_name)
        event = procedure.events.get(event_name) if procedure else None
        if event is not None:
            return words("event_done", event=words.pick(event.title))
    return None


def _set_cookie(response: Response, services: Services, name: str, value: str, *, max_age: int,
                path: str = "/", samesite: Literal["lax", "strict"] = "lax") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite=samesite,
                        secure=services.options.cookie_secure)


def _switch_url(request: Request, here: str | None, lang: str) -> str:
    other = "en" if lang == "ja" else "ja"
    if here is not None:
        return f"{here}?{urlencode({'lang': other})}"
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return f"{request.url.path}?{urlencode([*query, ('lang', other)])}"


def render(request: Request, services: Services, actor: Actor, template: str, *, status: int = 200,
           here: str | None = None, headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse:
    """The page in the visitor's language; `here` is the GET address of the page (after a POST)."""
    lang = language(request)
    words = Words(lang)
    flash = _flash(request, services, words)
    page = here or request.url.path
    sign_in_url = "/sign-in" if page in ("/", "/sign-in") else f"/sign-in?{urlencode({'next': page})}"
    html = _environment.get_template(template).render(
        lang=lang, t=words, viewer=_viewer(actor, words), flash=flash,
        switch_url=_switch_url(request, here, lang), sign_in_url=sign_in_url, **context,
    )
    response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
    if request.query_params.get("lang") in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        _set_cookie(response, services, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=services.options.cookie_secure)
    return response


def _redirect(services: Services, location: str, flash: str | None = None) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    if flash:
        _set_cookie(response, services, FLASH_COOKIE, flash, max_age=60)
    return response


# --- errors as pages ----------------------------------------------------------------------------

def _display_actor(request: Request, services: Services) -> Actor:
    """Who the header names on an error page (display only: no CSRF check, nothing is done)."""
    token = request.cookies.get(SESSION_COOKIE)
    try:
        actor = accounts.actor_from_session(services.db, services.clock, token, client_source(request)) if token \
            else None
    except OperationalError:
        actor = None
    return actor or ANONYMOUS


def _error_page(request: Request, error: DomainError) -> HTMLResponse:
    services: Services = request.app.state.services
    status = status_of(error)
    heading = {401: "sign_in_needed", 403: "forbidden", 404: "not_found"}.get(status, "error_heading")
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, SignInLocked) else None
    sign_in = f"/sign-in?{urlencode({'next': _safe_next(_page_of(request))})}" if status == 401 else None
    return render(request, services, _display_actor(request, services), "error.html", status=status,
                  here=_page_of(request), headers=headers, heading=heading, message=error.message, sign_in=sign_in)


def _page_of(request: Request) -> str:
    """The GET page a request belongs to (a form's POST returns to its page)."""
    path = request.url.path
    if request.method != "POST" or path == "/sign-in":
        return path
    return path.removesuffix("/events") if path.endswith("/events") else "/"


class WebRoute(APIRoute):
    """Routes whose failures are pages: domain errors (also those of dependencies such as the CSRF
    check), malformed addresses and an unavailable database."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handle(request)
            except DomainError as error:
                response = await run_in_threadpool(_error_page, request, error)
            except RequestValidationError:  # a malformed address or query: there is no such page
                response = await run_in_threadpool(_error_page, request, _NotAPage())
            except OperationalError:
                response = _unavailable(request)
            for name, value in _SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page


class _NotAPage(NotFound):
    """A malformed address or query (e.g. /assessments/abc): shown as the page not being there."""

    code = "not_found"

    def __init__(self) -> None:
        super().__init__(Message("指定されたページは見つかりません。", "There is no such page."))


def _unavailable(request: Request) -> HTMLResponse:
    services: Services = request.app.state.services
    message = Message("データベースに接続できません。しばらくしてから再度お試しください。",
                      "The database is unavailable; try again shortly.")
    return render(request, services, ANONYMOUS, "error.html", status=503, here=_page_of(request),
                  headers={"Retry-After": "5"}, heading="unavailable", message=message, sign_in=None)


router = APIRouter(route_class=WebRoute, include_in_schema=False, default_response_class=HTMLResponse)


async def _form(request: Request) -> dict[str, str]:
    """The posted form's text fields (the first value of each)."""
    form = await request.form()
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name not in fields:
            fields[name] = value
    return fields


FormDep = Annotated[dict[str, str], Depends(_form)]
CaseId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


# --- dashboard ----------------------------------------------------------------------------------

def _state_order(services: Services) -> dict[str, Any]:
    """Every state name of the loaded procedures, in procedure order (fullest procedure first)."""
    titles: dict[str, Any] = {}
    for procedure in sorted(services.workflows.procedures.values(), key=lambda p: (-len(p.states), p.name)):
        for name, spec in procedure.states.items():
            titles.setdefault(name, spec.title.as_dict())
    return titles


def _kind_title(case: Assessment, words: Words) -> str:
    """評価の種類: the assessment's level, or the kind of consultation (諮問)."""
    if getattr(case, "kind", "assessment") == "consultation":
        kind = getattr(case, "consultation_type", None) or "other"
        return words("consultation", type=words.pick(_CONSULTATION_TYPES.get(kind, (kind, kind))))
    return _level_title(case.level, words) if case.level else "—"


def _row(case: Assessment, services: Services, words: Words, today: date) -> dict[str, Any]:
    view = assessment_out(case, services.workflows)
    entered = words.local_date(case.state_entered_at)
    days = (today - entered).days
    target = view.state_target_days
    return {
        **view.model_dump(),
        "kind_title": _kind_title(case, words),
        "entered": entered,
        "days": days,
        "overdue": target is not None and days > target,
    }


@router.get("/")
def dashboard(
    request: Request, services: ServicesDep, actor: ActorDep,
    state: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    titles = _state_order(services)
    state = state if state in titles else None
    found = service.count_by_state(services.db, actor)
    counts = {name: found.get(name, 0) for name in titles}
    page = service.list_assessments(services.db, AssessmentFilter(state=state), PAGE_SIZE, offset, actor)
    words = Words(language(request))
    today = local_today(services.clock)
    rows = [_row(case, services, words, today) for case in page.items]
    groups = [
        {"name": name, "title": title, "count": counts[name], "rows": [row for row in rows if row["state"] == name]}
        for name, title in titles.items()
    ]
    states = [{"name": name, "title": title, "count": counts[name]} for name, title in titles.items()
              if counts[name] or name == state or actor.signed_in]
    return render(
        request, services, actor, "dashboard.html",
        groups=[group for group in groups if group["rows"]], states=states, current_state=state,
        total=sum(counts.values()), page_total=page.total, offset=offset, page_size=PAGE_SIZE,
        shown=len(rows), page_url=_page_url(state),
    )


def _page_url(state: str | None) -> Callable[[int], str]:
    def url(offset: int) -> str:
        query = {key: value for key, value in (("state", state), ("offset", offset)) if value}
        return f"/?{urlencode(query)}" if query else "/"

    return url


# --- one case -----------------------------------------------------------------------------------

def _input_view(event: EventSpec, spec: InputSpec, words: Words, today: date, values: Mapping[str, str],
                problems: Mapping[str, list[str]]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": spec.name, "id": f"{event.name}-{spec.name}", "type": spec.type, "required": spec.required,
        "title": words.pick(spec.title), "value": values.get(spec.name, ""),
        "problems": problems.get(spec.name, []), "min": None, "max": None, "max_length": None, "choices": [],
    }
    if spec.type == "date":
        view["min"] = EARLIEST_DATE.isoformat()
        view["max"] = (today if spec.not_future else LATEST_DATE).isoformat()
    elif spec.type == "int":
        view["min"], view["max"] = spec.minimum, spec.maximum
    elif spec.type == "text":
        view["max_length"] = spec.max_length
    elif spec.type == "choice":
        view["choices"] = [(value, words.choice(spec, value)) for value in spec.choices]
    elif spec.type == "bool":
        view["value"] = spec.name in values and values[spec.name] != ""
    return view


def _event_form(event: EventSpec, procedure: Procedure, words: Words, today: date,
                failed: Mapping[str, Any] | None) -> dict[str, Any]:
    mine = failed if failed is not None and failed["event"] == event.name else None
    values: Mapping[str, str] = mine["values"] if mine is not None else {}
    problems: dict[str, list[str]] = {}
    general: list[str] = []
    declared = {spec.name for spec in event.inputs} | {"note"}
    for problem in (mine["problems"] if mine is not None else []):
        message = words.pick(problem.message)
        if problem.field in declared:
            problems.setdefault(problem.field, []).append(message)
        else:
            general.append(message)
    return {
        "name": event.name,
        "title": words.pick(event.title),
        "to": words.pick(procedure.states[event.target].title),
        "danger": event.target in procedure.states and procedure.states[event.target].kind == "terminal",
        "inputs": [_input_view(event, spec, words, today, values, problems) for spec in event.inputs],
        "note": values.get("note", ""),
        "note_problems": problems.get("note", []),
        "problems": general,
        "failed": mine is not None,
    }


def _facts(case: Assessment, view: AssessmentOut, words: Words) -> list[tuple[str, str]]:
    facts = [
        (words("col_office"), case.office),
        (words("col_level"), _kind_title(case, words)),
        (words("procedure"), words.pick(view.procedure_title)),
    ]
    if case.target_count is not None:  # the threshold judgment's inputs (assessments only)
        facts.append((words("target_count"), words("persons", count=words.number(case.target_count))))
    if case.handler_count is not None:
        facts.append((words("handler_count"), words("persons", count=words.number(case.handler_count))))
    if getattr(case, "kind", "assessment") != "consultation":
        facts.append((words("serious_incident"), words("yes") if case.serious_incident else words("no")))
    facts += [(words("cycle"), words("cycle_n", n=case.cycle)), (words("version"), str(case.version))]
    if case.planned_holding_date:
        facts.append((words("planned_holding_date"), words.date(case.planned_holding_date)))
    if case.comment_start or case.comment_end:
        facts.append((words("comment_period"),
                      words("period", start=words.date(case.comment_start), end=words.date(case.comment_end))))
    if case.comment_shortened_reason:
        facts.append((words("comment_shortened_reason"), case.comment_shortened_reason))
    if case.comment_count is not None:
        facts.append((words("comment_count"), words("comments", count=words.number(case.comment_count))))
    for name in ("reported_on", "submitted_on", "published_on", "last_reviewed_on", "annual_review_due",
                 "reassessment_due"):
        if getattr(case, name) is not None:
            facts.append((words(name), words.date(getattr(case, name))))
    if case.withdrawn_reason:
        facts.append((words("withdrawn_reason"), case.withdrawn_reason))
    return facts


def _recorded_value(name: str, value: Any, spec: InputSpec | None, words: Words) -> str:
    if isinstance(value, bool):
        return words("yes") if value else words("no")
    if isinstance(value, str) and ((spec is not None and spec.type == "date") or name.endswith(("_due", "_on"))
                                   or name in ("comment_start", "comment_end", "planned_holding_date")):
        try:
            return words.date(value)
        except ValueError:
            return value
    if isinstance(value, str) and spec is not None and spec.type == "choice":
        return words.choice(spec, value)
    if isinstance(value, int):
        return words.number(value)
    return str(value)


def _history_row(entry: HistoryEntry, services: Services, words: Words) -> dict[str, Any]:
    procedure = services.workflows.procedures.get(entry.procedure)
    event = procedure.events.get(entry.event) if procedure else None
    specs = {spec.name: spec for spec in event.inputs} if event else {}

    def state_title(name: str | None) -> str | None:
        if name is None:
            return None
        if procedure is not None and name in procedure.states:
            return words.pick(procedure.states[name].title)
        titles = _state_order(services)
        return words.pick(titles[name]) if name in titles else name

    details: list[tuple[str, str]] = []
    inputs = dict(entry.inputs or {})
    outcomes = inputs.pop("outcomes", None) or {}
    for name, value in [*inputs.items(), *outcomes.items()]:
        spec = specs.get(name)
        title = words.pick(spec.title) if spec else words.pick(_RECORDED[name]) if name in _RECORDED else name
        if name in ("level", "previous_level", "voluntary_level") and isinstance(value, str):
            value = _level_title(value, words)
        elif name in ("procedure", "previous_procedure") and value in services.workflows.procedures:
            value = words.pick(services.workflows.procedures[value].title)
        elif name == "consultation_type" and value in _CONSULTATION_TYPES:
            value = words.pick(_CONSULTATION_TYPES[value])
        elif name == "kind" and value in ("assessment", "consultation"):
            value = words(f"kind_{value}")
        details.append((title, _recorded_value(name, value, spec, words)))
    if entry.event == "created":
        title = words("created")
    elif event is not None:
        title = words.pick(event.title)
    else:
        title = entry.event
    return {
        "at": words.instant(entry.at), "event": title, "from": state_title(entry.from_state),
        "to": state_title(entry.to_state), "actor": entry.actor, "details": details, "note": entry.note,
        "cycle": entry.cycle, "version": entry.version,
    }


def _level_title(level: str, words: Words) -> str:
    try:
        return words.pick(LEVEL_TITLES[Level(level)])
    except ValueError:
        return level


def _case_page(request: Request, services: Services, actor: Actor, case_id: int, *, status: int = 200,
               failed: Mapping[str, Any] | None = None, conflict: Conflict | None = None) -> HTMLResponse:
    case = service.get_assessment(services.db, case_id, actor)
    view = assessment_out(case, services.workflows)
    procedure = services.workflows.procedure(case.procedure)
    words = Words(language(request))
    today = local_today(services.clock)
    forms = [
        _event_form(event, procedure, words, today, failed)
        for event in procedure.events_from(case.state)
        if decide(actor, Action.FIRE_EVENT, (case, event)) is Decision.ALLOW
    ]
    history = None
    if decide(actor, Action.READ_HISTORY, case) is Decision.ALLOW:
        history = [_history_row(entry, services, words) for entry in service.history(services.db, case_id, actor)]
    row = _row(case, services, words, today)
    problem: dict[str, str | list[str] | None] | None = None
    if conflict is not None:
        # A guard's refusal names no allowed events; they are then those of the state the case is in.
        allowed = conflict.allowed_events
        if allowed is None:
            allowed = service.allowed_events(procedure, case.state)
        problem = {"message": words.pick(conflict.message),
                   "allowed": [words.pick(event["title"]) for event in allowed]}
    elif failed is not None:
        problem = {"message": words("fix_fields"), "allowed": None}
    return render(
        request, services, actor, "assessment.html", status=status, here=f"/assessments/{case.id}",
        case=view, row=row, facts=_facts(case, view, words), forms=forms, history=history, problem=problem,
        csrf_token=actor.csrf_token or "",
    )


@router.get("/assessments/{case_id}")
def assessment_page(case_id: CaseId, request: Request, services: ServicesDep, actor: ActorDep) -> HTMLResponse:
    return _case_page(request, services, actor, case_id)


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _inputs_from_form(event: EventSpec | None, form: Mapping[str, str]) -> dict[str, Any]:
    """The event's declared inputs from the form: blanks left out, a checkbox ticked or not, whole
    numbers as numbers (the service takes JSON's types strictly; anything else in a number field
    stays text, which it refuses as not a whole number)."""
    inputs: dict[str, Any] = {}
    for spec in event.inputs if event else ():
        raw = form.get(spec.name)
        if spec.type == "bool":
            # An unticked box says "no" to a required question and "not given" to an optional one.
            if raw is not None and raw != "":
                inputs[spec.name] = True
            elif spec.required:
                inputs[spec.name] = False
        elif raw is not None and raw.strip() != "":
            number = spec.type == "int" and _WHOLE_NUMBER.fullmatch(raw.strip())
            inputs[spec.name] = int(raw) if number else raw
    return inputs


class _NoteForm(BaseModel):
    note: Text2000 | None = None


@router.post("/assessments/{case_id}/events")
def fire_event(case_id: CaseId, request: Request, services: ServicesDep, actor: ActorDep,
               form: FormDep) -> Response:
    event_name = form.get("event", "")[:64]
    failed = {"event": event_name, "values": form}
    case = service.get_assessment(services.db, case_id, actor)
    procedure_name = case.procedure  # a re-assessment may switch the procedure; the event is of this one
    event = services.workflows.procedure(procedure_name).events.get(event_name)
    # Whoever may not fire the event (or names none) gets the service's refusal, not a form's complaint.
    allowed = event is not None and decide(actor, Action.FIRE_EVENT, (case, event)) is Decision.ALLOW
    try:
        expected_version = int(form.get("expected_version", ""))
        if not 1 <= expected_version <= MAX_ID:
            raise ValueError(expected_version)
    except ValueError:
        if allowed:
            problem = FieldProblem("expected_version", "integer", Message(*_TEXT["expected_version_bad"]))
            return _case_page(request, services, actor, case_id, status=422, failed={**failed, "problems": [problem]})
        expected_version = case.version
    try:
        # The API checks the note in its request model; service.advance stores it as given.
        note = validate(_NoteForm, {"note": form.get("note") or None}).note if allowed else None
        case = service.advance(
            services.db, services.workflows, services.clock, case_id, event=event_name,
            expected_version=expected_version, inputs=_inputs_from_form(event, form), actor=actor, note=note,
            files=services.files,
        )
    except InvalidInput as error:
        return _case_page(request, services, actor, case_id, status=422,
                          failed={**failed, "problems": list(error.problems)})
    except Conflict as error:
        return _case_page(request, services, actor, case_id, status=409, conflict=error)
    return _redirect(services, f"/assessments/{case.id}", flash=f"done:{procedure_name}:{event_name}")


# --- sign-in and sign-out -----------------------------------------------------------------------

def _printable(text: str) -> str:
    """`text` without control characters (to show it back in a form)."""
    return "".join(ch for ch in text if not has_control_characters(ch))


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another host (`//evil`, `/\\evil`, `https://…`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(
            ord(ch) < 32 for ch in target) or len(target) > 500:
        return "/"
    return target


def _form_token(request: Request) -> str:
    token = request.cookies.get(FORM_COOKIE, "")
    return token if 32 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum() else \
        secrets.token_urlsafe(32)


def _sign_in_page(request: Request, services: Services, actor: Actor, *, status: int = 200,
                  message: str | None = None, email: str = "", next_page: str = "/",
                  headers: Mapping[str, str] | None = None) -> HTMLResponse:
    token = _form_token(request)
    response = render(request, services, actor, "sign_in.html", status=status, here="/sign-in", headers=headers,
                      form_token=token, message=message, email=email, next_page=next_page)
    _set_cookie(response, services, FORM_COOKIE, token, max_age=2 * 3600, path="/sign-in", samesite="strict")
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, services: ServicesDep, actor: ActorDep,
                 next: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    return _sign_in_page(request, services, actor, next_page=_safe_next(next))


@router.post("/sign-in")
def sign_in(request: Request, services: ServicesDep, form: FormDep) -> Response:
    words = Words(language(request))
    next_page = _safe_next(form.get("next"))
    email = form.get("email", "").strip()[:254]
    password = form.get("password", "")
    sent, kept = form.get("form_token", ""), request.cookies.get(FORM_COOKIE, "")
    if not sent or not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        return _sign_in_page(request, services, ANONYMOUS, status=403, message=words.pick(CsrfFailed().message),
                             email=email, next_page=next_page)
    if not email or not password:
        return _sign_in_page(request, services, ANONYMOUS, status=422, message=words("sign_in_missing"),
                             email=email, next_page=next_page)
    try:
        validate(accounts.Credentials, {"email": email, "password": password})
    except InvalidInput as invalid:  # too long, or control characters (never sent to the database)
        problem = invalid.problems[0]
        return _sign_in_page(request, services, ANONYMOUS, status=422,
                             message=f"{words(problem.field)}: {words.pick(problem.message)}",
                             email=_printable(email), next_page=next_page)
    try:
        grant = accounts.sign_in(services.db, services.clock, email, password, client_source(request))
    except SignInLocked as error:
        return _sign_in_page(request, services, ANONYMOUS, status=429, message=words.pick(error.message),
                             email=email, next_page=next_page, headers={"Retry-After": str(error.retry_after)})
    except SignInFailed as error:
        return _sign_in_page(request, services, ANONYMOUS, status=401, message=words.pick(error.message),
                             email=email, next_page=next_page)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:  # a browser signing in again (perhaps as someone else) leaves no live session behind
        holder = accounts.actor_from_session(services.db, services.clock, previous, client_source(request))
        if holder is not None:
            accounts.sign_out(services.db, services.clock, previous, holder)
    response = _redirect(services, next_page, flash="signed_in")
    # As api/routes/accounts.py does, with two amendments: the date in UTC (as a cookie's must be; the
    # clock may run in Tokyo), and Max-Age, which browsers prefer, so that a client whose clock differs
    # from the server's (or a test clock) keeps the session for its real lifetime.
    lifetime = int((grant.expires_at - services.clock.now()).total_seconds())
    response.set_cookie(SESSION_COOKIE, grant.token, expires=grant.expires_at.astimezone(UTC),
                        max_age=max(lifetime, 0), **session_cookie_options(services))
    response.delete_cookie(FORM_COOKIE, path="/sign-in", httponly=True, samesite="strict",
                           secure=services.options.cookie_secure)
    return response


@router.post("/sign-out")
def sign_out(request: Request, services: ServicesDep, actor: ActorDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and actor.via == "session":
        accounts.sign_out(services.db, services.clock, token, actor)
    response = _redirect(services, "/", flash="signed_out")
    response.delete_cookie(SESSION_COOKIE, **session_cookie_options(services))
    return response
