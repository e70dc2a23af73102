"""The role-table harness of the endpoint tests (tests/api/test_policy*.py).

A module there writes what to send for each endpoint, and a table of endpoint → one expected status per
role (the columns of POLICY_ROLES); the harness turns the table into parameters and sends each request
as each role:

    @pytest.mark.parametrize(("endpoint", "role", "expected"), role_table(TABLE))
    def test_endpoint_by_role(as_role, world, endpoint, role, expected):
        assert_answer(as_role(role, request(world)[endpoint]), expected)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

#: The columns of every role table in tests/api/test_policy*.py, in order.
POLICY_ROLES = ("public", "secretariat", "chair", "member", "other_member", "office", "other_office", "admin")


def role_table(table: dict[str, tuple[int, ...]]) -> list[Any]:
    """pytest params (endpoint, role, expected status) from a table of endpoint → one status per role."""
    return [pytest.param(endpoint, role, expected, id=f"{endpoint} as {role}")
            for endpoint, statuses in table.items()
            for role, expected in zip(POLICY_ROLES, statuses, strict=True)]


def assert_answer(response: Any, expected: int) -> None:
    """The expected status, and a refusal in the one error shape with both languages."""
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert set(response.json()["error"]["message"]) == {"ja", "en"}


@dataclass(frozen=True)
class Multipart:
    """A form body with files (an upload), instead of JSON."""

    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)


#: What to send: (method, path, body), or a function that makes it (called once the role's person exists).
Request = tuple[str, str, Any] | Callable[[], tuple[str, str, Any]]


@pytest.fixture
def as_role(public, person) -> Callable[[str, Request], httpx.Response]:
    """as_role(role, (method, path, body)) → the response to the request sent as that role: by the
    person's API token, or with no account for "public"; the body is JSON, or a Multipart form."""

    def send(role: str, request: Request) -> httpx.Response:
        headers = {} if role == "public" else person(role).headers
        method, path, body = request() if callable(request) else request
        if isinstance(body, Multipart):
            return public.request(method, path, headers=headers, data=body.data, files=body.files)
        return public.request(method, path, headers=headers, json=body)

    return send
