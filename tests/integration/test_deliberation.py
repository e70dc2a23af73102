"""Opinions, reports and replies in the service, a secretariat's own paper template, and the CLI that
writes the papers (tests/api/test_deliberation.py: over HTTP; the Chiba replay is in tests/acceptance)."""

from datetime import date

import pytest
from openpyxl import load_workbook

from notifications import papers
from notifications.register import open_register
from tests.helpers.cases import FULL
from tests.helpers.papers import docx_text
from tests.helpers.people import SYSTEM
from workflow import resolutions, service
from workflow.errors import Conflict, InvalidInput
from workflow.policy import system_actor
from workflow.resolutions import OpinionInput, ResolutionKind


def test_a_report_goes_from_draft_through_the_chair_to_adoption(make_case, db, clock):
    case = make_case("subcommittee_review")
    draft = resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text="案")
    assert draft.status == "draft" and draft.title.endswith("（部会報告）")
    delegated = resolutions.delegate_to_chair(db, clock, draft.id, "多賀谷 部会長", SYSTEM)
    assert (delegated.status, delegated.delegated_to) == ("delegated", "多賀谷 部会長")
    adopted = resolutions.adopt(db, clock, draft.id, date(2025, 6, 1), "多賀谷 部会長", SYSTEM)
    assert (adopted.status, adopted.adopted_on) == ("adopted", date(2025, 6, 1))
    with pytest.raises(Conflict):
        resolutions.adopt(db, clock, draft.id, date(2025, 6, 2), "x", SYSTEM)
    with pytest.raises(Conflict):
        resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text="書き換え")


def test_a_redraft_of_a_report_left_to_the_chair_is_no_longer_left_to_the_chair(make_case, db, clock):
    case = make_case("subcommittee_review")
    draft = resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text="案")
    resolutions.delegate_to_chair(db, clock, draft.id, "多賀谷 部会長", SYSTEM)
    redrafted = resolutions.draft(db, clock, case.id, ResolutionKind.SUBCOMMITTEE_REPORT, SYSTEM, text="第2案")
    assert (redrafted.status, redrafted.delegated_to, redrafted.text) == ("draft", None, "第2案")
    (stored,) = resolutions.resolutions_of(db, case.id, SYSTEM)
    assert stored.delegated_to is None


def test_conditions_are_required_for_a_conditional_verdict(make_case, db, clock):
    case = make_case("subcommittee_review")
    with pytest.raises(InvalidInput) as refused:
        resolutions.record_opinion(db, clock, case.id, OpinionInput(
            verdict="appropriate_with_conditions", decided_on=date(2025, 6, 1)), SYSTEM)
    assert refused.value.problems[0].field == "conditions"


def test_the_opinion_is_frozen_once_the_report_is_adopted(make_case, db, clock, prepare_for):
    case = make_case("subcommittee_review")
    resolutions.record_opinion(db, clock, case.id, OpinionInput(verdict="appropriate", decided_on=date(2025, 6, 1)),
                               SYSTEM)
    prepare_for(case, "report_to_plenary")
    with pytest.raises(Conflict):
        resolutions.record_opinion(db, clock, case.id, OpinionInput(verdict="inappropriate",
                                                                    decided_on=date(2025, 6, 1)), SYSTEM)


def test_a_secretariat_template_replaces_the_shipped_one(tmp_path, make_case, db, core):
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "reply.html").write_text(
        "<html><body><main><h1>{{ subject }}（答申・当市様式）</h1></main></body></html>", encoding="utf-8")
    case = make_case("subcommittee_review", title="独自様式の確認")
    paper = papers.reply(db, case.id, SYSTEM, papers.environment(tmp_path))
    assert "独自様式の確認（答申・当市様式）" in paper.html


def test_an_organisations_own_template_comes_before_the_installs(tmp_path, make_case, db, clock, workflows, second):
    """SHINGI_TEMPLATES_DIR/402010/papers/… serve that organisation alone; the others keep the install's."""
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "findings.html").write_text("<p>{{ subject }}（当市様式）</p>", encoding="utf-8")
    (tmp_path / "402010" / "papers").mkdir(parents=True)
    (tmp_path / "402010" / "papers" / "findings.html").write_text(
        "<p>{{ letterhead.organisation }} {{ subject }}（乙市様式）</p>", encoding="utf-8")
    (tmp_path / "402010" / "papers" / "register.html").write_text(
        "<p>{{ letterhead.organisation }} 計画管理書（乙市様式） {{ total }}件</p>", encoding="utf-8")
    env = papers.environment(tmp_path)
    ours = make_case("subcommittee_review", title="当市の事務")
    otsu = system_actor("乙市 運用者", organisation_id=second.id)
    theirs = service.create_assessment(db, workflows, clock, service.NewAssessment(**{**FULL, "title": "乙市の事務"}),
                                       otsu)
    assert papers.findings(db, ours.id, SYSTEM, env, clock.now().date()).html == "<p>当市の事務（当市様式）</p>"
    assert papers.findings(db, theirs.id, otsu, env, clock.now().date()).html == "<p>乙市 乙市の事務（乙市様式）</p>"
    register = "".join(open_register(db, otsu, workflows, env).html())
    assert register == "<p>乙市 計画管理書（乙市様式） 1件</p>"
    assert "（乙市様式）" not in "".join(open_register(db, SYSTEM, workflows, env).html())


def test_cli_writes_documents(make_case, db, tmp_path):
    import os
    import subprocess
    import sys

    case = make_case("published", title="CLI確認の事務")
    env = {**os.environ, "SHINGI_DATABASE_URL": db.url}
    register = tmp_path / "register.xlsx"
    done = subprocess.run([sys.executable, "-m", "shingi.cli", "papers", "register", "--format", "xlsx",
                           "--output", str(register)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert any(row[1] == "CLI確認の事務" for row in load_workbook(register)["計画管理書"].iter_rows(values_only=True))
    report = tmp_path / "report.docx"
    done = subprocess.run([sys.executable, "-m", "shingi.cli", "papers", "subcommittee-report", "--case", str(case.id),
                           "--output", str(report)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "1 審議事項" in docx_text(report.read_bytes())
    missing = subprocess.run([sys.executable, "-m", "shingi.cli", "papers", "reply"], env=env, capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 1 and "needs --case" in missing.stderr


def test_a_case_titled_like_a_formula_is_text_in_the_register(make_case, core, tmp_path):
    make_case("published", title='=HYPERLINK("http://example.invalid/","x")')
    path = tmp_path / "register.xlsx"
    core.papers.register(SYSTEM).write_xlsx(path)
    book = load_workbook(path)
    (cell,) = [row[1] for row in book["計画管理書"].iter_rows(min_row=2) if str(row[1].value).startswith("=")]
    assert (cell.data_type, cell.quotePrefix) == ("s", True)
