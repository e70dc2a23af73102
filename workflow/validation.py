"""Input validation shared by the domain and the API: pydantic errors as bilingual field problems."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from states.definition import EARLIEST_DATE, LATEST_DATE, EventSpec, InputSpec
from workflow.errors import FieldProblem, InvalidInput, Message

#: Text without control characters (tab, line feed and carriage return are text): NUL cannot be stored in
#: PostgreSQL text, and none of them belongs in a record or a look-up. A pattern, so that the OpenAPI
#: schema says it too; refused as the rule `no_control_characters`.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"

#: The largest value of the 32-bit integer columns (ids, counts); an integer input never exceeds it.
MAX_INT = 2**31 - 1


def _a_number(value: Any) -> Any:
    if isinstance(value, (bool, str, bytes)):  # pydantic would read true as 1 and "3" as 3
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


#: An integer of a JSON body is a number: 3 (or 3.0, which JSON Schema reads as the integer 3), never true
#: nor "3" — a wrong type is the sender's mistake, not something to guess at (rule `integer`). Written
#: `Annotated[int, Field(ge=…, le=…), JSON_INTEGER]`: with the bounds ahead of it, so that the schema
#: states them as `minimum` / `maximum` (a bound given after a validator is not put in the schema).
JSON_INTEGER = BeforeValidator(_a_number)


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a character NO_CONTROL_CHARACTERS refuses (for text that is no model's field)."""
    return any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value)


#: Text with something in it besides white space (full-width spaces too), and no control characters: the
#: pattern of every text that may not be empty, so that the schema says that "　" is empty. Its three parts
#: are disjoint where they meet (white space, then one visible character, then any), so that a regular
#: expression engine that backtracks still reads it in linear time.
NOT_BLANK = r"^[^\S\x00-\x08\x0b\x0c\x0e-\x1f]*[^\s\x00-\x1f][^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


def _length(max_length: int, *, min_length: int = 1, strip: bool = True) -> Any:
    """Text of at most `max_length` characters as sent (the schema's `maxLength`), then stripped of the
    white space around it; not empty (NOT_BLANK) when `min_length` is 1."""
    pattern = NOT_BLANK if strip and min_length == 1 else NO_CONTROL_CHARACTERS
    constraints = StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
    return Annotated[str, constraints, AfterValidator(str.strip)] if strip else Annotated[str, constraints]


def text_type(max_length: int, *, min_length: int = 1) -> Any:
    """Text of a length known only at run time (a procedure's declared input); models use the aliases below."""
    return _length(max_length, min_length=min_length)


# Text fields: at most N characters as sent, control characters refused, then the white space around them
# stripped; not empty (nor only white space) unless `…OrEmpty`.
Text64 = _length(64)
Text100 = _length(100)
Text200 = _length(200)
Text300 = _length(300)
Text500 = _length(500)
Text2000 = _length(2000)
Text5000 = _length(5000)
Text10000 = _length(10_000)
Text20000 = _length(20_000)
Text100000 = _length(100_000)
Text20OrEmpty = _length(20, min_length=0)
Text64OrEmpty = _length(64, min_length=0)
Text100OrEmpty = _length(100, min_length=0)
Text2000OrEmpty = _length(2000, min_length=0)
Text20000OrEmpty = _length(20_000, min_length=0)
#: An e-mail address as typed to sign in or to name a user (looked up trimmed and lower-cased, never parsed
#: further): taken as sent, so that its length is the schema's.
EmailText = _length(254, min_length=3, strip=False)
#: A password: taken as typed (never stripped), never stored (only its hash); control characters refused.
PasswordText = _length(256, strip=False)


#: A date (YYYY-MM-DD) and an instant (RFC 3339, with its offset) within EARLIEST_DATE .. LATEST_DATE
#: (2000–2100): the OpenAPI schema's `pattern` of every date the service keeps, which JSON Schema cannot
#: bound otherwise (the values are still checked as dates: `minimum` / `maximum`, `date_range` for an
#: instant). Whole patterns rather than the year alone, so that a client's generator can draw from them.
_YEARS = r"(20[0-9]{2}|2100)"
_DAY = _YEARS + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
DATE_PATTERN = f"^{_DAY}$"
INSTANT_PATTERN = f"^{_DAY}" + r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
DATES_SCHEMA: dict[str, Any] = {"pattern": DATE_PATTERN}
INSTANTS_SCHEMA: dict[str, Any] = {"pattern": INSTANT_PATTERN}



def refusal(rule: str, ja: str, en: str, **context: Any) -> PydanticCustomError:
    """What a validator raises to refuse a value: its rule, and its message in both languages (the
    context fills both). problem_from_pydantic reads the Japanese from the context."""
    return PydanticCustomError(rule, en, {**context, "ja": ja.format(**context)})


def _written_as_text(kind: str) -> Callable[[Any], Any]:
    """A date or an instant of a JSON body is a string; pydantic would read a number as seconds since 1970."""
    rule = f"{kind}_type"  # worded in _MESSAGES

    def check(value: Any) -> Any:
        if isinstance(value, (int, float)):  # bool too
            raise PydanticCustomError(rule, _MESSAGES[rule][1])
        return value

    return check


RecordDate = Annotated[dt.date, BeforeValidator(_written_as_text("date")),
                       Field(ge=EARLIEST_DATE, le=LATEST_DATE, json_schema_extra=DATES_SCHEMA)]

_TOKYO = ZoneInfo("Asia/Tokyo")


def _within_the_dates(value: dt.datetime) -> dt.datetime:
    """An aware instant within EARLIEST_DATE .. LATEST_DATE (a naive one is Tokyo time). The date is
    checked on the wall clock as given, before any conversion, so that no year can overflow."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_TOKYO)
    if not EARLIEST_DATE <= value.date() <= LATEST_DATE:
        raise PydanticCustomError("date_range", "Enter a date between {first} and {last}.",
                                  {"first": EARLIEST_DATE.year, "last": LATEST_DATE.year})
    return value.astimezone(_TOKYO)


#: An instant in ISO 8601 (2025-06-10T09:00:00+09:00) within the dates the service keeps (rule
#: `date_range`); without an offset it is Tokyo time. Read in Asia/Tokyo.
RecordInstant = Annotated[dt.datetime, BeforeValidator(_written_as_text("datetime")), AfterValidator(_within_the_dates),
                          Field(json_schema_extra=INSTANTS_SCHEMA)]


def instant_in_range(value: dt.datetime) -> bool:
    """Whether an instant (a naive one read as Tokyo time) lies within the dates RecordInstant admits."""
    try:
        _within_the_dates(value)
    except PydanticCustomError:
        return False
    return True


def keys_as_names(schema: dict[str, Any]) -> None:
    """The schema of a mapping whose keys are text (`dict[Text200, …]`) as it is validated: pydantic
    writes the keys' pattern as `patternProperties`, which leaves any other key free with any value; here
    every key is bounded by `propertyNames` (its length and its pattern) and every value by its type.
    Use as a field's `json_schema_extra`."""
    patterns = schema.pop("patternProperties", None)
    if not patterns:
        return
    ((pattern, value),) = patterns.items()
    schema["propertyNames"] = {**schema.get("propertyNames", {}), "pattern": pattern}
    schema["additionalProperties"] = value


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
    "not_null": ("null は指定できません（変更しない項目は省略してください）。",
                 "This cannot be null; leave the field out to keep it as it is."),
    "list_type": ("一覧（配列）で指定してください。", "Send a list."),
    "set_type": ("一覧（配列）で指定してください。", "Send a list."),
    "too_long": ("{max_length}件以内で指定してください。", "Give at most {max_length} items."),
    "too_short": ("{min_length}件以上指定してください。", "Give at least {min_length} items."),
    "datetime_parsing": ("日時（ISO 8601、例: 2025-06-10T09:00:00+09:00）で入力してください。",
                         "Enter a date and time in ISO 8601 (e.g. 2025-06-10T09:00:00+09:00)."),
    "datetime_from_date_parsing": ("日時（ISO 8601、例: 2025-06-10T09:00:00+09:00）で入力してください。",
                                   "Enter a date and time in ISO 8601 (e.g. 2025-06-10T09:00:00+09:00)."),
    "datetime_type": ("日時（ISO 8601、例: 2025-06-10T09:00:00+09:00）で入力してください。",
                      "Enter a date and time in ISO 8601 (e.g. 2025-06-10T09:00:00+09:00)."),
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
    "datetime_parsing": "datetime",
    "datetime_from_date_parsing": "datetime",
    "datetime_type": "datetime",
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
    if isinstance(raw_context.get("ge", raw_context.get("le")), dt.date) or kind == "date_range":
        ja, en = _DATE_BOUNDS_JA, _DATE_BOUNDS_EN
    elif kind in _MESSAGES:
        ja, en = _MESSAGES[kind]
        try:
            ja, en = ja.format(**context), en.format(**context)
        except (KeyError, IndexError):
            ja, en = ja.split("{")[0].rstrip(": "), error.get("msg", en)
    elif isinstance(raw_context.get("ja"), str):  # a refusal() of this project's own validators
        ja, en = raw_context["ja"], str(error.get("msg", ""))
    else:
        ja, en = "値が正しくありません。", str(error.get("msg", "The value is not valid."))
    rule = _RULES.get(kind, kind)
    if kind == "string_too_short" and isinstance(raw_context.get("min_length"), int) and raw_context["min_length"] > 1:
        minimum = raw_context["min_length"]  # (a password): not "cannot be empty"
        rule, ja, en = "min_length", f"{minimum}文字以上で入力してください。", f"Enter at least {minimum} characters."
    elif kind == "string_pattern_mismatch" and raw_context.get("pattern") == NOT_BLANK and (
            isinstance(error.get("input"), str) and not has_control_characters(error["input"])):
        rule, (ja, en) = "not_empty", _MESSAGES["string_too_short"]  # only white space
    elif (kind == "value_error" and "control characters" in str(error.get("msg", ""))) or (
            kind == "string_pattern_mismatch" and raw_context.get("pattern") in (NO_CONTROL_CHARACTERS, NOT_BLANK)):
        rule, ja, en = "no_control_characters", "制御文字は使用できません。", "Control characters are not allowed."
    elif kind == "value_error" and "not a valid email address" in str(error.get("msg", "")):
        rule, ja, en = "email", "メールアドレスの形式が正しくありません。", "Enter a valid e-mail address."
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
        # Strict (true is not 1, "3" is not 3: the web pages turn their form fields into numbers), and
        # never beyond the 32-bit columns an input may be written to, whatever the procedure file says.
        return Annotated[int, Field(ge=max(spec.minimum, -MAX_INT) if spec.minimum is not None else -MAX_INT,
                                    le=min(spec.maximum, MAX_INT) if spec.maximum is not None else MAX_INT),
                         JSON_INTEGER]
    if spec.type == "bool":
        return StrictBool
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
