"""The policy, walked endpoint by endpoint for every role and the public. This table is the
documentation of who may do what (see also the table in workflow/policy.py)."""

from dataclasses import dataclass
from typing import Any

import pytest

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from tests.helpers.policy import Multipart, assert_answer, role_table
from workflow import documents
from workflow.documents import Upload
from workflow.policy import Classification

PDF = b"%PDF-1.4\n% test\n"


@dataclass
class World:
    """A case under review (not public) and a published one, both reviewed by REVIEWING_BODY and
    belonging to 市民課, with a members-only and a public document."""

    review: Any
    revised: Any
    published: Any
    secret_document: Any
    public_document: Any


@pytest.fixture
def world(make_case, db, files, clock) -> World:
    review = make_case("subcommittee_review", body=REVIEWING_BODY)
    revised = make_case("revised", body=REVIEWING_BODY)
    published = make_case("published", body=REVIEWING_BODY)
    secret = documents.attach(db, files, clock, review.id, Upload("資料2 ログのイメージ", "log.pdf", PDF,
                                                                  Classification.MEMBERS_ONLY), SYSTEM, 10**6)
    public = documents.attach(db, files, clock, published.id, Upload("資料1 評価書", "hyoukasho.pdf", PDF,
                                                                     Classification.PUBLIC), SYSTEM, 10**6)
    return World(review, revised, published, secret, public)


def request(w: World) -> dict[str, tuple[str, str, Any]]:
    """endpoint name → (method, path, JSON body or a Multipart upload)."""
    new_case = {"title": "新しい評価", "office": "市民課", "target_count": 400_000, "handler_count": 10,
                "serious_incident": False}
    return {
        "create case": ("POST", "/api/assessments", new_case),
        "read review case": ("GET", f"/api/assessments/{w.review.id}", None),
        "read published case": ("GET", f"/api/assessments/{w.published.id}", None),
        "history of review case": ("GET", f"/api/assessments/{w.review.id}/history", None),
        "history of published case": ("GET", f"/api/assessments/{w.published.id}/history", None),
        "fire secretariat event": ("POST", f"/api/assessments/{w.review.id}/events",
                                   {"event": "request_revision", "expected_version": w.review.version}),
        "fire office event": ("POST", f"/api/assessments/{w.revised.id}/events",
                              {"event": "submit_revision", "expected_version": w.revised.version}),
        "upload document": ("POST", f"/api/assessments/{w.review.id}/documents",
                            Multipart(data={"title": "資料3 追加資料"},
                                      files={"file": ("tsuika.pdf", PDF, "application/pdf")})),
        "list review documents": ("GET", f"/api/assessments/{w.review.id}/documents", None),
        "describe members-only document": ("GET", f"/api/documents/{w.secret_document.id}", None),
        "read members-only document": ("GET", f"/api/documents/{w.secret_document.id}/content", None),
        "read public document": ("GET", f"/api/documents/{w.public_document.id}/content", None),
        "audit trail": ("GET", "/api/audit", None),
        "audit verify": ("GET", "/api/audit/verify", None),
        "audit checkpoint": ("POST", "/api/audit/checkpoint", None),
        "audit verify against a checkpoint": ("POST", "/api/audit/verify", {
            "seq": 0, "length": 0, "hash": "0" * 64, "at": "2025-06-02T09:00:00+09:00"}),
        "add user": ("POST", "/api/users", {"email": "new@example.jp", "display_name": "新任委員",
                                            "roles": ["member"], "bodies": {REVIEWING_BODY: "member"}}),
        "list users": ("GET", "/api/users", None),
        "create own token": ("POST", "/api/tokens", {"name": "script"}),
        "who am I": ("GET", "/api/me", None),
        "procedures": ("GET", "/api/procedures", None),
        "health": ("GET", "/health", None),
        "ready": ("GET", "/ready", None),
        # an operators' endpoint: no account opens it, the metrics token or a loopback client does
        # (tests/api/test_observability.py); these clients are neither
        "metrics": ("GET", "/metrics", None),
    }


#: endpoint → expected status for:  public, secretariat, chair, member, other_member, office, other_office, admin
TABLE: dict[str, tuple[int, ...]] = {
    "create case":                    (401, 201, 403, 403, 403, 403, 403, 403),
    "read review case":               (404, 200, 200, 200, 404, 200, 404, 200),
    "read published case":            (200, 200, 200, 200, 200, 200, 200, 200),
    "history of review case":         (404, 200, 200, 200, 404, 200, 404, 200),
    "history of published case":      (401, 200, 200, 200, 403, 200, 403, 200),
    "fire secretariat event":         (404, 200, 403, 403, 404, 403, 404, 403),
    "fire office event":              (404, 200, 403, 403, 404, 200, 404, 403),
    "upload document":                (404, 201, 403, 403, 404, 201, 404, 403),
    "list review documents":          (404, 200, 200, 200, 404, 200, 404, 200),
    "describe members-only document": (404, 200, 200, 200, 404, 404, 404, 404),
    "read members-only document":     (404, 200, 200, 200, 404, 404, 404, 404),
    "read public document":           (200, 200, 200, 200, 200, 200, 200, 200),
    "audit trail":                    (401, 200, 403, 403, 403, 403, 403, 200),
    "audit verify":                   (401, 200, 403, 403, 403, 403, 403, 200),
    "audit checkpoint":               (401, 200, 403, 403, 403, 403, 403, 200),
    "audit verify against a checkpoint": (401, 200, 403, 403, 403, 403, 403, 200),
    "add user":                       (401, 403, 403, 403, 403, 403, 403, 201),
    "list users":                     (401, 403, 403, 403, 403, 403, 403, 200),
    "create own token":               (401, 201, 201, 201, 201, 201, 201, 201),
    "who am I":                       (401, 200, 200, 200, 200, 200, 200, 200),
    "procedures":                     (200, 200, 200, 200, 200, 200, 200, 200),
    "health":                         (200, 200, 200, 200, 200, 200, 200, 200),
    "ready":                          (200, 200, 200, 200, 200, 200, 200, 200),
    "metrics":                        (403, 403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize(("endpoint", "role", "expected"), role_table(TABLE))
def test_endpoint_by_role(as_role, world, endpoint, role, expected):
    assert_answer(as_role(role, request(world)[endpoint]), expected)


#: Route templates whose role table lives in another module (tests/api/test_policy_*.py define POLICY_PATHS).
def _paths_covered_elsewhere() -> set[str]:
    import importlib
    from pathlib import Path

    covered: set[str] = set()
    for path in Path(__file__).parent.glob("test_policy_*.py"):
        covered |= set(getattr(importlib.import_module(f"{__package__}.{path.stem}"), "POLICY_PATHS", ()))
    return covered


def test_the_table_covers_every_api_route(app):
    """A new endpoint must be added to a role table (here or in a test_policy_*.py module)."""
    covered = {path for _, path, _ in request(World(*[type("X", (), {"id": 0, "version": 0})()] * 5)).values()}
    templates = {path for path in app.openapi()["paths"] if path.startswith(("/api", "/health", "/ready", "/metrics"))}
    assert len(templates) > 20  # the app's routes were found at all
    normalised = {path.replace("/0", "/{id}") for path in covered}
    elsewhere = _paths_covered_elsewhere()
    not_in_table = {
        path for path in templates
        if path.replace("{case_id}", "{id}").replace("{document_id}", "{id}") not in normalised
        and path not in elsewhere
    }
    # Routes whose rules are exercised by their own tests (sign-in, lists filtered by visibility, …).
    exercised_elsewhere = {
        "/api/assessments", "/api/session", "/api/tokens/{token_id}", "/api/users/{email}/disable",
        "/api/procedures/{name}", "/api/procedures/{name}/diagram", "/api/threshold",
    }
    assert not_in_table <= exercised_elsewhere, not_in_table - exercised_elsewhere


@pytest.mark.parametrize(("role", "expected_titles"), [
    ("public", {"published"}),
    ("secretariat", {"subcommittee_review", "revised", "published", "elsewhere"}),
    ("admin", {"subcommittee_review", "revised", "published", "elsewhere"}),
    ("chair", {"subcommittee_review", "revised", "published"}),
    ("member", {"subcommittee_review", "revised", "published"}),
    ("other_member", {"published"}),
    ("office", {"subcommittee_review", "revised", "published"}),
    ("other_office", {"published"}),
])
def test_listings_show_only_what_the_role_may_see(public, person, world, make_case, role, expected_titles):
    make_case("drafted", title="elsewhere", office="会計課")
    headers = {} if role == "public" else person(role).headers
    page = public.get("/api/assessments", headers=headers).json()
    seen = {case["title"] if case["title"] == "elsewhere" else case["state"] for case in page["items"]}
    assert seen == expected_titles
    assert page["total"] == len(page["items"])


@pytest.mark.parametrize("role", ["public", "other_member", "office", "other_office", "admin"])
def test_members_only_material_is_not_even_counted(public, person, world, role):
    headers = {} if role == "public" else person(role).headers
    response = public.get(f"/api/assessments/{world.review.id}/documents", headers=headers)
    titles = [d["title"] for d in response.json()] if response.status_code == 200 else []
    assert "資料2 ログのイメージ" not in titles
    assert response.status_code in (200, 404)
