"""A second organisation beside the first (organisation 1, the tests' default), and its people."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.helpers.people import ROLES
from workflow import accounts
from workflow.organisations import Organisation
from workflow.policy import system_actor


@pytest.fixture
def second(db) -> Organisation:
    return accounts.add_organisation(db, accounts.NewOrganisation(code="402010", name="乙市", head_title="乙市長"))


@pytest.fixture
def foreigner(db, clock, second) -> Callable[[str], dict[str, str]]:
    """foreigner("member") → the Authorization header of that role's person in the second organisation."""
    made: dict[str, dict[str, str]] = {}
    operator = system_actor("運用者", organisation_id=second.id)

    def get(role: str) -> dict[str, str]:
        if role not in made:
            email = f"otsu-{role}@example.jp"
            accounts.add_user(db, clock, accounts.NewUser(email=email, display_name=f"乙市 {role}", **ROLES[role]),
                              operator)
            issued = accounts.create_token(db, clock, email, operator, name="tests", lifetime=timedelta(days=3650))
            made[role] = {"Authorization": f"Bearer {issued.token}"}
        return made[role]

    return get
