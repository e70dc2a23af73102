"""The test suite, in layers (tests/unit, tests/integration, tests/api, tests/browser, tests/acceptance),
with the shared fixtures and factories in tests/helpers (a pytest plugin, see tests/conftest.py)."""
