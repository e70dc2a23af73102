"""Demo data generated in bulk (shingi.generate, `shingi demo generate`): every state of every procedure,
every row in its parent's organisation, and an organisation's secretariat seeing only its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from notifications.reminders import DEFAULT_RULES
from shingi import cli
from shingi.generate import DatabaseHoldsCases, generate, kinds_of_case
from workflow import accounts, audit, service
from workflow.audit import GENESIS
from workflow.models import UserAccount
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import system_actor

ORGANISATIONS, CASES = 5, 300

#: (child table, its column naming the parent, the parent table): the pairs whose organisations must agree.
PARENTS = (
    ("assessment_history", "assessment_id", "assessment"), ("assessment", "body_id", "body"),
    ("body", "parent_id", "body"), ("meeting", "body_id", "body"), ("agenda_item", "meeting_id", "meeting"),
    ("agenda_item", "assessment_id", "assessment"), ("finding", "assessment_id", "assessment"),
    ("finding", "meeting_id", "meeting"), ("finding", "raised_by_user_id", "user_account"),
    ("minutes", "meeting_id", "meeting"), ("reminder", "user_id", "user_account"),
    ("membership", "user_id", "user_account"), ("membership", "body_id", "body"),
    ("user_account", "office_id", "office"), ("assessment_history", "actor_user_id", "user_account"),
)


@pytest.fixture
def generated(db, workflows, clock):
    return generate(db, workflows, clock, organisations=ORGANISATIONS, cases=CASES, seed=7)


def scalar(db, sql: str, **parameters):
    with db.engine.connect() as connection:
        return connection.execute(text(sql), parameters).scalar_one()


def rows(db, sql: str, **parameters):
    with db.engine.connect() as connection:
        return connection.execute(text(sql), parameters).all()


def test_every_state_of_every_procedure_is_generated_with_its_history(db, workflows, generated):
    assert generated.rows["assessment"] == CASES
    found = {(procedure, state) for procedure, state in rows(db, "SELECT DISTINCT procedure, state FROM assessment")}
    assert found == {(procedure.name, state) for procedure, state in kinds_of_case(workflows)}
    for procedure, state, public in rows(db, "SELECT DISTINCT procedure, state, is_public FROM assessment"):
        assert bool(public) == workflows.procedures[procedure].states[state].has("public")
    # Each case's story begins with its creation and ends in the state it is in, one entry per version.
    assert scalar(db, "SELECT count(*) FROM assessment a WHERE NOT EXISTS (SELECT 1 FROM assessment_history h "
                      "WHERE h.assessment_id = a.id AND h.event = 'created' AND h.from_state IS NULL)") == 0
    assert scalar(db, "SELECT count(*) FROM assessment a WHERE a.version <> (SELECT count(*) FROM "
                      "assessment_history h WHERE h.assessment_id = a.id) OR a.state <> (SELECT h.to_state FROM "
                      "assessment_history h WHERE h.assessment_id = a.id ORDER BY h.version DESC LIMIT 1)") == 0


def test_every_row_belongs_to_the_organisation_of_its_parent(db, generated):
    for table in ("meeting", "agenda_item", "finding", "minutes", "reminder", "membership", "office", "user_account"):
        assert generated.rows[table] > 0, table
    for child, column, parent in PARENTS:
        strays = scalar(db, f"SELECT count(*) FROM {child} c JOIN {parent} p ON p.id = c.{column} "
                            "WHERE p.organisation_id <> c.organisation_id")
        assert strays == 0, (child, column, parent)
    # Reminders still to go out, each due after now, for meetings as well as cases and questions.
    subjects = {subject for (subject,) in rows(db, "SELECT DISTINCT subject_type FROM reminder WHERE status = 'pending'")}
    assert {"meeting", "assessment"} <= subjects
    assert scalar(db, "SELECT count(*) FROM finding WHERE answer IS NOT NULL") > 0


def test_each_organisation_has_its_reminder_rules_and_a_whole_audit_chain(db, generated):
    shipped = DEFAULT_RULES.read_text(encoding="utf-8").count("- key:")
    assert len(generated.organisation_ids) == ORGANISATIONS
    for organisation in generated.organisation_ids:
        assert scalar(db, "SELECT count(*) FROM reminder_rule WHERE organisation_id = :o", o=organisation) == shipped
        assert scalar(db, "SELECT last_hash FROM audit_head WHERE organisation_id = :o", o=organisation) == GENESIS
        assert audit.verify(db, system_actor("点検", organisation_id=organisation)).ok
    names = rows(db, "SELECT code, name, kind, head_title FROM organisation WHERE id IN :ids".replace(
        ":ids", "(" + ", ".join(map(str, generated.organisation_ids)) + ")"))
    assert [name for _, name, _, _ in names][:2] == ["北海道", "青森県"]
    assert all(kind == "prefecture" and head == f"{name}知事" for _, name, kind, head in names)


def test_a_secretariat_of_one_organisation_lists_only_its_own_cases(db, generated):
    organisation = generated.organisation_ids[1]
    with db.reading(EVERY_ORGANISATION) as session:
        user = session.exec(select(UserAccount).where(UserAccount.organisation_id == organisation,
                                                      UserAccount.is_secretariat)).one()
        secretariat = accounts.actor_for(session, user)
    page = service.list_assessments(db, service.AssessmentFilter(), 1000, 0, secretariat)
    own = scalar(db, "SELECT count(*) FROM assessment WHERE organisation_id = :o", o=organisation)
    assert 0 < page.total == own < CASES
    assert {case.organisation_id for case in page.items} == {organisation}


def test_a_database_holding_cases_is_refused(db, workflows, clock, generated):
    with pytest.raises(DatabaseHoldsCases):
        generate(db, workflows, clock, organisations=1, cases=1)
    assert scalar(db, "SELECT count(*) FROM assessment") == CASES


def test_the_command_generates_and_says_what_it_made(scratch_database, tmp_path):
    env = {"SHINGI_DATABASE_URL": scratch_database(), "SHINGI_FILES_DIR": str(tmp_path / "files")}
    made = CliRunner().invoke(cli.app, ["demo", "generate", "--organisations", "3", "--cases", "60"], env=env)
    assert made.exit_code == 0, made.output
    assert "生成しました" in made.output and "60  案件 (assessment)" in made.output
    again = CliRunner().invoke(cli.app, ["demo", "generate", "--organisations", "3", "--cases", "60"], env=env)
    assert again.exit_code == 1 and "already holds 60 cases" in again.output
