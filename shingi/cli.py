"""The `shingi` command: serve, db upgrade, procedures check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shingi.config import Settings

app = typer.Typer(help="shingi 審議 — privacy-council deliberation procedures.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
procedures_app = typer.Typer(help="Procedure definitions.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(procedures_app, name="procedures")


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load demo cases from the seed councils into an empty database.")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on (SHINGI_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (SHINGI_PORT).")] = None,
) -> None:
    """Run the service (API, docs at /docs) on the configured database (SQLite by default)."""
    import uvicorn

    from api.app import create_app
    from workflow.db import Database
    from workflow.demo import load_demo
    from workflow.engine import Workflows

    settings = Settings()
    workflows = Workflows.load(settings.procedure_dirs)
    database = Database(settings.database_url)
    database.upgrade()
    if demo:
        result = load_demo(database, workflows)
        if result.skipped:
            typer.echo("demo: the database already holds cases; nothing loaded")
        else:
            typer.echo(f"demo: loaded {result.loaded} cases from the seed councils")
    host, port = host or settings.host, port or settings.port
    typer.echo(f"shingi: serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings, database=database, workflows=workflows), host=host, port=port,
                log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations to the configured database."""
    from workflow.db import Database

    settings = Settings()
    database = Database(settings.database_url)
    database.upgrade()
    database.dispose()
    typer.echo("database schema is up to date")


@procedures_app.command("check")
def procedures_check(files: Annotated[list[Path], typer.Argument(help="Procedure files (YAML) to validate.")]) -> None:
    """Validate procedure files; exit 1 naming the file, the procedure and the fault."""
    from states import ProcedureDefinitionError, read_procedure
    from workflow.engine import WRITABLE_FIELDS
    from workflow.guards import EFFECTS, GUARDS

    failed = False
    for path in files:
        try:
            procedure = read_procedure(path, guards=GUARDS, effects=EFFECTS, fields=WRITABLE_FIELDS)
        except ProcedureDefinitionError as error:
            typer.echo(f"error: {error}", err=True)
            failed = True
        else:
            typer.echo(f"ok: {path}: procedure '{procedure.name}' "
                       f"({len(procedure.states)} states, {len(procedure.events)} events)")
    raise typer.Exit(1 if failed else 0)


@procedures_app.command("list")
def procedures_list() -> None:
    """List the procedures in force (shipped and the secretariat's own)."""
    from workflow.engine import Workflows

    for procedure in Workflows.load(Settings().procedure_dirs).procedures.values():
        levels = ", ".join(procedure.levels) or "-"
        typer.echo(f"{procedure.name}\t{procedure.title.ja}\tlevels: {levels}\t{procedure.source}")


if __name__ == "__main__":
    app()
