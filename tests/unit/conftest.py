"""The unit layer has no database: a unit test that asks for one (directly, or through `core`, `app`,
`make_case`, `person` …) fails at once, naming the layer it belongs to instead."""

import pytest

NO_DATABASE = ("tests/unit has no database: a test that needs `db` (or `core`, `app`, `make_case`, `person` …) "
               "belongs in tests/integration (services) or tests/api (HTTP)")


@pytest.fixture(scope="session")
def database_url():
    pytest.fail(NO_DATABASE, pytrace=False)


@pytest.fixture(scope="session")
def migrated_database():
    pytest.fail(NO_DATABASE, pytrace=False)


@pytest.fixture
def db():
    pytest.fail(NO_DATABASE, pytrace=False)


@pytest.fixture
def scratch_database():
    pytest.fail(NO_DATABASE, pytrace=False)
