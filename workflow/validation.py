"""Input validation shared by the domain and the API: pydantic errors as bilingual field problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, create_model

from states.definition import EARLIEST_DATE, LATEST_DATE, EventSpec, InputSpec
from workflow.errors import FieldProblem, InvalidInput, Message


def _no_control_characters(value: str) -> str:
    # NUL and other control characters cannot be stored in PostgreSQL text and never belong in a record.
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def _length(max_length: int, *, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


_NO_CONTROL_CHARACTERS = AfterValidator(_no_control_characters)


def text_type(max_length: int, *, min_length: int = 1) -> Any:
    """Text of a length known only at run time (a procedure's declared input); models use the aliases below."""
    return Annotated[str, _length(max_length, min_length=min_length), _NO_CONTROL_CHARACTERS]


# Text fields: whitespace stripped, control characters refused, not empty unless `…OrEmpty`, at most N characters.
Text64 = Annotated[str, _length(64), _NO_CONTROL_CHARACTERS]
Text100 = Annotated[str, _length(100), _NO_CONTROL_CHARACTERS]
Text200 = Annotated[str, _length(200), _NO_CONTROL_CHARACTERS]
Text300 = Annotated[str, _length(300), _NO_CONTROL_CHARACTERS]
Text500 = Annotated[str, _length(500), _NO_CONTROL_CHARACTERS]
Text2000 = Annotated[str, _length(2000), _NO_CONTROL_CHARACTERS]
Text5000 = Annotated[str, _length(5000), _NO_CONTROL_CHARACTERS]
Text10000 = Annotated[str, _length(10_000), _NO_CONTROL_CHARACTERS]
Text20000 = Annotated[str, _length(20_000), _NO_CONTROL_CHARACTERS]
Text100000 = Annotated[str, _length(100_000), _NO_CONTROL_CHARACTERS]
Text20OrEmpty = Annotated[str, _length(20, min_length=0), _NO_CONTROL_CHARACTERS]
Text100OrEmpty = Annotated[str, _length(100, min_length=0), _NO_CONTROL_CHARACTERS]
Text2000OrEmpty = Annotated[str, _length(2000, min_length=0), _NO_CONTROL_CHARACTERS]
Text20000OrEmpty = Annotated[str, _length(20_000, min_length=0), _NO_CONTROL_CHARACTERS]


RecordDate = Annotated[dt.date, Field(ge=EARLIEST_DATE, le=LATEST_DATE)]

# Messages for pydantic's error types: {type: (ja, en)}; `{…}` are filled from the error's context.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("必須項目です。", "This field is required."),
    "extra_forbidden": ("この項目は受け付けていません。", "This field is not accepted here."),
    "int_parsing": ("整数で入力してください。", "Enter a whole number."),
    "int_type": ("整数で入力してください。", "Enter a whole number."),
    "int_from_float": ("整数で入力してください。", "Enter a whole number."),
    "greater_than_equal": ("{ge}以上の値を入力してください。", "Enter a value of at least {ge}."),
    "greater_than": ("{gt}より大きい値を入力してください。", "Enter a value greater than {gt}."),
    "less_than_equal": ("{le}以下の値を入力してください。", "Enter a value of at most {le}."),
    "less_than": ("{lt}未満の値を入力してください。", "Enter a value less than {lt}."),
    "string_type": ("文字列で入力してください。", "Enter text."),
    "string_too_short": ("入力してください（空欄は不可）。", "This cannot be empty."),
    "string_too_long": ("{max_length}文字以内で入力してください。", "Enter at most {max_length} characters."),
    "bool_parsing": ("真偽値（true / false）で入力してください。", "Enter true or false."),
    "bool_type": ("真偽値（true / false）で入力してください。", "Enter true or false."),
    "date_parsing": ("日付（YYYY-MM-DD）で入力してください。", "Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": ("日付（YYYY-MM-DD）で入力してください。", "Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": ("日付（YYYY-MM-DD）で入力してください。", "Enter a date as YYYY-MM-DD."),
    "date_type": ("日付（YYYY-MM-DD）で入力してください。", "Enter a date as YYYY-MM-DD."),
    "literal_error": ("次のいずれかを指定してください: {expected}", "Use one of: {expected}"),
    "enum": ("次のいずれかを指定してください: {expected}", "Use one of: {expected}"),
    "json_invalid": ("JSONとして読み取れません。", "The body is not valid JSON."),
    "model_attributes_type": ("JSONオブジェクトで送信してください。", "Send a JSON object."),
    "dict_type": ("JSONオブジェクトで送信してください。", "Send a JSON object."),
    "model_type": ("JSONオブジェクトで送信してください。", "Send a JSON object."),
    "value_error": ("値が正しくありません: {error}", "The value is not valid: {error}"),
}

# Rules named in English words a client can match on, for pydantic's error types.
_RULES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "greater_than_equal": "minimum",
    "greater_than": "minimum",
    "less_than_equal": "maximum",
    "less_than": "maximum",
    "string_too_short": "not_empty",
    "string_too_long": "max_length",
    "literal_error": "one_of",
    "enum": "one_of",
    "int_parsing": "integer",
    "int_type": "integer",
    "int_from_float": "integer",
    "bool_parsing": "boolean",
    "bool_type": "boolean",
    "string_type": "text",
    "date_parsing": "date",
    "date_from_datetime_parsing": "date",
    "date_from_datetime_inexact": "date",
    "date_type": "date",
    "json_invalid": "json",
    "model_attributes_type": "object",
    "dict_type": "object",
    "model_type": "object",
}

_DATE_BOUNDS_JA = f"{EARLIEST_DATE.year}年から{LATEST_DATE.year}年までの日付を入力してください。"
_DATE_BOUNDS_EN = f"Enter a date between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


def field_name(location: Sequence[int | str]) -> str:
    """`('body', 'inputs', 'comment_end')` → `comment_end`; list positions stay (`items.0.title`)."""
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def problem_from_pydantic(error: Mapping[str, Any], location: Sequence[int | str] | None = None) -> FieldProblem:
    kind = error.get("type", "value_error")
    raw_context = error.get("ctx") or {}
    context = {key: _readable(value) for key, value in raw_context.items()}
    if isinstance(raw_context.get("ge", raw_context.get("le")), dt.date):
        ja, en = _DATE_BOUNDS_JA, _DATE_BOUNDS_EN
    elif kind in _MESSAGES:
        ja, en = _MESSAGES[kind]
        try:
            ja, en = ja.format(**context), en.format(**context)
        except (KeyError, IndexError):
            ja, en = ja.split("{")[0].rstrip(": "), error.get("msg", en)
    else:
        ja, en = "値が正しくありません。", str(error.get("msg", "The value is not valid."))
    rule = _RULES.get(kind, kind)
    if kind == "value_error" and "control characters" in str(error.get("msg", "")):
        rule, ja, en = "no_control_characters", "制御文字は使用できません。", "Control characters are not allowed."
    where = location if location is not None else error.get("loc", ())
    if kind == "json_invalid":
        where = ()  # pydantic points at a character offset; the whole body is what is wrong
    return FieldProblem(field_name(where), rule, Message(ja, en))


def _readable(value: Any) -> Any:
    if isinstance(value, Exception):
        return str(value)
    return value


def problems_from_validation_error(error: ValidationError, prefix: Sequence[str] = ()) -> list[FieldProblem]:
    return [problem_from_pydantic(item, (*prefix, *item["loc"])) for item in error.errors(include_url=False)]


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate(model: type[ModelT], data: Any, prefix: Sequence[str] = ()) -> ModelT:
    """Validate `data`, raising InvalidInput that names every bad field and its rule."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(problems_from_validation_error(error, prefix)) from None


def _annotation(spec: InputSpec) -> Any:
    if spec.type == "date":
        return RecordDate
    if spec.type == "text":
        return text_type(spec.max_length)
    if spec.type == "int":
        return Annotated[int, Field(ge=spec.minimum if spec.minimum is not None else -(2**53),
                                    le=spec.maximum if spec.maximum is not None else 2**53)]
    if spec.type == "bool":
        return bool
    return Literal[tuple(spec.choices)]


def input_model(event: EventSpec) -> type[BaseModel]:
    """A pydantic model of the event's declared inputs; unknown inputs are refused."""
    fields: dict[str, Any] = {}
    for spec in event.inputs:
        annotation = _annotation(spec)
        if spec.must_be_given:
            fields[spec.name] = (annotation, ...)
        else:
            fields[spec.name] = (annotation | None, None)
    return create_model(
        f"{event.name}_inputs", __config__=ConfigDict(extra="forbid"), **fields,
    )
