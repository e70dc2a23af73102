"""The suite's own layout: every test file lies in a layer's folder and carries its marker, and the unit
layer refuses the database (tests/unit/conftest.py)."""

from pathlib import Path

import pytest

from tests.helpers.layers import LAYERS, TESTS, layer_of


@pytest.mark.parametrize("fixture", ["db", "migrated_database", "database_url", "core", "app", "make_case", "person"])
def test_a_unit_test_that_asks_for_the_database_fails(request, fixture):
    with pytest.raises(pytest.fail.Exception, match="tests/unit has no database"):
        request.getfixturevalue(fixture)


def test_a_test_is_marked_with_its_folders_layer(request):
    assert request.node.get_closest_marker("unit") is not None
    assert [layer for layer in LAYERS if request.node.get_closest_marker(layer)] == ["unit"]


def test_every_test_file_lies_in_a_layers_folder():
    files = sorted(TESTS.rglob("test_*.py"))
    assert files and {layer_of(path) for path in files} == set(LAYERS)
    assert [path for path in files if layer_of(path) is None] == []
    assert layer_of(Path(__file__)) == "unit"
