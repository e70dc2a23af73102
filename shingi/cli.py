"""The `shingi` command: serve, db upgrade, procedures check, audit verify and checkpoint, backup and restore,
demo generate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shingi.config import Settings

if TYPE_CHECKING:
    from shingi.bootstrap import Core

app = typer.Typer(help="shingi 審議 — privacy-council deliberation procedures.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
procedures_app = typer.Typer(help="Procedure definitions.", no_args_is_help=True)
users_app = typer.Typer(help="Users (operators' commands).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
organisations_app = typer.Typer(help="Organisations the install serves (operators' commands).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(procedures_app, name="procedures")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
app.add_typer(organisations_app, name="organisations")
app.add_typer(demo_app, name="demo")


def _operator_context(organisation: str | None = None):
    """The services (the database migrated) and the operator acting through the CLI: in the organisation
    with this code, or (None) in the install's first."""
    from shingi import bootstrap, migrations
    from workflow import accounts
    from workflow.policy import system_actor

    core = bootstrap.build(Settings())
    migrations.upgrade(core.db)
    organisation_id = None
    if organisation is not None:
        found = accounts.organisation_by_code(core.db, organisation)
        if found is None:
            _fail(ValueError(f"no organisation with code {organisation} (shingi organisations list)"))
        organisation_id = found.id if found else None
    return core, system_actor("運用者（CLI）", organisation_id=organisation_id)


_ORGANISATION_OPTION = typer.Option("--organisation", help="The code of the user's organisation (default: the first).")


@organisations_app.command("add")
def organisations_add(
    code: Annotated[str, typer.Argument(help="全国地方公共団体コード or another short code (letters, digits, - _).")],
    name: Annotated[str, typer.Option(help="Its name, e.g. 千葉市.")],
    head_title: Annotated[str, typer.Option("--head", help="The head its councils reply to, e.g. 千葉市長.")],
    kind: Annotated[str, typer.Option(help="prefecture, municipality or association.")] = "municipality",
) -> None:
    """Add an organisation: its own councils, offices, users, reminder rules and audit chain."""
    from pydantic import ValidationError

    from notifications import reminders
    from workflow import accounts
    from workflow.errors import DomainError

    core, _operator = _operator_context()
    try:
        organisation = accounts.add_organisation(core.db, accounts.NewOrganisation(
            code=code, name=name, head_title=head_title, kind=kind))
    except ValidationError as error:
        _fail(ValueError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())))
    except DomainError as error:
        _fail(error)
    reminders.ensure_default_rules(core.db)
    typer.echo(f"added {organisation.name} ({organisation.code}, id {organisation.id})")


@organisations_app.command("list")
def organisations_list() -> None:
    """The organisations the install serves."""
    from workflow import accounts

    core, _operator = _operator_context()
    for organisation in accounts.organisations(core.db):
        typer.echo(f"{organisation.code}\t{organisation.name}\t{organisation.kind}\t{organisation.head_title}")


@organisations_app.command("set")
def organisations_set(
    code: Annotated[str, typer.Argument(help="The organisation's code (shingi organisations list).")],
    name: Annotated[str | None, typer.Option(help="Its name, e.g. 千葉市.")] = None,
    head_title: Annotated[str | None, typer.Option("--head", help="The head its councils reply to.")] = None,
    closure_days: Annotated[str | None, typer.Option(
        help='Closure days besides weekends and holidays, e.g. "12-29..01-03,08-15" ("" for none).')] = None,
    closed_date: Annotated[list[str] | None, typer.Option(
        help="A one-off closure day (臨時閉庁日), YYYY-MM-DD; repeat it for several. Replaces the ones set.")] = None,
) -> None:
    """Change an organisation's name, head or closure days (its secretariat can also, on its page)."""
    from pydantic import ValidationError

    from workflow import organisation_settings
    from workflow.errors import DomainError

    core, operator = _operator_context(code)
    given = {"name": name, "head_title": head_title, "closure_days": closure_days, "closed_dates": closed_date}
    try:
        changed = organisation_settings.change(core.db, core.clock, operator, organisation_settings.OrganisationChange(
            **{field: value for field, value in given.items() if value is not None}))
    except ValidationError as error:
        _fail(ValueError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())))
    except DomainError as error:
        _fail(error)
    finally:
        core.close()
    dates = ",".join(changed.closed_dates) or "-"
    typer.echo(f"{changed.code}\t{changed.name}\t{changed.head_title}\tclosed {changed.closure_days or '-'}\tonce {dates}")


def _fail(error: Exception) -> None:
    message = getattr(error, "message", None)
    typer.echo(f"error: {message.en if message else error}", err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load demo cases from the seed councils into an empty database.")] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on (SHINGI_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (SHINGI_PORT).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Web processes (SHINGI_WEB_WORKERS); with more than one, the scheduler runs once, "
                            "in this process, unless SHINGI_SCHEDULER=false.")] = None,
) -> None:
    """Run the service (API, docs at /docs) on the configured database (SQLite by default)."""
    import uvicorn

    from shingi import bootstrap, migrations
    from shingi.demo import load_demo

    settings = Settings()
    workers = workers or settings.web_workers
    bootstrap.configure_logging(settings)
    core = bootstrap.build(settings)
    migrations.upgrade(core.db)
    if demo:
        result = load_demo(core.db, core.workflows, core.papers, core.clock)
        if result.skipped:
            typer.echo("demo: the database already holds cases; no cases loaded")
        else:
            typer.echo(f"demo: loaded {result.loaded} cases from the seed councils")
        typer.echo("demo users (passwords are new at every start):")
        for email, password in result.passwords.items():
            typer.echo(f"  {email:<24} {password}")
    host, port = host or settings.host, port or settings.port
    typer.echo(f"shingi: serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    # The access lines are shingi's own (api/observability.py): uvicorn's would write the paths as asked.
    if workers == 1:
        uvicorn.run(bootstrap.web_app(core), host=host, port=port, log_config=None, access_log=False)
        return
    _serve_workers(core, host, port, workers)


def _serve_workers(core: Core, host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor with `workers` web processes; this process sweeps (once for all of them)."""
    import os

    import uvicorn

    from api.metrics import MULTIPROCESS_DIR
    from shingi.scheduler import start_in_background

    settings = core.settings
    core.prepare()
    scheduler = start_in_background(core.jobs(), settings.sweep_interval_seconds) if settings.scheduler else None
    # The web processes are started afresh (spawned) and read their settings from the environment: none
    # sweeps, and their /ready checks the heartbeat of this process's scheduler (as of a worker apart).
    os.environ.update({"SHINGI_SCHEDULER": "false", "SHINGI_MIGRATE_ON_START": "false"})
    if scheduler is not None and settings.ready_requires_scheduler is None:
        os.environ["SHINGI_READY_REQUIRES_SCHEDULER"] = "true"
    typer.echo(f"shingi: {workers} web processes; the scheduler {'runs here' if scheduler else 'runs apart'}")
    if MULTIPROCESS_DIR is None:
        typer.echo(f"shingi: {workers} web processes without PROMETHEUS_MULTIPROC_DIR: /metrics answers with "
                   "the counts of whichever process serves the scrape", err=True)
    try:
        uvicorn.run("shingi.bootstrap:application", factory=True, host=host, port=port, workers=workers,
                    log_config=None, access_log=False)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        core.close()


#: What `demo generate` made, in the words of the record.
_GENERATED = (("organisation", "団体"), ("body", "審議会・部会"), ("office", "担当課"), ("user_account", "利用者"),
              ("membership", "委員の所属"), ("assessment", "案件"), ("assessment_history", "履歴"),
              ("meeting", "会議"), ("agenda_item", "議題"), ("finding", "質問・意見"), ("minutes", "会議録"),
              ("reminder", "リマインダー（送信予定）"))


@demo_app.command("generate")
def demo_generate(
    organisations: Annotated[int, typer.Option(min=1, max=37_600, help="How many organisations: the 47 prefectures "
                                                                       "first, then municipalities.")] = 1741,
    cases: Annotated[int, typer.Option(min=0, max=2_000_000, help="How many cases, spread over them by size.")] = 100_000,
    seed: Annotated[int, typer.Option(help="The same seed makes the same data.")] = 0,
) -> None:
    """Fill an empty database with realistic organisations, bodies, people, cases in every state, meetings,
    findings, minutes and reminders (demo data; no one can sign in until given a password).

    デモデータを空のデータベースに生成します。
    """
    import time

    from shingi.generate import ensure_empty, generate
    from workflow.errors import DomainError

    core, _operator = _operator_context()
    started = time.perf_counter()
    try:
        ensure_empty(core.db)
        with typer.progressbar(length=organisations + cases, label="生成中 generating") as bar:
            made = generate(core.db, core.workflows, core.clock, organisations=organisations, cases=cases, seed=seed,
                            progress=bar.update)
    except DomainError as error:
        _fail(error)
    finally:
        core.close()
    typer.echo(f"生成しました generated in {time.perf_counter() - started:.1f} s:")
    for table, label in _GENERATED:
        typer.echo(f"  {made.rows.get(table, 0):>12,}  {label} ({table})")


@app.command()
def worker() -> None:
    """Run the scheduler alone (for deployments that separate web and workers; set SHINGI_SCHEDULER=false
    on the web instances)."""
    from shingi import bootstrap
    from shingi.scheduler import run_blocking

    settings = Settings()
    bootstrap.configure_logging(settings)
    core = bootstrap.build(settings)
    core.prepare()
    typer.echo(f"shingi worker: sweeping every {settings.sweep_interval_seconds:g} s")
    run_blocking(core.jobs(), settings.sweep_interval_seconds)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations to the configured database."""
    from shingi import migrations
    from workflow.db import Database

    database = Database(Settings().database_url)
    migrations.upgrade(database)
    database.dispose()
    typer.echo("database schema is up to date")


@procedures_app.command("check")
def procedures_check(files: Annotated[list[Path], typer.Argument(help="Procedure files (YAML) to validate.")]) -> None:
    """Validate procedure files; exit 1 naming the file, the procedure and the fault."""
    from states import ProcedureDefinitionError, read_procedure
    from workflow.engine import WRITABLE_FIELDS
    from workflow.guards import DEFAULTS, EFFECTS, GUARDS

    failed = False
    for path in files:
        try:
            procedure = read_procedure(path, guards=GUARDS, effects=EFFECTS, fields=WRITABLE_FIELDS, defaults=DEFAULTS)
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


def _seat(item: str) -> tuple[str, str]:
    """`BODY=position` → (BODY, position); a plain `BODY` is a member's seat."""
    name, given, position = item.partition("=")
    return (name, position) if given else (item, "member")


@users_app.command("add")
def users_add(
    email: str,
    role: Annotated[list[str], typer.Option("--role", help="secretariat, member, office or admin (repeatable).")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the e-mail address).")] = None,
    body: Annotated[list[str] | None, typer.Option("--body", help="Body of a member; BODY or BODY=chair|acting_chair.")] = None,
    office: Annotated[str | None, typer.Option(help="Office of an office user.")] = None,
    password: Annotated[str | None, typer.Option(help="Password (asked for when omitted).")] = None,
    organisation: Annotated[str | None, _ORGANISATION_OPTION] = None,
) -> None:
    """Register a user."""
    from pydantic import ValidationError

    from workflow import accounts
    from workflow.errors import DomainError

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    bodies = dict(_seat(item) for item in body or [])
    core, operator = _operator_context(organisation)
    try:
        data = accounts.NewUser(email=email, display_name=name or email, password=password, roles=set(role),
                                bodies=bodies, office=office)
        user = accounts.add_user(core.db, core.clock, data, operator)
    except ValidationError as error:
        _fail(ValueError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())))
    except DomainError as error:
        _fail(error)
    typer.echo(f"added {user.email} (id {user.id})")


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Disable a user: sign-in, sessions and tokens stop working."""
    from workflow import accounts
    from workflow.errors import DomainError

    core, operator = _operator_context()
    try:
        accounts.disable_user(core.db, core.clock, email, operator)
    except DomainError as error:
        _fail(error)
    typer.echo(f"disabled {email}")


@tokens_app.command("create")
def tokens_create(
    email: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until it expires.")] = 90,
) -> None:
    """Create an API token for a user and print it (once: only its hash is kept)."""
    from datetime import timedelta

    from workflow import accounts
    from workflow.errors import DomainError

    core, operator = _operator_context()
    try:
        issued = accounts.create_token(core.db, core.clock, email, operator, name=name, lifetime=timedelta(days=days))
    except DomainError as error:
        _fail(error)
    typer.echo(issued.token)
    typer.echo(f"token {issued.record.id} for {email}, expires {issued.record.expires_at:%Y-%m-%d}", err=True)


@app.command()
def papers(
    kind: Annotated[str, typer.Argument(help="convocation, meeting-result, subcommittee-report, reply, findings, "
                                             "public-comment-result or register")],
    case: Annotated[int | None, typer.Option(help="Case id (reports, replies, findings, public comment result).")] = None,
    meeting: Annotated[int | None, typer.Option(help="Meeting id (convocation, meeting result).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="html, docx or xlsx (register only).")] = "docx",
    output: Annotated[Path | None, typer.Option(help="File to write (default: the document's title).")] = None,
    office: Annotated[str | None, typer.Option(help="Register: only this office's cases (実施機関).")] = None,
    procedure: Annotated[str | None, typer.Option(help="Register: only cases of this procedure.")] = None,
    state: Annotated[str | None, typer.Option(help="Register: only cases in this state.")] = None,
    fiscal_year: Annotated[int | None, typer.Option(help="Register: only cases opened in this 年度 (2025: 令和7年度).")] = None,
) -> None:
    """Write a generated document (開催通知, 部会報告, 答申書, 質問事項, 意見募集の結果, 会議結果報告, 計画管理書)."""
    from notifications.register import RegisterFilter
    from workflow.errors import DomainError

    if output_format not in ("html", "docx", "xlsx") or (output_format == "xlsx" and kind != "register"):
        _fail(ValueError("--format is html or docx (xlsx for the register)"))
    core, operator = _operator_context()
    writer = core.papers
    makers = {
        "convocation": (writer.convocation, meeting), "meeting-result": (writer.meeting_result, meeting),
        "subcommittee-report": (writer.subcommittee_report, case), "reply": (writer.reply, case),
        "findings": (writer.findings, case), "public-comment-result": (writer.public_comment_result, case),
    }
    try:
        if kind == "register":
            register = writer.register(operator, RegisterFilter(office, procedure, state, fiscal_year))
            target = output or Path(f"{register.title}.{output_format}")
            if output_format == "xlsx":
                register.write_xlsx(target)
            elif output_format == "html":
                with target.open("w", encoding="utf-8") as handle:
                    handle.writelines(register.html())
            else:
                target.write_bytes(register.docx())
            typer.echo(f"wrote {target} ({register.total} cases)")
            return
        if kind not in makers:
            _fail(ValueError(f"unknown document {kind!r}"))
        maker, subject = makers[kind]
        if subject is None:
            _fail(ValueError(f"{kind} needs --{'meeting' if kind in ('convocation', 'meeting-result') else 'case'}"))
        paper = maker(subject, operator)
    except DomainError as error:
        _fail(error)
    content = paper.html.encode("utf-8") if output_format == "html" else paper.docx()
    target = output or Path(f"{paper.title}.{output_format}")
    target.write_bytes(content)
    typer.echo(f"wrote {target}")


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, readable=True,
        help="A file written by `shingi audit checkpoint`: also detect entries deleted or rewritten up to it.")] = None,
    organisation: Annotated[str | None, typer.Option(
        "--organisation", help="The code of the organisation whose chain to check (default: the first).")] = None,
) -> None:
    """Check an organisation's audit chain; exit 1 naming what is wrong and the first broken entry."""
    from workflow import audit

    core, operator = _operator_context(organisation)
    try:
        text = checkpoint.read_bytes() if checkpoint else None
    except OSError as error:
        _fail(error)
    verdict = audit.verify(core.db, operator, checkpoint=text)
    typer.echo(f"{verdict.message.en}\n{verdict.message.ja}", err=not verdict.ok)
    raise typer.Exit(0 if verdict.ok else 1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: Annotated[Path | None, typer.Option(dir_okay=False, help="File to write (default: print it).")] = None,
    organisation: Annotated[str | None, typer.Option(
        "--organisation", help="The code of the organisation whose chain it records (default: the first).")] = None,
) -> None:
    """Record where an organisation's audit chain ends now (entry, hash, time) as a small JSON file.

    Keep the file outside the database: on another machine, on paper, in the secretariat's files.

    Whoever can change the database can rewrite the chain and its head so that the chain looks whole.

    They cannot change your copy: `shingi audit verify --checkpoint FILE` shows what was since deleted or changed.

    このファイルはデータベースの外に保管してください。
    """
    from workflow import audit
    from workflow.errors import DomainError

    core, operator = _operator_context(organisation)
    try:
        taken = audit.checkpoint(core.db, operator, core.clock.now())
    except DomainError as error:
        _fail(error)
    if output is None:
        typer.echo(taken.to_json(), nl=False)
        return
    try:
        output.write_text(taken.to_json(), encoding="utf-8")
    except OSError as error:
        _fail(error)
    typer.echo(f"wrote {output}: the chain up to entry {taken.seq}, {taken.as_dict()['at']}")


@app.command()
def backup(
    output: Annotated[Path | None, typer.Option(dir_okay=False, help=(
        "Archive to write (default: shingi-backup-<date>-<time>.tar in the current folder)."))] = None,
) -> None:
    """Write the database and the uploaded documents into one archive (.tar), while the service runs.

    The archive holds members-only material and the users' password hashes: keep it as safe as the database, on another machine.

    アーカイブには委員限りの資料も含まれます。データベースと同じく厳重に、別の機械に保管してください。
    """
    from shingi import backup as backups
    from workflow.errors import DomainError

    core, operator = _operator_context()
    try:
        target = output or Path(backups.default_name(core.clock.now()))
        written = backups.back_up(core.db, core.files, core.clock, operator, target)
    except DomainError as error:
        _fail(error)
    finally:
        core.close()
    typer.echo(f"{written.message.en}\n{written.message.ja}")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                            help="An archive written by `shingi backup`.")],
    force: Annotated[bool, typer.Option(help="Replace a database that already holds cases, and its documents.")] = False,
) -> None:
    """Restore a backup into the configured database and file store (stop the service first).

    Every member is checked against the archive's manifest before anything is changed.

    The schema is then brought up to date, and the audit chain verified against the checkpoint taken at backup time (exit 1 if it does not hold).

    復元の前にサービスを停止してください。
    """
    from shingi import backup as backups
    from shingi import bootstrap
    from workflow.errors import DomainError
    from workflow.policy import system_actor

    core = bootstrap.build(Settings())  # not migrated first: the restore brings its own schema
    try:
        restored = backups.restore(core.db, core.files, system_actor("運用者（CLI）"), archive, force=force)
    except DomainError as error:
        _fail(error)
    finally:
        core.close()
    typer.echo(f"{restored.message.en}\n{restored.message.ja}", err=not restored.ok)
    typer.echo(f"{restored.verdict.message.en}\n{restored.verdict.message.ja}", err=not restored.verdict.ok)
    raise typer.Exit(0 if restored.ok else 1)


if __name__ == "__main__":
    app()
