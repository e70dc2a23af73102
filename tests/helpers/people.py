"""People: one user per role the policy knows (`person`), the clients that act for them, users who sign
in with a password, and the actors of service-level tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from workflow import accounts
from workflow.clock import FixedClock
from workflow.db import Database
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import system_actor

#: The actor of service-level tests: the system acting for the secretariat.
SYSTEM = system_actor("事務局 テスト")

REVIEWING_BODY = "テスト市情報公開・個人情報保護審議会 特定個人情報保護評価部会"
OTHER_BODY = "別市個人情報保護審議会"

#: The password of every user made to sign in (sign-in forms, sessions, the browser).
PASSWORD = "correct horse battery staple"

#: One person per role the policy knows, and the ones it must keep out.
ROLES: dict[str, dict[str, Any]] = {
    "secretariat": {"roles": {"secretariat"}},
    "chair": {"roles": {"member"}, "bodies": {REVIEWING_BODY: "chair"}},
    "member": {"roles": {"member"}, "bodies": {REVIEWING_BODY: "member"}},
    "other_member": {"roles": {"member"}, "bodies": {OTHER_BODY: "member"}},
    "office": {"roles": {"office"}, "office": "市民課"},
    "other_office": {"roles": {"office"}, "office": "市民税課"},
    "admin": {"roles": {"admin"}},
}


@dataclass
class Person:
    role: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def person(db: Database, clock: FixedClock) -> Callable[[str], Person]:
    """person("member") → a user of that role with an API token (made on first use)."""
    made: dict[str, Person] = {}

    def get(role: str) -> Person:
        if role not in made:
            email = f"{role.replace('_', '-')}@example.jp"
            accounts.add_user(db, clock, accounts.NewUser(email=email, display_name=f"{role} テスト", **ROLES[role]),
                              SYSTEM)
            issued = accounts.create_token(db, clock, email, SYSTEM, name="tests", lifetime=timedelta(days=3650))
            made[role] = Person(role, email, issued.token)
        return made[role]

    return get


@pytest.fixture
def public(app) -> Iterator[TestClient]:
    """A client with no account: the public (over HTTPS, so that Secure cookies are kept)."""
    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def client(app, person) -> Iterator[TestClient]:
    """A client signed in (by API token) as the secretariat."""
    with TestClient(app, raise_server_exceptions=False, headers=person("secretariat").headers) as test_client:
        yield test_client


# --- users who sign in with a password ----------------------------------------------------------

@pytest.fixture
def secretariat_with_password(db, clock):
    accounts.add_user(db, clock, accounts.NewUser(email="Kanamori@Example.jp", display_name="金森 室長",
                                                  password=PASSWORD, roles={"secretariat"}), SYSTEM)
    return "kanamori@example.jp"


@pytest.fixture
def user_with_password(db, clock) -> Callable[[str], str]:
    """user_with_password("secretariat") → the e-mail of a user of that role who signs in with PASSWORD."""

    def make(role: str) -> str:
        email = f"web-{role.replace('_', '-')}@example.jp"
        accounts.add_user(db, clock, accounts.NewUser(email=email, display_name=f"{role} ウェブ", password=PASSWORD,
                                                      **ROLES[role]), SYSTEM)
        return email

    return make


# --- actors of service-level tests --------------------------------------------------------------

@pytest.fixture
def user_actor(db, clock):
    """user_actor("佐々木委員", roles={"member"}, bodies={REVIEWING_BODY: "member"}) → the Actor of a new user."""
    numbers = itertools.count(1)

    def make(name: str, **account):
        user = accounts.add_user(db, clock, accounts.NewUser(email=f"user{next(numbers)}@example.jp",
                                                             display_name=name, **account), SYSTEM)
        with db.reading(EVERY_ORGANISATION) as session:
            return accounts.actor_for(session, session.get(UserAccount, user.id))

    return make


@pytest.fixture
def office(user_actor):
    """The office of the test cases (tests.helpers.cases.FULL: 市民課)."""
    return user_actor("市民課 担当", roles={"office"}, office="市民課")


@pytest.fixture
def member(user_actor):
    return user_actor("櫻井委員", roles={"member"}, bodies={REVIEWING_BODY: "member"})
