"""The web pages end to end in a real headless Chromium: the secretariat opens a public comment through
the case's form, a member sees the case but no event forms (tests/api/test_web.py: the pages through
TestClient).

These tests need the Debian package `chromium` (/usr/bin/chromium) and the Python package `playwright`
(its own browser downloads are never used). Without /usr/bin/chromium they are skipped, except in CI
(env CI set), where they must run and fail loudly.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.net import free_port
from tests.helpers.people import PASSWORD, REVIEWING_BODY

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"),
    reason="no /usr/bin/chromium (apt-get install chromium); these tests always run in CI",
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("CI needs the Debian package chromium (/usr/bin/chromium) for the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def served_app(app) -> Iterator[str]:
    """The app (on the test database and clock) served by uvicorn on 127.0.0.1 in a thread."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def page_of(chromium) -> Iterator[Callable[[], Any]]:
    contexts = []

    def new_page() -> Any:
        context = chromium.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def _browser_sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "ログインしました。" in page.inner_text(".flash")


@needs_browser
def test_browser_secretariat_opens_the_public_comment(served_app, page_of, user_with_password, make_case):
    case = make_case("drafted", title="ブラウザで進める案件", body=REVIEWING_BODY)
    page = page_of()
    _browser_sign_in(page, served_app, user_with_password("secretariat"))
    cookie = next(c for c in page.context.cookies() if c["name"] == "shingi_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert "事務局" in page.inner_text("header")

    page.click("text=ブラウザで進める案件")
    page.wait_for_url(f"{served_app}/assessments/{case.id}")
    assert page.inner_text("#case-state") == "評価書作成中"
    form = page.locator('form[data-event="open_public_comment"]')
    form.locator('input[name="comment_start"]').fill("2025-06-09")
    form.locator('input[name="comment_end"]').fill("2025-07-08")
    form.locator('textarea[name="note"]').fill("市のホームページ等で実施")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{served_app}/assessments/{case.id}")

    assert page.inner_text("#case-state") == "意見聴取中"
    assert "「意見聴取を開始する」を実行しました。" in page.inner_text(".flash")
    row = page.locator("#history tbody tr").last
    assert "意見聴取を開始する" in row.inner_text() and "市のホームページ等で実施" in row.inner_text()
    assert "評価書作成中 → 意見聴取中" in row.inner_text()
    assert page.locator('form[data-event="close_public_comment"]').count() == 1

    page.click("header button[type=submit]")  # ログアウト
    page.wait_for_url(f"{served_app}/")
    assert "ログアウトしました。" in page.inner_text(".flash")
    assert not [c for c in page.context.cookies() if c["name"] == "shingi_session"]


@needs_browser
def test_browser_member_sees_the_case_but_no_event_forms(served_app, page_of, user_with_password, make_case):
    case = make_case("subcommittee_review", title="委員が点検する案件", body=REVIEWING_BODY)
    page = page_of()
    _browser_sign_in(page, served_app, user_with_password("member"))
    assert "委員" in page.inner_text("header .viewer")
    page.goto(f"{served_app}/assessments/{case.id}")
    assert page.inner_text("#case-state") == "第三者点検中"
    assert page.locator("form.event-form").count() == 0
    assert "現在、あなたが実行できる手続はありません。" in page.inner_text("#events")
    assert page.locator("#history tbody tr").count() == 3  # created, opened, closed
    page.goto(f"{served_app}/?lang=en")
    assert "Third-party review" in page.inner_text("table.cases")
    assert "Member" in page.inner_text("header .viewer")
