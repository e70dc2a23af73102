"""App factories for bench/transitions.py, served by uvicorn in a subprocess (`--factory`).

Both read the database URL from BENCH_DATABASE_URL:

* `shingi_app` — the real service (`api.app:create_app`), migrations applied on start. When the
  tree has accounts (workflow.accounts), a secretariat user is added and its API token written to
  BENCH_TOKEN_FILE, for the client to send as `Authorization: Bearer …`.
* `bare_app`   — the baseline: bare FastAPI + SQLModel, one sync `def` endpoint that loads one row
  by id, updates one column, commits and returns the row as JSON. It uses the same engine
  (`workflow.db.Database`: same pool, same SQLite pragmas — WAL, synchronous=NORMAL — and the same
  `BEGIN IMMEDIATE` write transaction on SQLite) so that only the work per request differs.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from shingi import migrations
from workflow.db import Database
from workflow.organisations import EVERY_ORGANISATION

BARE_TABLE = "bench_bare_row"


def _database_url() -> str:
    return os.environ["BENCH_DATABASE_URL"]


def shingi_app() -> FastAPI:
    """The service as `shingi serve` builds it, with an API token for a signed-in secretariat."""
    from shingi import bootstrap
    from shingi.config import Settings
    from workflow import accounts
    from workflow.policy import Role, system_actor

    core = bootstrap.build(Settings(database_url=_database_url(), migrate_on_start=True))
    db, clock, system = core.db, core.clock, system_actor("bench")
    migrations.upgrade(db)
    email = "bench@shingi.example.org"
    accounts.add_user(db, clock, accounts.NewUser(email=email, display_name="ベンチマーク",
                                                  roles={Role.SECRETARIAT}), system)
    issued = accounts.create_token(db, clock, email, system, name="bench")
    token_file = os.environ.get("BENCH_TOKEN_FILE")
    if token_file:
        Path(token_file).write_text(issued.token)
    return bootstrap.web_app(core)


class BareRow(SQLModel, table=True):
    __tablename__ = BARE_TABLE

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(default="", max_length=200)
    version: int = 1


class BareRequest(BaseModel):
    """The same body the client sends to the real endpoint (only read, never acted on)."""

    event: str
    expected_version: int


def bare_app() -> FastAPI:
    holder: dict[str, Database] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # No organisation's role nor row-level security: the baseline is the bare cost of one update.
        db = Database(_database_url(), row_security=False)
        BareRow.__table__.create(db.engine, checkfirst=True)  # only this table, never the others
        holder["db"] = db
        try:
            yield
        finally:
            db.dispose()

    app = FastAPI(title="bench baseline", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict:
        holder["db"].ping()
        return {"status": "ok"}

    @app.post("/rows", status_code=201)
    def create_row() -> dict:
        with holder["db"].writing(EVERY_ORGANISATION) as session:
            row = BareRow(title="bench")
            session.add(row)
        return row.model_dump()

    @app.post("/rows/{row_id}")
    def touch_row(row_id: int, request: BareRequest) -> dict:
        with holder["db"].writing(EVERY_ORGANISATION) as session:
            row = session.get(BareRow, row_id)
            if row is None:
                raise HTTPException(404)
            row.version = row.version + 1
        return row.model_dump()

    return app
