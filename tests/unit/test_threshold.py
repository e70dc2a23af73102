"""しきい値判断: the table of DOMAIN.md at every boundary."""

import pytest

from workflow.threshold import Level, judge, required_level

LIGHT = (499, False)   # fewer than 500 handlers, no serious incident
MANY = (500, False)    # 500 handlers or more
INCIDENT = (10, True)  # a serious incident in the past year


@pytest.mark.parametrize(("target_count", "light", "heavy"), [
    (0, Level.NONE, Level.NONE),
    (999, Level.NONE, Level.NONE),
    (1_000, Level.BASIC, Level.BASIC),
    (9_999, Level.BASIC, Level.BASIC),
    (10_000, Level.BASIC, Level.FOCUSED),
    (99_999, Level.BASIC, Level.FOCUSED),
    (100_000, Level.FOCUSED, Level.FULL),
    (299_999, Level.FOCUSED, Level.FULL),
    (300_000, Level.FULL, Level.FULL),
    (123_456_789, Level.FULL, Level.FULL),
])
def test_table_at_each_boundary(target_count, light, heavy):
    assert required_level(target_count, *LIGHT) is light
    assert required_level(target_count, *MANY) is heavy
    assert required_level(target_count, *INCIDENT) is heavy


def test_handlers_boundary_is_500():
    assert required_level(50_000, 499, False) is Level.BASIC
    assert required_level(50_000, 500, False) is Level.FOCUSED
    assert required_level(200_000, 499, False) is Level.FOCUSED
    assert required_level(200_000, 500, False) is Level.FULL


def test_incident_alone_raises_the_level():
    assert required_level(50_000, 0, False) is Level.BASIC
    assert required_level(50_000, 0, True) is Level.FOCUSED


@pytest.mark.parametrize(("voluntary", "expected"), [
    (None, Level.BASIC), ("basic", Level.BASIC), ("focused", Level.FOCUSED), ("full", Level.FULL),
])
def test_voluntary_level_only_raises(voluntary, expected):
    assert judge(5_000, 10, False, voluntary) is expected


def test_voluntary_level_never_lowers():
    assert judge(400_000, 10, False, "basic") is Level.FULL


def test_voluntary_level_makes_an_optional_assessment():
    assert judge(500, 10, False) is Level.NONE
    assert judge(500, 10, False, "basic") is Level.BASIC


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        required_level(-1, 0, False)
