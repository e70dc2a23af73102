"""Every JSON answer of the API declares its fields (api/schemas/), and no table row reaches a caller
as it is: a column added to a table must not leak into the API unnoticed."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlmodel import SQLModel

from api import routes, web
from api.schemas.cases import AssessmentPage
from workflow.models import Assessment

API = Path(__file__).resolve().parents[2] / "api"

#: The only `.model_dump()` calls in api/ (file, function), each on a model that is not a table row.
MODEL_DUMPS_ALLOWED = {
    # an AssessmentOut, already a response shape, spread into the dashboard's row for the template
    ("web.py", "_row"),
}


# --- every JSON answer names its fields ---------------------------------------------------------

def _json_answers(openapi: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(operation, schema) of every 2xx application/json answer."""
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                json = answer.get("content", {}).get("application/json")
                if code.startswith("2") and json is not None:
                    yield f"{method.upper()} {path} {code}", json.get("schema", {})


def _names_its_fields(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """An object with named properties, a $ref to one, or an array of such (not `{}`, not a bare object)."""
    if "$ref" in schema:
        return _names_its_fields(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if schema.get("type") == "array":
        return _names_its_fields(schema.get("items", {}), components)
    return bool(schema.get("properties"))


def test_every_json_answer_declares_its_fields(app):
    openapi = app.openapi()
    answers = list(_json_answers(openapi))
    assert len(answers) > 50  # the app's routes were found at all
    undeclared = [operation for operation, schema in answers
                  if not _names_its_fields(schema, openapi["components"]["schemas"])]
    assert undeclared == [], "declare a response model (api/schemas/) for:\n" + "\n".join(undeclared)


def test_an_empty_or_bare_object_schema_names_no_fields():
    components = {"Shape": {"type": "object", "properties": {"id": {"type": "integer"}}}}
    assert _names_its_fields({"$ref": "#/components/schemas/Shape"}, components)
    assert _names_its_fields({"type": "array", "items": {"$ref": "#/components/schemas/Shape"}}, components)
    assert not _names_its_fields({}, components)
    assert not _names_its_fields({"type": "object", "additionalProperties": True}, components)
    assert not _names_its_fields({"type": "array", "items": {"type": "object"}}, components)


# --- no table is a response model ---------------------------------------------------------------

def _tables_in(annotation: Any) -> set[str]:
    """The table classes an annotation names, directly or through the fields of the models it names."""
    seen: set[type[BaseModel]] = set()
    pending = [annotation]
    while pending:
        current = pending.pop()
        if isinstance(current, type) and issubclass(current, BaseModel):
            if current not in seen:
                seen.add(current)
                pending.extend(field.annotation for field in current.model_fields.values())
        else:
            pending.extend(typing.get_args(current))
    return {model.__name__ for model in seen if issubclass(model, SQLModel) and model.model_config.get("table")}


def _api_routes() -> list[APIRoute]:
    """The routes of every router of api/routes/ and of the pages (`app.routes` holds included routers,
    not their routes)."""
    modules = [importlib.import_module(f"api.routes.{info.name}") for info in pkgutil.iter_modules(routes.__path__)]
    routers = [value for module in [*modules, web] for value in vars(module).values() if isinstance(value, APIRouter)]
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def test_no_response_model_is_a_table():
    found = _api_routes()
    assert len(found) > 50  # the routes were found at all
    tables = sorted(f"{'/'.join(sorted(route.methods))} {route.path}: {table}"
                    for route in found for table in _tables_in(route.response_model))
    assert tables == [], "answer with a shape of api/schemas/, not the table:\n" + "\n".join(tables)


def test_a_table_is_found_however_deep_it_is_named():
    assert _tables_in(list[Assessment] | None) == {"Assessment"}
    assert _tables_in(dict[str, list[Assessment]]) == {"Assessment"}
    assert _tables_in(AssessmentPage) == set()


# --- no row is dumped ---------------------------------------------------------------------------

class _ModelDumps(ast.NodeVisitor):
    """The function around every `.model_dump(…)` / `.model_dump_json(…)` call of a module."""

    def __init__(self) -> None:
        self.around = ["<module>"]
        self.found: list[str] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.around.append(node.name)
        self.generic_visit(node)
        self.around.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and node.func.attr.startswith("model_dump"):
            self.found.append(self.around[-1])
        self.generic_visit(node)


def _model_dumps(source: str) -> list[str]:
    visitor = _ModelDumps()
    visitor.visit(ast.parse(source))
    return visitor.found


def test_model_dump_is_called_only_where_allowed():
    """A row's `model_dump()` hands out every column; build the response shape instead (api/schemas/)."""
    found = {(str(path.relative_to(API)), function) for path in sorted(API.rglob("*.py"))
             for function in _model_dumps(path.read_text(encoding="utf-8"))}
    unexpected = sorted(found - MODEL_DUMPS_ALLOWED)
    assert unexpected == [], "build a shape of api/schemas/ instead of calling model_dump() in:\n" + "\n".join(
        f"api/{file}: {function}()" for file, function in unexpected)
    stale = sorted(MODEL_DUMPS_ALLOWED - found)
    assert stale == [], f"no model_dump() there any more, drop it from MODEL_DUMPS_ALLOWED: {stale}"


def test_a_model_dump_is_found_in_the_function_around_it():
    source = """
def route(services):
    def inner(row):
        return row.model_dump(exclude={"id"})
    return [inner(row) for row in services.rows()]

async def other(row):
    return row.model_dump_json()

TABLE = Row().model_dump()
"""
    assert _model_dumps(source) == ["inner", "other", "<module>"]
