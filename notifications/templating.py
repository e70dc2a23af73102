"""The one Jinja2 environment factory: notices, generated documents and pages are all rendered by
environments made here — the secretariat's own folder before the shipped templates, StrictUndefined
(a missing fact is an error, never a blank), and the same filters for dates and times."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from workflow.dates import wareki_datetime, wareki_time

#: Filters every environment has.
COMMON_FILTERS: Mapping[str, Callable[..., Any]] = {"wareki_datetime": wareki_datetime, "wareki_time": wareki_time}


def environment(shipped: Path | tuple[str, str], custom_dir: Path | None = None, *,
                autoescape: bool | Callable[[str | None], bool] = True, keep_trailing_newline: bool = False,
                filters: Mapping[str, Callable[..., Any]] | None = None) -> Environment:
    """An environment over the shipped templates — a folder, or (package, folder) inside a package —
    with `custom_dir` looked in first (callers build each once and keep it)."""
    loaders: list[BaseLoader] = [FileSystemLoader(str(custom_dir))] if custom_dir else []
    loaders.append(FileSystemLoader(str(shipped)) if isinstance(shipped, Path) else PackageLoader(*shipped))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=autoescape, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=keep_trailing_newline)
    env.filters.update(COMMON_FILTERS)
    env.filters.update(filters or {})
    return env
