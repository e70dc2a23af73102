"""Accounts in the service: the throttling of password sign-ins (tests/api/test_accounts.py: over HTTP)."""

import pytest

from tests.helpers.people import PASSWORD
from workflow import accounts


def test_the_lock_is_per_source(db, clock, secretariat_with_password):
    for attempt in range(10):
        with pytest.raises(accounts.SignInFailed if attempt < 9 else accounts.SignInLocked):
            accounts.sign_in(db, clock, secretariat_with_password, "wrong", "192.0.2.1")
    grant = accounts.sign_in(db, clock, secretariat_with_password, PASSWORD, "192.0.2.2")
    assert grant.actor.email == secretariat_with_password
