"""The web pages through TestClient: rendering for every role and the public, the forms (CSRF, 422, 409),
sign-in with its cookie flags, throttling and login-CSRF, sign-out (end to end in a real headless
Chromium: tests/browser/test_web.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api import web as web_pages
from tests.helpers.cases import snapshot
from tests.helpers.core import with_web_options
from tests.helpers.people import OTHER_BODY, PASSWORD, REVIEWING_BODY, SYSTEM
from workflow import accounts, service

HTTPS = "https://testserver"  # so that the client keeps and sends the Secure session cookie


# --- helpers ------------------------------------------------------------------------------------

def browser_client(app, **kwargs: Any) -> TestClient:
    return TestClient(app, base_url=HTTPS, raise_server_exceptions=True, follow_redirects=False, **kwargs)


@pytest.fixture
def web(app) -> Iterator[TestClient]:
    """A browser-like client with no account yet (cookies kept, redirects not followed)."""
    with browser_client(app) as client:
        yield client


def form_token(client: TestClient) -> str:
    page = client.get("/sign-in")
    assert page.status_code == 200
    return hidden(page.text, "form_token")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return unescape(match.group(1))


def sign_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return client.post("/sign-in", data={"email": email, "password": password, "form_token": form_token(client),
                                         **extra})


def signed_in(client: TestClient, email: str) -> str:
    """Sign the client in; returns the session's CSRF token (from the page's sign-out form)."""
    response = sign_in(client, email)
    assert response.status_code == 303, response.text
    return hidden(client.get("/").text, "csrf_token")


def event_forms(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="/assessments/\d+/events"[^>]*data-event="([^"]+)"', html)


def text_of(html: str) -> str:
    """The page's text, roughly: tags out, whitespace folded (for assertions on what a reader sees)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


# --- pages for each role and the public ---------------------------------------------------------

@pytest.fixture
def cases(make_case) -> dict[str, Any]:
    """Cases of the reviewing body and office 市民課 in several states, and one of another body/office."""
    return {
        "drafted": make_case("drafted", title="事務A 評価書作成中の案件", body=REVIEWING_BODY),
        "public_comment": make_case("public_comment", title="事務B 意見聴取中の案件", body=REVIEWING_BODY),
        "revised": make_case("revised", title="事務C 修正中の案件", body=REVIEWING_BODY),
        "published": make_case("published", title="事務D 公表済の案件", body=REVIEWING_BODY),
        "elsewhere": make_case("drafted", title="事務E 別の実施機関の案件", office="税務課", body=OTHER_BODY),
    }


#: role → (the header's role label, the case titles on the dashboard)
EXPECTED_VIEW = {
    "secretariat": ("事務局", {"drafted", "public_comment", "revised", "published", "elsewhere"}),
    "chair": ("部会長", {"drafted", "public_comment", "revised", "published"}),
    "member": ("委員", {"drafted", "public_comment", "revised", "published"}),
    "other_member": ("委員", {"public_comment", "published", "elsewhere"}),
    "office": ("実施機関（市民課）", {"drafted", "public_comment", "revised", "published"}),
    "other_office": ("実施機関（市民税課）", {"public_comment", "published"}),
    "admin": ("管理者", {"drafted", "public_comment", "revised", "published", "elsewhere"}),
}


@pytest.mark.parametrize("role", sorted(EXPECTED_VIEW))
def test_pages_render_for_each_role(app, person, cases, role):
    label, visible = EXPECTED_VIEW[role]
    with browser_client(app, headers=person(role).headers) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        text = text_of(page.text)
        assert f"{role} テスト" in text and label in text
        for name, case in cases.items():
            assert (case.title in text) == (name in visible), name
        for name, case in cases.items():
            response = client.get(f"/assessments/{case.id}")
            assert response.status_code == (200 if name in visible else 404), name
            if response.status_code == 200:
                assert case.title in response.text
                assert "経過" in response.text


def test_event_forms_follow_the_policy(app, person, cases):
    def forms(role: str, case: str) -> list[str]:
        with browser_client(app, headers=person(role).headers) as client:
            return event_forms(client.get(f"/assessments/{cases[case].id}").text)

    assert forms("secretariat", "drafted") == ["start_pre_check", "open_public_comment", "withdraw"]
    assert forms("secretariat", "revised") == ["open_public_comment", "submit_revision", "withdraw"]
    assert forms("office", "revised") == ["submit_revision"]  # only the office's own event
    assert forms("office", "drafted") == []
    for role in ("member", "chair", "admin"):
        assert forms(role, "drafted") == [] and forms(role, "revised") == [], role


def test_the_public_sees_published_cases_and_open_calls_only(public, cases):
    page = public.get("/")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "一般（未ログイン）" in text and "ログイン" in text
    shown = {name for name, case in cases.items() if case.title in text}
    assert shown == {"public_comment", "published"}
    assert "評価書作成中" not in text  # no count of cases the public may not see
    assert public.get(f"/assessments/{cases['drafted'].id}").status_code == 404
    open_call = public.get(f"/assessments/{cases['public_comment'].id}")
    assert open_call.status_code == 200
    assert event_forms(open_call.text) == []
    assert "経過は、事務局・担当の委員・当該実施機関のみ閲覧できます。" in open_call.text
    assert "令和7年4月1日（火）" in open_call.text  # the comment period, in the Japanese era


def test_dashboard_groups_counts_filters_and_flags_overdue_cases(app, person, make_case, clock):
    old = make_case("drafted", title="古い案件")
    clock.advance(days=91)  # drafted: target 90 days
    make_case("drafted", title="新しい案件")
    make_case("public_comment", title="意見募集の案件")
    with browser_client(app, headers=person("secretariat").headers) as client:
        page = client.get("/").text
        drafted = re.search(r'<tbody data-state="drafted">(.*?)</tbody>', page, re.S).group(1)
        assert "2件" in drafted
        old_row = re.search(rf'<tr data-case="{old.id}">(.*?)</tr>', drafted, re.S).group(1)
        assert "目標超過" in old_row and "91日／目標90日" in old_row and "令和7年6月2日（月）" in old_row
        new_row = re.search(r'<tr data-case="\d+">((?:(?!</tr>).)*新しい案件.*?)</tr>', drafted, re.S).group(1)
        assert "目標超過" not in new_row
        assert re.search(r'data-state="drafted"[^>]*>評価書作成中<span class="count">2</span>', page)
        assert re.search(r'data-state="public_comment"[^>]*>意見聴取中<span class="count">1</span>', page)
        assert "基礎項目評価及び全項目評価" in page and "市民課" in page

        filtered = client.get("/", params={"state": "public_comment"}).text
        assert "意見募集の案件" in filtered and "古い案件" not in filtered
        assert client.get("/", params={"state": "no_such_state"}).status_code == 200
        assert client.get("/", params={"offset": "-1"}).status_code == 404


def test_the_start_page_counts_every_state_in_one_query(app, person, make_case, db):
    """However many states the procedures have, the counts beside them are one grouped query (the page
    of cases is its own count and rows): the start page stays as quick at 100,000 cases as at ten."""
    from sqlalchemy import event

    for state in ("drafted", "public_comment", "subcommittee_review", "published"):
        make_case(state)
    reads: list[str] = []

    def seen(_connection, _cursor, statement, *_):
        if "FROM assessment" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    with browser_client(app, headers=person("secretariat").headers) as client:
        client.get("/")  # signs in and warms up
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            page = client.get("/")
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    assert len(reads) == 3, reads  # the counts by state, the page's total, the page's rows
    assert sum("GROUP BY" in statement for statement in reads) == 1
    assert re.search(r'data-state="published"[^>]*>公表済<span class="count">1</span>', page.text)


def test_consultations_are_listed_with_their_kind(app, db, workflows, clock, person):
    data = service.NewConsultation(title="コンビニ交付に係るオンライン結合について", office="市民課",
                                   consultation_type="online_coupling", body=REVIEWING_BODY)
    case = service.create_consultation(db, workflows, clock, data, SYSTEM)
    with browser_client(app, headers=person("secretariat").headers) as client:
        row = re.search(rf'<tr data-case="{case.id}">(.*?)</tr>', client.get("/").text, re.S).group(1)
        assert "諮問（オンライン結合）" in row and "諮問受付" in row
        page = client.get(f"/assessments/{case.id}").text
        assert "対象人数" not in page and "諮問（オンライン結合）" in page
        assert "start_deliberation" in event_forms(page)


def test_long_listings_are_paged(app, person, make_case, monkeypatch):
    monkeypatch.setattr(web_pages, "PAGE_SIZE", 2)
    for n in range(5):
        make_case("drafted", title=f"頁送りの案件{n}")
    with browser_client(app, headers=person("secretariat").headers) as client:
        first = client.get("/").text
        assert "5件中 1〜2件目" in text_of(first) and 'href="/?offset=2"' in first
        assert "頁送りの案件1" in first and "頁送りの案件2" not in first
        last = client.get("/", params={"offset": 4, "state": "drafted"}).text
        assert "5件中 5〜5件目" in text_of(last) and 'href="/?state=drafted&amp;offset=2"' in last
        assert "頁送りの案件4" in last and "頁送りの案件0" not in last


def test_english_by_query_and_then_by_cookie(app, person, make_case):
    case = make_case("public_comment")
    with browser_client(app, headers=person("secretariat").headers) as client:
        page = client.get("/", params={"lang": "en"})
        assert '<html lang="en">' in page.text and "Public comment" in page.text and "Secretariat" in page.text
        assert "shingi_lang=en" in page.headers["set-cookie"]
        case_page = client.get(f"/assessments/{case.id}").text  # the cookie keeps the language
        assert "Tue 1 Apr 2025" in case_page and "Close the public comment" in case_page
        assert '<html lang="ja">' in client.get("/", params={"lang": "ja"}).text


# --- firing events through the forms ------------------------------------------------------------

def test_a_form_fires_the_event_and_returns_to_the_case(web, user_with_password, make_case):
    case = make_case("drafted")
    csrf = signed_in(web, user_with_password("secretariat"))
    form = web.get(f"/assessments/{case.id}").text
    assert hidden(form, "expected_version") == str(case.version)
    response = web.post(f"/assessments/{case.id}/events", data={
        "event": "open_public_comment", "expected_version": case.version, "csrf_token": csrf,
        "comment_start": "2025-06-09", "comment_end": "2025-07-08", "shortened_reason": "", "note": "市のホームページで実施",
    })
    assert response.status_code == 303 and response.headers["location"] == f"/assessments/{case.id}"
    page = web.get(f"/assessments/{case.id}")
    text = text_of(page.text)
    assert "「意見聴取を開始する」を実行しました。" in text
    assert re.search(r'id="case-state">意見聴取中<', page.text)
    assert "評価書作成中 → 意見聴取中" in text and "市のホームページで実施" in text
    assert "令和7年6月9日（月）〜令和7年7月8日（火）" in text
    assert "実行しました" not in web.get(f"/assessments/{case.id}").text  # a flash is shown once
    assert service.get_assessment(web.app.state.services.db, case.id, SYSTEM).state == "public_comment"


def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(web, db, user_with_password, make_case):
    case = make_case("drafted")
    csrf = signed_in(web, user_with_password("secretariat"))
    before = snapshot(db, case.id)
    data = {"event": "open_public_comment", "expected_version": case.version,
            "comment_start": "2025-06-09", "comment_end": "2025-07-08"}
    for token in (None, "", "not-the-token", csrf[:-1]):
        sent = data if token is None else {**data, "csrf_token": token}
        response = web.post(f"/assessments/{case.id}/events", data=sent)
        assert response.status_code == 403, token
        assert response.headers["content-type"].startswith("text/html")
        assert "不正な送信" in response.text
    assert web.post("/sign-out").status_code == 403  # signing out is a change too
    assert snapshot(db, case.id) == before
    assert web.get("/").status_code == 200 and hidden(web.get("/").text, "csrf_token") == csrf  # still signed in


def test_field_problems_are_shown_next_to_the_fields(web, db, user_with_password, make_case):
    case = make_case("drafted")
    csrf = signed_in(web, user_with_password("secretariat"))
    before = snapshot(db, case.id)
    response = web.post(f"/assessments/{case.id}/events", data={
        "event": "open_public_comment", "expected_version": case.version, "csrf_token": csrf,
        "comment_start": "2025-07-08", "comment_end": "2025-06-09", "note": "メモ <b>",
    })
    assert response.status_code == 422
    form = re.search(r'data-event="open_public_comment">(.*?)</form>', response.text, re.S).group(1)
    field = re.search(r'<div class="field invalid">(.*?)</div>', form, re.S).group(1)
    assert 'name="comment_end"' in field and "意見聴取終了日は開始日以降の日付としてください。" in field
    assert 'value="2025-07-08"' in form and "メモ &lt;b&gt;" in form  # what was typed comes back, escaped
    assert "入力内容に誤りがあります" in response.text

    missing = web.post(f"/assessments/{case.id}/events", data={
        "event": "open_public_comment", "expected_version": case.version, "csrf_token": csrf})
    assert missing.status_code == 422 and missing.text.count("必須項目です。") == 2
    short = web.post(f"/assessments/{case.id}/events", data={
        "event": "open_public_comment", "expected_version": case.version, "csrf_token": csrf,
        "comment_start": "2025-06-09", "comment_end": "2025-06-20"})
    assert short.status_code == 422 and "原則30日以上" in short.text
    for note, message in (("長" * 2001, "2000文字以内で入力してください。"), ("a\x00b", "制御文字は使用できません。")):
        response = web.post(f"/assessments/{case.id}/events", data={
            "event": "start_pre_check", "expected_version": case.version, "csrf_token": csrf, "note": note})
        assert response.status_code == 422
        form = re.search(r'data-event="start_pre_check">(.*?)</form>', response.text, re.S).group(1)
        field = re.search(r'<div class="field invalid">(.*?)</div>', form, re.S).group(1)
        assert 'name="note"' in field and message in field
    assert snapshot(db, case.id) == before


def test_a_number_typed_in_a_form_is_a_number(web, db, user_with_password, make_case):
    """The service takes an event's numbers strictly (JSON's types); the page turns what was typed into one."""
    case = make_case("public_comment")
    csrf = signed_in(web, user_with_password("secretariat"))
    for typed in ("abc", "3.5", "１２"):
        refused = web.post(f"/assessments/{case.id}/events", data={
            "event": "close_public_comment", "expected_version": case.version, "csrf_token": csrf,
            "comment_count": typed})
        assert refused.status_code == 422 and "整数で入力してください。" in refused.text, typed
    done = web.post(f"/assessments/{case.id}/events", data={
        "event": "close_public_comment", "expected_version": case.version, "csrf_token": csrf, "comment_count": " 3 "})
    assert done.status_code == 303, done.text
    assert service.get_assessment(db, case.id, SYSTEM).comment_count == 3


def test_a_sign_in_with_control_characters_is_a_page(web, user_with_password):
    email = user_with_password("secretariat")
    response = sign_in(web, email + "\x00")
    assert response.status_code == 422 and "制御文字は使用できません。" in response.text
    assert "\x00" not in response.text
    assert sign_in(web, email).status_code == 303


def test_conflicts_are_shown_with_the_allowed_events(web, db, user_with_password, make_case):
    case = make_case("drafted")
    csrf = signed_in(web, user_with_password("secretariat"))
    before = snapshot(db, case.id)
    stale = web.post(f"/assessments/{case.id}/events", data={
        "event": "start_pre_check", "expected_version": case.version + 1, "csrf_token": csrf})
    assert stale.status_code == 409
    text = text_of(stale.text)
    assert "他の操作により更新されています" in text
    assert "現在実行できる手続：事前点検を開始する、意見聴取を開始する、取り下げる" in text
    not_now = web.post(f"/assessments/{case.id}/events", data={
        "event": "publish", "expected_version": case.version, "csrf_token": csrf,
        "submitted_on": "2025-05-26", "published_on": "2025-05-30"})
    assert not_now.status_code == 409 and "「評価書を提出し公表する」はできません" in not_now.text
    unknown = web.post(f"/assessments/{case.id}/events", data={
        "event": "no_such_event", "expected_version": "x", "csrf_token": csrf})
    assert unknown.status_code == 409
    bad_version = web.post(f"/assessments/{case.id}/events", data={
        "event": "start_pre_check", "expected_version": "x", "csrf_token": csrf})
    assert bad_version.status_code == 422 and "再読み込み" in bad_version.text
    assert snapshot(db, case.id) == before


def test_refusals_are_pages_not_json(app, public, person, make_case, db):
    case = make_case("public_comment")
    before = snapshot(db, case.id)
    with browser_client(app, headers=person("member").headers) as member:
        refused = member.post(f"/assessments/{case.id}/events", data={
            "event": "close_public_comment", "expected_version": case.version, "comment_count": "0"})
        assert refused.status_code == 403 and "この手続を行う権限がありません" in refused.text
    assert f'href="/sign-in?next=%2Fassessments%2F{case.id}"' in public.get(f"/assessments/{case.id}").text
    anonymous = public.post(f"/assessments/{case.id}/events", data={
        "event": "close_public_comment", "expected_version": case.version, "comment_count": "0"})
    assert anonymous.status_code == 401 and "ログインが必要です" in anonymous.text
    assert f"/sign-in?next=%2Fassessments%2F{case.id}" in anonymous.text
    for path in ("/assessments/999999", "/assessments/abc", "/assessments/0"):
        missing = public.get(path)
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html"), path
    assert snapshot(db, case.id) == before
    headers = public.get("/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


# --- sign-in and sign-out -----------------------------------------------------------------------

def _session_cookie(response: httpx.Response) -> str:
    cookies = [value for value in response.headers.get_list("set-cookie") if value.startswith("shingi_session=")]
    assert len(cookies) == 1, response.headers.get_list("set-cookie")
    return cookies[0]


def _attributes(cookie: str) -> dict[str, str]:
    """`name=value; HttpOnly; SameSite=lax` → {"httponly": "", "samesite": "lax"} (names lower-cased)."""
    pairs = (part.strip().partition("=") for part in cookie.split(";")[1:])
    return {name.lower(): value for name, _, value in pairs}


def test_sign_in_sets_an_httponly_samesite_lax_secure_cookie(web, user_with_password):
    email = user_with_password("secretariat")
    response = sign_in(web, email, next="/assessments/1")
    assert response.status_code == 303 and response.headers["location"] == "/assessments/1"
    cookie = _attributes(_session_cookie(response))
    assert "httponly" in cookie and cookie["samesite"].lower() == "lax" and "secure" in cookie and cookie["path"] == "/"
    assert 11 * 3600 < int(cookie["max-age"]) <= 12 * 3600
    page = web.get("/").text
    assert "secretariat ウェブ" in page and "事務局" in page and "ログアウト" in page
    assert "ログインしました。" in page


def test_the_secure_flag_can_be_turned_off_for_plain_http(app, user_with_password):
    with TestClient(app, follow_redirects=False) as client:  # http://testserver
        with_web_options(app, cookie_secure=False)  # as if started with Settings(cookie_secure=False)
        cookie = _attributes(_session_cookie(sign_in(client, user_with_password("member"))))
        assert "httponly" in cookie and cookie["samesite"].lower() == "lax" and "secure" not in cookie
        assert "委員" in client.get("/").text


def test_the_sign_in_form_is_protected_against_login_csrf(web, user_with_password):
    email = user_with_password("secretariat")
    token = form_token(web)
    for sent in ({}, {"form_token": ""}, {"form_token": token + "x"}):
        response = web.post("/sign-in", data={"email": email, "password": PASSWORD, **sent})
        assert response.status_code == 403 and "不正な送信" in response.text, sent
        assert "shingi_session=" not in str(response.headers.get_list("set-cookie"))
    with browser_client(web.app) as stranger:  # the right field but no cookie: a cross-site post
        response = stranger.post("/sign-in", data={"email": email, "password": PASSWORD, "form_token": token})
        assert response.status_code == 403
    form_cookie = next(v for v in web.get("/sign-in").headers.get_list("set-cookie") if v.startswith("shingi_form="))
    assert "HttpOnly" in form_cookie and "SameSite=strict" in form_cookie and "Path=/sign-in" in form_cookie


def test_signing_in_again_ends_the_previous_session(web, db, clock, user_with_password):
    signed_in(web, user_with_password("secretariat"))
    first = web.cookies.get("shingi_session")
    signed_in(web, user_with_password("member"))
    assert accounts.actor_from_session(db, clock, first, "test") is None
    assert "member ウェブ" in web.get("/").text


def test_a_wrong_password_shows_the_page_again(web, user_with_password):
    email = user_with_password("office")
    response = sign_in(web, email, "wrong password")
    assert response.status_code == 401
    assert "メールアドレスまたはパスワードが正しくありません。" in response.text
    assert f'value="{email}"' in response.text and PASSWORD not in response.text
    assert sign_in(web, "nobody@example.jp", "whatever").status_code == 401
    assert sign_in(web, "", "").status_code == 422
    assert sign_in(web, email, next="//evil.example/").headers["location"] == "/"


def test_ten_wrong_passwords_lock_the_sign_in(web, user_with_password):
    email = user_with_password("secretariat")
    statuses = [sign_in(web, email, f"wrong password {n}").status_code for n in range(10)]
    assert statuses == [401] * 9 + [429]
    response = sign_in(web, email)  # the right password, the eleventh attempt
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert "一時的に停止しています" in response.text and "約15分後" in response.text
    assert "shingi_session=" not in str(response.headers.get_list("set-cookie"))


def test_sign_out_ends_the_session(web, db, clock, user_with_password):
    csrf = signed_in(web, user_with_password("chair"))
    token = web.cookies.get("shingi_session")
    assert accounts.actor_from_session(db, clock, token, "test") is not None
    response = web.post("/sign-out", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert 'shingi_session=""' in _session_cookie(response)
    assert accounts.actor_from_session(db, clock, token, "test") is None
    page = web.get("/").text
    assert "ログアウトしました。" in page and "一般（未ログイン）" in page
    web.cookies.set("shingi_session", token, domain="testserver")  # the old cookie, replayed
    assert "一般（未ログイン）" in web.get("/").text

