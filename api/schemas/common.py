"""What the areas' response shapes share: filling a shape from a table row."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from sqlmodel import SQLModel

Shape = TypeVar("Shape", bound=BaseModel)


def from_row(shape: type[Shape], row: SQLModel, **computed: object) -> Shape:
    """`shape` filled with the row's columns it names, and with the `computed` fields the row lacks.

    Only the columns the shape names are read: a column added to the table reaches no caller (a
    `row.model_dump()` would hand it out)."""
    columns = {name: getattr(row, name) for name in shape.model_fields if name not in computed}
    return shape.model_validate({**columns, **computed})
