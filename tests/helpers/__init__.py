"""Shared fixtures and factories, loaded as a pytest plugin by tests/conftest.py (`pytest_plugins`).

Test modules get fixtures by name only (never by import) and import plain functions and constants
from here, e.g. `from tests.helpers.people import REVIEWING_BODY, SYSTEM`.

- database: the test database (a SQLite file, or PostgreSQL) and `db`, emptied after every test; other,
  empty databases from `scratch_database`;
- core: the clock, the files, the services (`core`), the app, the scheduler's jobs and their steps;
- people: one user per role (`person`), the clients (`public`, `client`), users with passwords;
- cases: `make_case` in any state of any procedure, `fire`, `prepare_for`, `snapshot`;
- policy: the role-table harness of the endpoint tests (tests/api/test_policy*.py);
- records, meetings, minutes, public_comments, report_versions, reminders: the record factories;
- papers, documents, mail, net: plain helpers (no fixtures);
- layers: the layers' folders and markers (read by tests/conftest.py).
"""
