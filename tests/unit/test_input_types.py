"""The input types of workflow/validation.py: text without control characters (a pattern the schema
carries), integers that are numbers and fit the 32-bit columns, flags that are booleans, instants within
the dates the service keeps. No database: these are the rules every request model is made of."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, StrictBool, TypeAdapter, ValidationError

from states.definition import EventSpec, InputSpec, Text
from workflow.validation import (
    JSON_INTEGER,
    MAX_INT,
    NO_CONTROL_CHARACTERS,
    NOT_BLANK,
    RecordInstant,
    Text64,
    Text64OrEmpty,
    input_model,
    problems_from_validation_error,
)


def _problem(adapter: TypeAdapter[Any], value: Any) -> tuple[str, str]:
    with pytest.raises(ValidationError) as refused:
        adapter.validate_python(value)
    (problem,) = problems_from_validation_error(refused.value)
    return problem.field, problem.rule


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "x\x1f", "a\x0bb", "a\x0cb", "\x08"])
def test_control_characters_are_refused_by_name(text):
    assert _problem(TypeAdapter(Text64), text) == ("body", "no_control_characters")


@pytest.mark.parametrize("text", ["改行\nあり", "タブ\tあり", "復帰\r\nあり", "絵文字🙂"])
def test_line_breaks_and_tabs_are_text(text):
    assert TypeAdapter(Text64).validate_python(text) == text


def test_the_schema_carries_the_pattern():
    schema = TypeAdapter(Text64).json_schema()
    assert schema == {"type": "string", "pattern": NOT_BLANK, "minLength": 1, "maxLength": 64}
    assert TypeAdapter(Text64OrEmpty).json_schema()["pattern"] == NO_CONTROL_CHARACTERS


# White space: what the schema says is what is taken. The length is the text's as sent (the schema's
# maxLength), and text of white space alone is empty (the schema's pattern) — then the white space
# around the text goes.

@pytest.mark.parametrize(("sent", "kept"), [("  諮問  ", "諮問"), ("\u3000第三者点検\u3000", "第三者点検"),
                                            ("\n資料1\t", "資料1"), ("a" * 64, "a" * 64)])
def test_white_space_around_text_goes(sent, kept):
    assert TypeAdapter(Text64).validate_python(sent) == kept


@pytest.mark.parametrize("sent", [" ", "\u3000\u3000", "\n\t", "\u00a0"])
def test_white_space_alone_is_empty_by_the_schemas_pattern(sent):
    assert _problem(TypeAdapter(Text64), sent) == ("body", "not_empty")
    assert re.fullmatch(NOT_BLANK, sent) is None
    assert TypeAdapter(Text64OrEmpty).validate_python(sent) == ""


def test_the_length_is_counted_as_sent():
    """A text of 65 characters is refused though 60 of them are spaces: the schema's maxLength is 64."""
    assert _problem(TypeAdapter(Text64), "題名" + " " * 63) == ("body", "max_length")


@given(st.text(max_size=80))
def test_the_schema_and_the_validator_agree(text):
    """Whatever the text, the schema's pattern and lengths admit it exactly when the validator does."""
    by_schema = 1 <= len(text) <= 64 and re.fullmatch(NOT_BLANK, text) is not None
    try:
        TypeAdapter(Text64).validate_python(text)
        by_validator = True
    except ValidationError:
        by_validator = False
    assert by_schema == by_validator


class _Counted(BaseModel):
    count: Annotated[int, Field(ge=0, le=10), JSON_INTEGER]
    flag: StrictBool = False


@pytest.mark.parametrize(("value", "rule"), [(True, "integer"), ("3", "integer"), (3.5, "integer"), (11, "maximum")])
def test_an_integer_is_a_number(value, rule):
    with pytest.raises(ValidationError) as refused:
        _Counted(count=value)
    assert [(p.field, p.rule) for p in problems_from_validation_error(refused.value)] == [("count", rule)]


def test_an_integer_may_be_written_with_a_zero_fraction_and_the_schema_states_its_bounds():
    assert _Counted(count=3.0).count == 3
    assert _Counted.model_json_schema()["properties"]["count"] | {"title": None} == {
        "type": "integer", "minimum": 0, "maximum": 10, "title": None}


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_a_flag_is_a_boolean(value):
    with pytest.raises(ValidationError):
        _Counted(count=1, flag=value)


def _event(*inputs: InputSpec) -> EventSpec:
    return EventSpec(name="e", title=Text("e", "e"), sources=("a",), target="b", inputs=tuple(inputs))


def test_an_event_s_integer_never_exceeds_the_columns():
    spec = InputSpec(name="n", type="int", title=Text("n", "n"), required=False)
    wide = InputSpec(name="w", type="int", title=Text("w", "w"), required=False, minimum=-(2**40), maximum=2**40)
    model = input_model(_event(spec, wide))
    assert model(n=MAX_INT, w=-MAX_INT).n == MAX_INT
    for name in ("n", "w"):
        for value in (MAX_INT + 1, -MAX_INT - 1):
            with pytest.raises(ValidationError):
                model(**{name: value})


def test_an_event_s_inputs_take_no_guess_at_a_type():
    model = input_model(_event(InputSpec(name="n", type="int", title=Text("n", "n"), required=False),
                               InputSpec(name="b", type="bool", title=Text("b", "b"), required=False)))
    for wrong in ({"n": "3"}, {"n": True}, {"b": "true"}, {"b": 1}):
        with pytest.raises(ValidationError):
            model(**wrong)
    assert model(n=3.0, b=False).n == 3


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00", "1999-12-31T23:59:59+09:00",
                                     "2101-01-01T00:00:00+09:00"])
def test_an_instant_lies_within_the_dates_and_never_overflows(instant):
    assert _problem(TypeAdapter(RecordInstant), instant) == ("body", "date_range")


def test_an_instant_without_an_offset_is_tokyo_time():
    assert TypeAdapter(RecordInstant).validate_python("2025-06-10T09:00:00").isoformat() == "2025-06-10T09:00:00+09:00"
    assert isinstance(TypeAdapter(RecordInstant).validate_python(datetime(2100, 12, 31, 23, 59)), datetime)
