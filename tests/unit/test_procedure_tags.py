"""What procedure files tell the rest of the service: state tags, titles of choice values, input
defaults, what a procedure serves, and the shared fragments procedure files include. No database."""

import textwrap
from pathlib import Path

import pytest

from states import ProcedureDefinitionError, load_procedures, read_procedure
from states.definition import STATE_TAGS, Text
from states.loader import SHIPPED_DIR, procedure_files
from workflow.engine import WRITABLE_FIELDS
from workflow.guards import DEFAULTS, EFFECTS, GUARDS

KNOWN = {"guards": GUARDS, "effects": EFFECTS, "fields": WRITABLE_FIELDS, "defaults": DEFAULTS}

MINIMAL = """
name: tiny
initial: drafted
states:
  drafted: {title: 作成中}
  published: {title: 公表済, kind: terminal}
events:
  publish: {from: drafted, to: published}
"""

#: A procedure that has its withdrawal from a fragment.
INCLUDING = """
name: tiny
initial: drafted
include: [leaving.yaml]
states:
  drafted: {title: 作成中}
  published: {title: 公表済, kind: terminal}
events:
  publish: {from: drafted, to: published}
"""

LEAVING = """
states:
  gone: {title: 取下げ, kind: terminal, tags: [ended]}
events:
  leave: {from: "@active", to: gone}
"""


def write(folder: Path, body: str, name: str = "tiny.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def refused(path: Path, **known) -> str:
    """The message of the ProcedureDefinitionError that reading `path` raises."""
    with pytest.raises(ProcedureDefinitionError) as raised:
        read_procedure(path, **known)
    return str(raised.value)


@pytest.fixture(scope="module")
def shipped():
    return load_procedures(**KNOWN)


# --- state tags ---------------------------------------------------------------------------------------

def test_every_tag_has_a_meaning():
    assert set(STATE_TAGS) == {"public", "public_comment", "review", "ended"}
    assert all(meaning.strip() for meaning in STATE_TAGS.values())


def test_shipped_states_carry_their_tags(shipped):
    tags = {name: {state: set(spec.tags) for state, spec in procedure.states.items()}
            for name, procedure in shipped.items()}
    after_drafting = {"published": {"public"}, "withdrawn": {"ended"}}
    assert tags["basic_assessment"] == {"drafted": set(), **after_drafting}
    assert tags["focused_assessment"] == {"drafted": set(), **after_drafting}
    assert tags["full_assessment"] == {
        "drafted": set(), "public_comment": {"public", "public_comment"}, "subcommittee_review": {"review"},
        "revised": {"review"}, "reported_to_plenary": {"review"}, **after_drafting,
    }
    assert tags["consultation"] == {
        "consulted": set(), "under_deliberation": {"review"}, "reported_to_plenary": {"review"},
        "replied": set(), "withdrawn": {"ended"},
    }


def test_states_are_found_by_their_tags(shipped):
    full = shipped["full_assessment"]
    assert full.states_tagged("public") == {"published", "public_comment"}
    assert full.states_tagged("public_comment") == {"public_comment"}
    assert full.states_tagged("ended") == {"withdrawn"}
    assert full.states["public_comment"].has("public") and not full.states["drafted"].has("public")
    assert full.states["public_comment"].as_dict()["tags"] == ["public", "public_comment"]
    assert full.states["drafted"].as_dict()["tags"] == []


def test_a_misspelt_tag_in_code_is_refused_rather_than_matching_nothing(shipped):
    full = shipped["full_assessment"]
    with pytest.raises(ValueError, match="unknown state tag 'pubic'"):
        full.states_tagged("pubic")
    with pytest.raises(ValueError, match="unknown state tag 'pubic'"):
        full.states["published"].has("pubic")


def test_a_renamed_state_keeps_what_its_tag_means(tmp_path):
    # A secretariat that calls the comment period 意見募集 keeps it public and keeps its reminders.
    own = (SHIPPED_DIR / "full_assessment.yaml").read_text(encoding="utf-8")
    assert own.count("\n  public_comment: ") == 1
    own = own.replace("\n  public_comment: ", "\n  comment_period: ")
    own = own.replace("[drafted, subcommittee_review, revised]\n    to: public_comment",
                      "[drafted, subcommittee_review, revised]\n    to: comment_period")
    own = own.replace("from: public_comment", "from: comment_period")
    write(tmp_path, own, "full_assessment.yaml")
    full = load_procedures([tmp_path], **KNOWN)["full_assessment"]
    assert "public_comment" not in full.states and "close_public_comment" in full.events
    assert full.states_tagged("public") == {"published", "comment_period"}
    assert full.states_tagged("public_comment") == {"comment_period"}


@pytest.mark.parametrize(("tags", "fault"), [
    ("[public, secret]", "state 'published' has unknown tag(s) secret; allowed tags: public, public_comment, "
                         "review, ended"),
    ("public", "state 'published': 'tags' must be a list"),
    ("[ended]", "state 'published': tag 'ended' is for terminal states"),
    ("[public_comment]", "state 'published': tag 'public_comment' needs tag 'public' too"),
])
def test_tag_faults_are_named(tmp_path, tags, fault):
    body = MINIMAL.replace("published: {title: 公表済, kind: terminal}", f"published: {{title: 公表済, tags: {tags}}}")
    body = body.replace("  publish: {from: drafted, to: published}",
                        "  publish: {from: drafted, to: published}\n  reopen: {from: published, to: drafted}")
    path = write(tmp_path, body)
    message = refused(path)
    assert fault in message
    assert str(path) in message and "procedure 'tiny'" in message


def test_ended_on_a_terminal_state_is_accepted(tmp_path):
    body = MINIMAL.replace("kind: terminal}", "kind: terminal, tags: [ended]}")
    assert read_procedure(write(tmp_path, body)).states_tagged("ended") == {"published"}


# --- titles of choice values ----------------------------------------------------------------------------

def test_shipped_reasons_for_a_reassessment_have_titles(shipped):
    for procedure in ("basic_assessment", "focused_assessment", "full_assessment"):
        (reason,) = [spec for spec in shipped[procedure].events["start_reassessment"].inputs if spec.name == "reason"]
        assert reason.choices == ("significant_change", "threshold_changed", "five_year_term")
        assert reason.choice_titles == {
            "significant_change": Text("重要な変更", "Significant change"),
            "threshold_changed": Text("しきい値判断結果の変更", "Changed threshold result"),
            "five_year_term": Text("5年経過", "Five-year term"),
        }
        assert reason.as_dict()["choice_titles"]["five_year_term"] == {"ja": "5年経過", "en": "Five-year term"}
        assert reason.choice_title("threshold_changed").in_language("en") == "Changed threshold result"


def test_choices_as_a_list_have_no_titles(tmp_path):
    body = MINIMAL.replace("to: published}", "to: published, inputs: {pick: {type: choice, choices: [a, b]}}}")
    (pick,) = read_procedure(write(tmp_path, body)).events["publish"].inputs
    assert pick.choices == ("a", "b") and pick.choice_titles == {}
    assert "choice_titles" not in pick.as_dict()
    assert pick.choice_title("a") == Text("a", "a")


def test_a_choice_title_may_be_one_string(tmp_path):
    body = MINIMAL.replace("to: published}", "to: published, inputs: {pick: {type: choice, choices: {a: 甲}}}}")
    (pick,) = read_procedure(write(tmp_path, body)).events["publish"].inputs
    assert pick.choice_titles == {"a": Text("甲", "甲")}


@pytest.mark.parametrize(("choices", "fault"), [
    ("{a: 3}", "input 'pick' choice 'a' title must be a string or a mapping with 'ja'"),
    ("{a: {en: A}}", "input 'pick' choice 'a' title must be a string or a mapping with 'ja'"),
    ("a", "input 'pick': 'choices' must be a list of values or a mapping of value to its title"),
    ("[a, 3]", "input 'pick': 'choices' must be a list of values or a mapping of value to its title"),
    ("{3: 三}", "input 'pick': choice values must be non-empty strings"),
])
def test_choice_faults_are_named(tmp_path, choices, fault):
    body = MINIMAL.replace("to: published}", f"to: published, inputs: {{pick: {{type: choice, choices: {choices}}}}}}}")
    path = write(tmp_path, body)
    message = refused(path)
    assert fault in message and "event 'publish'" in message and str(path) in message


# --- input defaults -------------------------------------------------------------------------------------

def test_every_shipped_comment_count_is_filled_in_from_the_recorded_comments(shipped):
    counts = [(procedure.name, event.name, spec) for procedure in shipped.values()
              for event in procedure.events.values() for spec in event.inputs if spec.name == "comment_count"]
    assert {(procedure, event) for procedure, event, _ in counts} == {
        ("full_assessment", "close_public_comment"), ("full_assessment", "close_public_comment_and_revise"),
    }
    for _, _, spec in counts:
        assert spec.default_from == "recorded_comment_count"
        assert spec.required and not spec.must_be_given  # present once filled in; the person may leave it out
        assert spec.as_dict()["default_from"] == "recorded_comment_count"


def test_an_input_without_a_default_must_be_given(shipped):
    (reported_on,) = shipped["full_assessment"].events["report_to_plenary"].inputs
    assert reported_on.default_from is None and reported_on.must_be_given
    assert "default_from" not in reported_on.as_dict()


COUNTED = MINIMAL.replace("to: published}", "to: published, inputs: {count: {type: int, default_from: %s}}}")


def test_an_unknown_provider_is_named_with_the_known_ones(tmp_path):
    path = write(tmp_path, COUNTED % "guessed_count")
    message = refused(path, defaults=DEFAULTS)
    assert str(path) in message and "procedure 'tiny'" in message
    assert "event 'publish' input 'count' takes its default from unknown provider 'guessed_count'" in message
    assert f"known providers: {', '.join(sorted(DEFAULTS))}" in message
    assert "recorded_comment_count" in message


def test_providers_are_not_checked_when_none_are_given(tmp_path):
    (count,) = read_procedure(write(tmp_path, COUNTED % "guessed_count")).events["publish"].inputs
    assert count.default_from == "guessed_count"


def test_a_provider_must_be_a_name(tmp_path):
    assert "default_from must name a provider" in refused(write(tmp_path, COUNTED % "'two words'"))


def test_shipped_files_name_no_provider_outside_those_given():
    with pytest.raises(ProcedureDefinitionError, match="unknown provider 'recorded_comment_count'; known providers: none"):
        load_procedures(defaults=())


# --- what a procedure serves ----------------------------------------------------------------------------

def test_the_consultation_procedure_is_found_by_what_it_serves(shipped):
    assert {name for name, procedure in shipped.items() if procedure.serves == "consultation"} == {"consultation"}
    assert all(procedure.serves == "assessment" for name, procedure in shipped.items() if name != "consultation")
    assert shipped["consultation"].as_dict()["serves"] == "consultation"
    assert shipped["consultation"].levels == ()


@pytest.mark.parametrize(("change", "fault"), [
    (("initial: drafted", "serves: advice\ninitial: drafted"), "serves 'advice' is not one of assessment, consultation"),
    (("initial: drafted", "serves: consultation\nlevels: [full]\ninitial: drafted"),
     "a procedure that serves consultation declares no levels"),
    (("initial: drafted", "levels: full\ninitial: drafted"), "'levels' must be a list such as [full]"),
])
def test_serves_faults_are_named(tmp_path, change, fault):
    old, new = change
    path = write(tmp_path, MINIMAL.replace(old, new))
    message = refused(path)
    assert fault in message and str(path) in message and "procedure 'tiny'" in message


def test_a_consultation_with_no_levels_is_accepted(tmp_path):
    body = MINIMAL.replace("initial: drafted", "serves: consultation\nlevels: []\ninitial: drafted")
    assert read_procedure(write(tmp_path, body)).serves == "consultation"


def test_a_second_consultation_procedure_is_refused(tmp_path):
    path = write(tmp_path, MINIMAL.replace("initial: drafted", "serves: consultation\ninitial: drafted"))
    with pytest.raises(ProcedureDefinitionError) as raised:
        load_procedures([tmp_path], **KNOWN)
    assert "consultation is already served by procedure 'consultation'" in str(raised.value)
    assert str(path) in str(raised.value) and "procedure 'tiny'" in str(raised.value)


def test_replacing_the_consultation_with_an_assessment_is_refused(tmp_path):
    write(tmp_path, MINIMAL.replace("name: tiny", "name: consultation"), "consultation.yaml")
    with pytest.raises(ProcedureDefinitionError, match="no procedure serves consultation"):
        load_procedures([tmp_path], **KNOWN)


# --- shared fragments -----------------------------------------------------------------------------------

def test_shared_fragments_are_not_procedures(tmp_path):
    assert (SHIPPED_DIR / "shared" / "withdrawal.yaml").is_file()
    write(tmp_path / "shared", LEAVING, "leaving.yaml")
    write(tmp_path, INCLUDING)
    files = procedure_files([tmp_path])
    assert not [path for path in files if path.parent.name == "shared"]
    assert set(load_procedures([tmp_path], **KNOWN)) == {
        "basic_assessment", "focused_assessment", "full_assessment", "consultation", "tiny",
    }


def test_a_fragment_adds_its_states_and_events_after_the_files_own(tmp_path):
    write(tmp_path / "shared", LEAVING, "leaving.yaml")
    tiny = read_procedure(write(tmp_path, INCLUDING))
    assert list(tiny.states) == ["drafted", "published", "gone"]
    assert list(tiny.events) == ["publish", "leave"]
    assert [event.name for event in tiny.events_from("drafted")] == ["publish", "leave"]
    assert tiny.events["leave"].sources == ("drafted",)  # "@active" is read against the merged states
    assert tiny.states_tagged("ended") == {"gone"}


def test_a_secretariat_replaces_a_procedure_and_includes_the_shipped_fragments(tmp_path, shipped):
    own = (SHIPPED_DIR / "basic_assessment.yaml").read_text(encoding="utf-8")
    assert "include:" in own
    path = write(tmp_path, own.replace("target_days: 60", "target_days: 45"), "basic_assessment.yaml")
    basic = load_procedures([tmp_path], **KNOWN)["basic_assessment"]
    assert basic.source == str(path)
    assert basic.states["drafted"].target_days == 45
    expected = shipped["basic_assessment"].as_dict()
    expected["states"][0]["target_days"] = 45
    assert basic.as_dict() == expected


def test_a_secretariats_own_fragment_comes_before_the_shipped_one(tmp_path):
    own = (SHIPPED_DIR / "shared" / "withdrawal.yaml").read_text(encoding="utf-8").replace("取り下げる", "取り下げを受理する")
    write(tmp_path / "shared", own, "withdrawal.yaml")
    write(tmp_path, (SHIPPED_DIR / "basic_assessment.yaml").read_text(encoding="utf-8"), "basic_assessment.yaml")
    procedures = load_procedures([tmp_path], **KNOWN)
    assert procedures["basic_assessment"].events["withdraw"].title.ja == "取り下げを受理する"
    assert procedures["focused_assessment"].events["withdraw"].title.ja == "取り下げる"  # shipped file, shipped fragment


def test_a_name_in_both_the_file_and_a_fragment_is_refused(tmp_path):
    fragment = write(tmp_path / "shared", LEAVING, "leaving.yaml")
    body = INCLUDING.replace("  publish: {from: drafted, to: published}",
                             "  publish: {from: drafted, to: published}\n  leave: {from: drafted, to: published}")
    path = write(tmp_path, body)
    message = refused(path)
    assert f"event 'leave' is defined both in {path} and in fragment {fragment}" in message
    assert "procedure 'tiny'" in message


def test_a_name_in_two_fragments_is_refused(tmp_path):
    first = write(tmp_path / "shared", LEAVING, "leaving.yaml")
    second = write(tmp_path / "shared", "states:\n  gone: {title: 終了, kind: terminal}\n", "ending.yaml")
    path = write(tmp_path, INCLUDING.replace("[leaving.yaml]", "[leaving.yaml, ending.yaml]"))
    assert f"state 'gone' is defined both in fragment {first} and in fragment {second}" in refused(path)


def test_a_missing_fragment_is_named(tmp_path):
    path = write(tmp_path, INCLUDING.replace("[leaving.yaml]", "[leavng.yaml]"))
    message = refused(path)
    assert str(path) in message and "procedure 'tiny'" in message
    assert "includes unknown fragment 'leavng.yaml'" in message
    assert str(tmp_path / "shared") in message and str(SHIPPED_DIR / "shared") in message


@pytest.mark.parametrize(("include", "fault"), [
    ("leaving.yaml", "'include' must be a list of fragment file names"),
    ("[../leaving.yaml]", "fragment '../leaving.yaml' must be a file name ending in .yaml, without a folder"),
    ("[leaving.txt]", "fragment 'leaving.txt' must be a file name ending in .yaml"),
    ("[leaving.yaml, leaving.yaml]", "fragment 'leaving.yaml' is included twice"),
])
def test_include_faults_are_named(tmp_path, include, fault):
    write(tmp_path / "shared", LEAVING, "leaving.yaml")
    path = write(tmp_path, INCLUDING.replace("[leaving.yaml]", include))
    message = refused(path)
    assert fault in message and str(path) in message


@pytest.mark.parametrize(("fragment", "fault"), [
    ("name: leaving\n" + LEAVING, "has unknown key(s) name; allowed: events, states"),
    ("include: [other.yaml]\n" + LEAVING, "has unknown key(s) include"),
    ("states: [gone]\n", "'states' must be a mapping of state name"),
    ("", "must hold a mapping with 'states' and/or 'events'"),
    ("states: [unclosed\n", "is not valid YAML"),
])
def test_fragment_faults_name_the_fragment(tmp_path, fragment, fault):
    path_of_fragment = write(tmp_path / "shared", fragment, "leaving.yaml")
    path = write(tmp_path, INCLUDING)
    message = refused(path)
    assert f"fragment {path_of_fragment}" in message and fault in message
    assert str(path) in message and "procedure 'tiny'" in message


def test_a_fault_inside_a_fragment_names_where_it_came_from(tmp_path):
    fragment = write(tmp_path / "shared", LEAVING.replace("to: gone", "to: nowhere"), "leaving.yaml")
    message = refused(write(tmp_path, INCLUDING))
    assert f"event 'leave' (from fragment {fragment}) goes to unknown state 'nowhere'" in message


def test_a_shipped_file_reads_on_its_own_with_its_fragments():
    # As `shingi procedures check` reads it: one file, its fragments found beside it.
    full = read_procedure(SHIPPED_DIR / "full_assessment.yaml", **KNOWN)
    assert {"published", "withdrawn"} <= set(full.states)
    assert list(full.events)[-3:] == ["record_annual_review", "start_reassessment", "withdraw"]
