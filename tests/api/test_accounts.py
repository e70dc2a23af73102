"""Accounts over HTTP: password sign-in with sessions and CSRF, throttling, API tokens, disabling, the CLI."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.helpers.core import with_web_options
from tests.helpers.people import PASSWORD, REVIEWING_BODY, SYSTEM
from workflow import accounts
from workflow.models import ApiToken, UserAccount
from workflow.organisations import EVERY_ORGANISATION


def sign_in(public, email, password):
    return public.post("/api/session", json={"email": email, "password": password})


def test_sign_in_sets_a_protected_session_cookie(public, secretariat_with_password):
    response = sign_in(public, "KANAMORI@example.jp", PASSWORD)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "shingi_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=lax" in cookie.lower()
    body = response.json()
    assert body["roles"] == ["secretariat"] and body["csrf_token"]


def test_secure_flag_can_be_turned_off_for_plain_http(public, secretariat_with_password, app):
    with_web_options(app, cookie_secure=False)
    assert "Secure" not in sign_in(public, secretariat_with_password, PASSWORD).headers["set-cookie"]


def test_a_session_must_prove_changes_with_its_csrf_token(public, secretariat_with_password, make_case):
    public.cookies.clear()
    grant = sign_in(public, secretariat_with_password, PASSWORD).json()
    case = make_case()
    body = {"event": "start_pre_check", "expected_version": case.version}
    refused = public.post(f"/api/assessments/{case.id}/events", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    wrong = public.post(f"/api/assessments/{case.id}/events", json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    accepted = public.post(f"/api/assessments/{case.id}/events", json=body,
                           headers={"X-CSRF-Token": grant["csrf_token"]})
    assert accepted.status_code == 200, accepted.text
    assert public.get("/api/me").json()["email"] == secretariat_with_password  # reads need no token


def test_sign_out_ends_the_session(public, secretariat_with_password):
    grant = sign_in(public, secretariat_with_password, PASSWORD).json()
    assert public.delete("/api/session", headers={"X-CSRF-Token": grant["csrf_token"]}).status_code == 204
    public.cookies.clear()
    assert public.get("/api/me").status_code == 401


def test_wrong_password_and_unknown_user_answer_alike(public, secretariat_with_password):
    wrong = sign_in(public, secretariat_with_password, "nope")
    unknown = sign_in(public, "nobody@example.jp", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_ten_wrong_passwords_lock_that_account_from_that_source(public, secretariat_with_password, clock):
    for attempt in range(9):
        assert sign_in(public, secretariat_with_password, f"wrong {attempt}").status_code == 401
    locked = sign_in(public, secretariat_with_password, "wrong 10")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    right_but_locked = sign_in(public, secretariat_with_password, PASSWORD)
    assert right_but_locked.status_code == 429
    assert "一時的に停止" in right_but_locked.json()["error"]["message"]["ja"]
    clock.advance(minutes=16)
    assert sign_in(public, secretariat_with_password, PASSWORD).status_code == 200


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(public, person, db):
    member = person("member")
    issued = public.post("/api/tokens", headers=member.headers, json={"name": "集計スクリプト", "days": 30})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("shg_")
    listed = public.get("/api/tokens", headers=member.headers).json()
    assert all("token" not in item for item in listed) and len(listed) == 2
    with db.reading(EVERY_ORGANISATION) as session:
        stored = session.exec(select(ApiToken.token_hash)).all()
    assert token not in stored and accounts.digest(token) in stored
    headers = {"Authorization": f"Bearer {token}"}
    assert public.get("/api/me", headers=headers).json()["email"] == member.email
    assert public.delete(f"/api/tokens/{issued.json()['id']}", headers=headers).json()["revoked_at"]
    refused = public.get("/api/me", headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("cache_seconds", [0, 60])  # a cached look-up expires with its token too
def test_expired_tokens_are_refused(public, db, clock, person, trust_tokens_for, cache_seconds):
    trust_tokens_for(cache_seconds)
    member = person("member")
    issued = accounts.create_token(db, clock, member.email, SYSTEM, lifetime=timedelta(days=1))
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert public.get("/api/me", headers=headers).status_code == 200
    clock.advance(days=1, seconds=1)
    assert public.get("/api/me", headers=headers).status_code == 401


def revoke_elsewhere(db, token):
    """What another instance does: the row changes, this process's cache is not told."""
    with db.writing(EVERY_ORGANISATION) as session:
        record = session.exec(select(ApiToken).where(ApiToken.token_hash == accounts.digest(token))).one()
        record.revoked_at = record.created_at
        session.add(record)


def test_a_token_revoked_by_another_instance_is_refused_within_the_cache_time(public, db, person, trust_tokens_for):
    trust_tokens_for(1.5)
    member = person("member")
    accounts.forget_cached_tokens()
    assert public.get("/api/me", headers=member.headers).status_code == 200  # looked up, then trusted 1.5 s
    revoke_elsewhere(db, member.token)
    assert public.get("/api/me", headers=member.headers).status_code == 200  # still within the cache time
    time.sleep(1.6)
    assert public.get("/api/me", headers=member.headers).status_code == 401


def test_without_the_cache_a_token_revoked_elsewhere_is_refused_at_once(public, db, person, trust_tokens_for):
    trust_tokens_for(0)
    member = person("member")
    assert public.get("/api/me", headers=member.headers).status_code == 200
    revoke_elsewhere(db, member.token)
    assert public.get("/api/me", headers=member.headers).status_code == 401


def test_disabling_a_user_refuses_their_cached_token_at_once(public, db, clock, person, trust_tokens_for):
    trust_tokens_for(60)
    member = person("member")
    assert public.get("/api/me", headers=member.headers).status_code == 200
    accounts.disable_user(db, clock, member.email, SYSTEM)
    assert public.get("/api/me", headers=member.headers).status_code == 401


def test_someone_elses_token_cannot_be_revoked(public, person):
    member, other = person("member"), person("other_member")
    mine = public.get("/api/tokens", headers=member.headers).json()[0]
    assert public.delete(f"/api/tokens/{mine['id']}", headers=other.headers).status_code == 404


def test_a_disabled_user_loses_sessions_and_tokens(public, person, db, clock, secretariat_with_password):
    member = person("member")
    admin = person("admin")
    response = public.post(f"/api/users/{member.email}/disable", headers=admin.headers)
    assert response.status_code == 200 and response.json()["disabled_at"]
    assert public.get("/api/me", headers=member.headers).status_code == 401


def test_members_need_a_body_and_offices_an_office(public, person):
    admin = person("admin")
    response = public.post("/api/users", headers=admin.headers,
                           json={"email": "x@example.jp", "display_name": "x", "roles": ["member"]})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "bodies"
    response = public.post("/api/users", headers=admin.headers,
                           json={"email": "not-an-email", "display_name": "x", "roles": ["secretariat"]})
    assert response.status_code == 422 and response.json()["error"]["fields"][0]["field"] == "email"
    response = public.post("/api/users", headers=admin.headers,
                           json={"email": "admin@example.jp", "display_name": "dup", "roles": ["admin"]})
    assert response.status_code == 409


def run_cli(db, *args, input_text=None):
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url}
    return subprocess.run([sys.executable, "-m", "shingi.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60, input=input_text)


def test_cli_users_and_tokens(db, clock, public):
    added = run_cli(db, "users", "add", "bukaicho@example.jp", "--role", "member", "--name", "多賀谷 部会長",
                    "--body", f"{REVIEWING_BODY}=chair", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    with db.reading(EVERY_ORGANISATION) as session:
        user = session.exec(select(UserAccount).where(UserAccount.email == "bukaicho@example.jp")).one()
    assert user.display_name == "多賀谷 部会長" and user.password_hash.startswith("$argon2")

    created = run_cli(db, "tokens", "create", "bukaicho@example.jp", "--days", "7")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    me = public.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["display_name"] == "多賀谷 部会長" and list(me["bodies"].values()) == ["chair"]

    disabled = run_cli(db, "users", "disable", "bukaicho@example.jp")
    assert disabled.returncode == 0
    assert public.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    duplicate = run_cli(db, "users", "add", "bukaicho@example.jp", "--role", "admin", "--password", PASSWORD)
    assert duplicate.returncode == 1 and "already registered" in duplicate.stderr
    unknown = run_cli(db, "tokens", "create", "nobody@example.jp")
    assert unknown.returncode == 1 and "No user" in unknown.stderr
