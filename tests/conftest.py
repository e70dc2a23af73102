"""The suite's layers, one folder each, each runnable alone (`python -m pytest tests/unit`):

- tests/unit: no database (pure functions, tables, files, the code's own structure);
- tests/integration: the services on a real database (SQLite, or PostgreSQL), no HTTP;
- tests/api: HTTP through TestClient;
- tests/browser: the pages in a real headless Chromium (Playwright);
- tests/acceptance: the seed replays, `shingi serve` / `shingi worker` as processes, SMTP, reminder moments.

Every test is marked with its folder's layer (`-m unit`, `-m "not acceptance"` …). The fixtures and
factories live in tests/helpers, loaded here as a plugin: a test gets fixtures by name only and
imports plain helpers from `tests.helpers…`.
"""

from __future__ import annotations

import hypothesis
import pytest

# Before the helpers are imported, so that their asserts explain themselves as the tests' do.
pytest.register_assert_rewrite("tests.helpers")

from tests.helpers.layers import LAYERS, TESTS, layer_of  # noqa: E402  (after the rewrite is registered)

pytest_plugins = [
    "tests.helpers.database",
    "tests.helpers.core",
    "tests.helpers.people",
    "tests.helpers.cases",
    "tests.helpers.policy",
    "tests.helpers.records",
    "tests.helpers.meetings",
    "tests.helpers.minutes",
    "tests.helpers.public_comments",
    "tests.helpers.report_versions",
    "tests.helpers.reminders",
    "tests.helpers.organisations",
]

# Property tests check properties, not speed: a loaded 2-core CI machine must not fail them on time.
hypothesis.settings.register_profile("shingi", deadline=None, print_blob=True)
hypothesis.settings.load_profile("shingi")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of tests/ with its layer; a test of tests/ outside the layers' folders is refused."""
    outside = []
    for item in items:
        if not item.path.resolve().is_relative_to(TESTS):
            continue
        layer = layer_of(item.path)
        if layer is None:
            outside.append(item.nodeid)
        else:
            item.add_marker(getattr(pytest.mark, layer))
    if outside:
        raise pytest.UsageError(f"tests outside tests/{{{','.join(LAYERS)}}}: {', '.join(outside)}")
