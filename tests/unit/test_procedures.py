"""Procedure files: the shipped ones load; every kind of fault is named at load time."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from states import ProcedureDefinitionError, load_procedures, read_procedure
from states.diagram import mermaid
from workflow.engine import WRITABLE_FIELDS, Workflows
from workflow.guards import DEFAULTS, EFFECTS, GUARDS

KNOWN = {"guards": GUARDS, "effects": EFFECTS, "fields": WRITABLE_FIELDS, "defaults": DEFAULTS}

MINIMAL = """
name: tiny
levels: []
initial: drafted
states:
  drafted: {title: 作成中}
  published: {title: 公表済, kind: terminal}
events:
  publish: {from: drafted, to: published}
"""


def write(tmp_path: Path, body: str, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_shipped_procedures_load_and_serve_every_level():
    workflows = Workflows.load()
    assert set(workflows.procedures) >= {"full_assessment", "focused_assessment", "basic_assessment"}
    assert workflows.procedure_for_level("full").name == "full_assessment"
    assert workflows.procedure_for_level("focused").name == "focused_assessment"
    assert workflows.procedure_for_level("basic").name == "basic_assessment"


def test_full_assessment_has_the_roads_of_the_domain():
    full = Workflows.load().procedure("full_assessment")
    edges = {(source, event.target) for event in full.events.values() for source in event.sources}
    assert {
        ("drafted", "public_comment"), ("public_comment", "subcommittee_review"),
        ("subcommittee_review", "revised"), ("revised", "subcommittee_review"),
        ("subcommittee_review", "reported_to_plenary"), ("reported_to_plenary", "published"),
        ("public_comment", "revised"),                                  # the office revises first
        ("drafted", "subcommittee_review"), ("subcommittee_review", "public_comment"),  # Chiba's pre-check
        ("published", "published"), ("published", "drafted"),
    } <= edges
    open_states = [name for name, state in full.states.items() if state.kind == "active"]
    assert {event.name for state in open_states for event in full.events_from(state)} >= {"withdraw"}
    assert all("withdraw" in {e.name for e in full.events_from(state)} for state in open_states)
    assert "withdraw" not in {e.name for e in full.events_from("published")}


#: The keys procedure descriptions gained with tags, choice titles, input defaults and `serves`.
NEW_KEYS = {"tags", "choice_titles", "default_from", "serves"}


def without_new_keys(described):
    if isinstance(described, dict):
        return {key: without_new_keys(value) for key, value in described.items() if key not in NEW_KEYS}
    if isinstance(described, list):
        return [without_new_keys(value) for value in described]
    return described


def test_shipped_procedures_are_what_they_were_before_the_shared_fragments():
    # Captured before the files included shared/ fragments: the same states and events, in the same order.
    before = json.loads((Path(__file__).parent / "fixtures" / "procedures_before.json").read_text(encoding="utf-8"))
    procedures = load_procedures(**KNOWN)
    assert set(procedures) == set(before)
    for name, procedure in procedures.items():
        assert without_new_keys(procedure.as_dict()) == before[name]["as_dict"], name
        assert {state: [event.name for event in procedure.events_from(state)] for state in procedure.states} \
            == before[name]["events_from"], name


def test_a_minimal_file_loads(tmp_path):
    procedure = read_procedure(write(tmp_path, MINIMAL), **KNOWN)
    assert procedure.name == "tiny"
    assert [e.name for e in procedure.events_from("drafted")] == ["publish"]


@pytest.mark.parametrize(("change", "fault"), [
    (("to: published}", "to: nowhere}"), "goes to unknown state 'nowhere'"),
    (("from: drafted, to", "from: limbo, to"), "starts from unknown state 'limbo'"),
    (("{from: drafted, to: published}", "{from: drafted}"), "event 'publish' has no target ('to')"),
    (("initial: drafted", "initial: nothing"), "initial state 'nothing' is not among the states"),
    (("  published: {title: 公表済, kind: terminal}",
      "  published: {title: 公表済, kind: terminal}\n  orphan: {title: 孤立, kind: terminal}"),
     "state(s) orphan cannot be reached from 'drafted'"),
    (("to: published}", "to: published, guards: [moon_is_full]}"), "unknown guard 'moon_is_full'"),
    (("to: published}", "to: published, effects: [send_flowers]}"), "unknown effect 'send_flowers'"),
    (("to: published}", "to: published, actor: mayor}"), "actor 'mayor'"),
    (("levels: []", "levels: [huge]"), "unknown level 'huge'"),
    (("kind: terminal}", "kind: final}"), "kind 'final'"),
    (("to: published}", "to: published, colour: red}"), "unknown key(s) colour"),
    (("to: published}", "to: published, inputs: {when: {type: moment}}}"), "type 'moment'"),
    (("to: published}", "to: published, inputs: {when: {type: date, field: secret}}}"), "unknown case field 'secret'"),
    (("to: published}", "to: published, inputs: {pick: {type: choice}}}"), "needs 'choices'"),
    (("to: published}", "to: published, inputs: {note: text}}"), "'note' is reserved"),
    (("  published: {title: 公表済, kind: terminal}", "  published: {title: 公表済}"),
     "state 'published' has no outgoing event"),
])
def test_faults_are_named(tmp_path, change, fault):
    old, new = change
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(ProcedureDefinitionError) as raised:
        read_procedure(path, **KNOWN)
    message = str(raised.value)
    assert fault in message
    assert str(path) in message and "procedure 'tiny'" in message


def test_terminal_state_with_an_exit_is_refused(tmp_path):
    body = MINIMAL.replace("  publish: {from: drafted, to: published}",
                           "  publish: {from: drafted, to: published}\n  reopen: {from: published, to: drafted}")
    with pytest.raises(ProcedureDefinitionError, match="terminal state 'published' has outgoing event"):
        read_procedure(write(tmp_path, body), **KNOWN)


def test_not_yaml_is_named(tmp_path):
    with pytest.raises(ProcedureDefinitionError, match="is not valid YAML"):
        read_procedure(write(tmp_path, "name: [unclosed"), **KNOWN)


def test_secretariat_file_replaces_a_shipped_procedure(tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "states" / "procedures" / "basic_assessment.yaml"
    own = shipped.read_text(encoding="utf-8").replace("target_days: 60", "target_days: 45")
    write(tmp_path, own, "basic_assessment.yaml")
    procedures = load_procedures([tmp_path], **KNOWN)
    assert procedures["basic_assessment"].states["drafted"].target_days == 45
    assert procedures["basic_assessment"].source == str(tmp_path / "basic_assessment.yaml")


def test_two_procedures_for_one_level_are_refused(tmp_path):
    write(tmp_path, MINIMAL.replace("levels: []", "levels: [full]"))
    with pytest.raises(ProcedureDefinitionError, match="level 'full' is already served by procedure"):
        load_procedures([tmp_path], **KNOWN)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(ProcedureDefinitionError, match="is not a folder"):
        load_procedures([tmp_path / "nope"], **KNOWN)


def test_a_bad_file_stops_the_service_at_start(tmp_path, monkeypatch):
    from shingi import bootstrap
    from shingi.config import Settings

    write(tmp_path, MINIMAL.replace("to: published}", "to: nowhere}"))
    with pytest.raises(ProcedureDefinitionError, match="unknown state 'nowhere'"):
        bootstrap.build(Settings(procedures_dir=tmp_path, database_url="sqlite://"))


def test_diagram_is_drawn_from_the_definition():
    full = Workflows.load().procedure("full_assessment")
    diagram = mermaid(full)
    assert diagram.startswith("stateDiagram-v2")
    assert "drafted --> public_comment: 意見聴取を開始する" in diagram
    assert "subcommittee_review --> reported_to_plenary: 審議会（全体会）へ部会報告する" in diagram


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shingi.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_check_accepts_good_files(project_root):
    result = run_cli("procedures", "check", *map(str, sorted((project_root / "states" / "procedures").glob("*.yaml"))))
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout and "full_assessment" in result.stdout


def test_cli_check_names_the_fault(tmp_path):
    path = write(tmp_path, MINIMAL.replace("to: published}", "to: nowhere}"))
    result = run_cli("procedures", "check", str(path))
    assert result.returncode == 1
    assert f"{path}: procedure 'tiny': event 'publish' goes to unknown state 'nowhere'" in result.stderr
