"""Lifecycle files (states/lifecycles/*.yaml): the shipped ones say what the code allowed before they
existed; every kind of fault is named at load time; the runner's 409. No database."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from states import Lifecycle, LifecycleDefinitionError, load_lifecycles, read_lifecycle
from states.lifecycle import SHIPPED_LIFECYCLES_DIR
from workflow import lifecycle
from workflow.errors import Conflict
from workflow.findings import EVENT_ACTIONS, FindingStatus
from workflow.lifecycle import FINDING, LIFECYCLES, MEETING, MINUTES, RESOLUTION
from workflow.meetings import MeetingStatus
from workflow.minutes import MinutesStatus
from workflow.policy import Action
from workflow.resolutions import ResolutionStatus

TINY = """
name: tiny
title: {ja: 小票, en: slip}
initial: draft
statuses:
  draft: {title: {ja: 草案, en: draft}}
  done: {title: {ja: 完了, en: done}}
events:
  edit:
    title: {ja: 修正する, en: edit}
    from: [draft]
    to: "@same"
  finish:
    title: {ja: 完了とする, en: finish}
    from: [draft]
    to: done
    actor: [office, secretariat]
"""


def write(tmp_path: Path, body: str, name: str = "tiny.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def table(of: Lifecycle) -> dict[str, tuple[set[str], str | None]]:
    return {name: (set(event.sources), event.target) for name, event in of.events.items()}


# --- the shipped lifecycles ---------------------------------------------------------------------

def test_the_shipped_lifecycles_load_once():
    assert set(LIFECYCLES) == {"meeting", "minutes", "finding", "resolution"}
    assert load_lifecycles() == dict(LIFECYCLES)
    assert {path.stem for path in SHIPPED_LIFECYCLES_DIR.glob("*.yaml")} == set(LIFECYCLES)


@pytest.mark.parametrize(("of", "enum"), [(MEETING, MeetingStatus), (MINUTES, MinutesStatus),
                                          (FINDING, FindingStatus), (RESOLUTION, ResolutionStatus)])
def test_the_status_enums_are_the_files_statuses(of, enum):
    assert [member.value for member in enum] == list(of.statuses)
    assert of.initial == next(iter(enum)).value  # a new record starts in the first status


def test_a_meeting_is_moved_cancelled_or_held_and_fixed_before_or_after():
    stays_either = ({"scheduled", "held"}, None)
    assert table(MEETING) == {
        "move": ({"scheduled"}, None),
        "cancel": ({"scheduled"}, "cancelled"),
        "hold": ({"scheduled"}, "held"),
        "record_attendance": stays_either,
        "link_material": stays_either,
        "schedule_next": stays_either,
    }
    assert MEETING.events_from("cancelled") == ()


def test_minutes_go_from_draft_to_published_with_corrections_on_the_way():
    assert table(MINUTES) == {
        "revise": ({"draft"}, None),
        "send": ({"draft"}, "correcting"),
        "correct": ({"correcting"}, None),
        "apply": ({"correcting"}, None),
        "confirm": ({"correcting"}, "confirmed"),
        "publish": ({"confirmed"}, "published"),
    }
    assert MINUTES.events["correct"].actors == ("member", "secretariat")
    assert MINUTES.events["confirm"].actors == ("chair", "secretariat")


def test_findings_are_answered_carried_closed_and_reopened():
    assert table(FINDING) == {
        "answer": ({"open", "carried"}, "answered"),
        "carry": ({"open", "answered", "carried"}, "carried"),
        "close": ({"open", "answered", "carried"}, "closed"),
        "reopen": ({"answered", "closed"}, "open"),
    }
    assert FINDING.events["answer"].actors == ("office", "secretariat")
    assert all(event.actors == ("secretariat",) for name, event in FINDING.events.items() if name != "answer")


def test_who_may_fire_each_finding_event_is_named_for_every_event():
    assert set(EVENT_ACTIONS) == set(FINDING.events)
    assert EVENT_ACTIONS["answer"] is Action.ANSWER_FINDING


def test_a_resolution_may_be_left_to_the_chair_and_is_final_once_adopted():
    assert table(RESOLUTION) == {
        "redraft": ({"draft", "delegated"}, "draft"),
        "delegate": ({"draft"}, "delegated"),
        "adopt": ({"draft", "delegated"}, "adopted"),
    }
    assert RESOLUTION.events_from("adopted") == ()


def test_titles_are_given_in_both_languages():
    for of in LIFECYCLES.values():
        assert of.title.ja and of.title.en
        assert all(title.ja and title.en for title in of.statuses.values())
        assert all(event.title.ja and event.title.en for event in of.events.values())


def test_finding_status_titles_are_the_files():
    assert FindingStatus.ANSWERED.title.as_dict() == {"ja": "回答済", "en": "Answered"}


# --- the runner ---------------------------------------------------------------------------------

def test_allowed_names_each_event_its_title_and_where_it_leads():
    assert lifecycle.allowed(MINUTES, "draft") == [
        {"name": "revise", "title": {"ja": "草案を修正する", "en": "revise the draft"}, "to": "draft"},
        {"name": "send", "title": {"ja": "委員に確認を依頼する", "en": "send to the members for corrections"},
         "to": "correcting"},
    ]
    assert [event["to"] for event in lifecycle.allowed(MEETING, "held")] == ["held"] * 3
    assert lifecycle.allowed(MEETING, "cancelled") == []
    assert lifecycle.allowed(MEETING, "no_such_status") == []


def test_require_answers_the_status_the_event_leads_to():
    assert lifecycle.require(FINDING, "answer", "carried") == "answered"
    assert lifecycle.require(MINUTES, "correct", "correcting") == "correcting"  # it keeps the status
    assert lifecycle.require(MEETING, "link_material", "held") == "held"


def test_an_event_in_the_wrong_status_is_the_409_the_services_raised():
    with pytest.raises(Conflict) as refused:
        lifecycle.require(FINDING, "answer", "answered")
    error = refused.value
    assert (error.code, error.current_state, error.current_version) == ("conflict", "answered", None)
    assert error.allowed_events == lifecycle.allowed(FINDING, "answered")
    assert [event["name"] for event in error.allowed_events] == ["carry", "close", "reopen"]
    assert error.message.ja == ("この質問・意見は「回答済」のため「回答する」はできません"
                                "（可能な操作: 次回の会議に持ち越す、終了する、再開する）。")
    assert error.message.en == ("'Answer' is not possible while the status of the finding is 'Answered' "
                                "(possible: carry, close, reopen).")


def test_the_409_carries_the_version_and_says_when_nothing_is_possible():
    with pytest.raises(Conflict) as refused:
        lifecycle.require(MEETING, "move", "cancelled", version=3)
    error = refused.value
    assert (error.current_state, error.current_version, error.allowed_events) == ("cancelled", 3, [])
    assert "「中止」" in error.message.ja and "なし" in error.message.ja
    assert "(possible: none)" in error.message.en


def test_an_unknown_event_is_a_bug_not_a_409():
    with pytest.raises(KeyError):
        lifecycle.require(MEETING, "no_such_event", "scheduled")


def test_a_status_the_file_does_not_know_is_named_as_it_is():
    assert MEETING.status_title("postponed").as_dict() == {"ja": "postponed", "en": "postponed"}


# --- the model and the loader -------------------------------------------------------------------

def test_a_file_reads_into_a_frozen_lifecycle(tmp_path):
    tiny = read_lifecycle(write(tmp_path, TINY))
    assert (tiny.name, tiny.initial, list(tiny.statuses), list(tiny.events)) == ("tiny", "draft",
                                                                                   ["draft", "done"],
                                                                                   ["edit", "finish"])
    assert tiny.source == str(tmp_path / "tiny.yaml")
    assert (tiny.events["edit"].target, tiny.events["edit"].leads_to("draft")) == (None, "draft")
    assert tiny.events["edit"].actors == ("secretariat",)  # the default
    assert tiny.events["finish"].actors == ("office", "secretariat")
    assert tiny.events["finish"].sources == ("draft",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.initial = "done"  # type: ignore[misc]
    with pytest.raises(TypeError):
        tiny.statuses["lost"] = tiny.statuses["done"]  # type: ignore[index]


def test_from_may_name_one_status_without_a_list(tmp_path):
    tiny = read_lifecycle(write(tmp_path, TINY.replace("from: [draft]\n    to: done", "from: draft\n    to: done")))
    assert tiny.events["finish"].sources == ("draft",)


FAULTS = {
    "unknown source": (TINY.replace("from: [draft]\n    to: done", "from: [drafted]\n    to: done"),
                       "event 'finish' starts from unknown status 'drafted'"),
    "unknown target": (TINY.replace("to: done", "to: finished"), "event 'finish' leads to unknown status 'finished'"),
    "unknown initial": (TINY.replace("initial: draft", "initial: new"), "initial status 'new' is not among"),
    "no target": (TINY.replace("    to: done\n", ""), "event 'finish' has no target"),
    "empty target": (TINY.replace("to: done", "to: ''"), "event 'finish' has no target"),
    "null target": (TINY.replace("to: done", "to: ~"), "event 'finish' has no target"),
    "unreachable": (TINY.replace("  done: {title: {ja: 完了, en: done}}\n",
                                 "  done: {title: {ja: 完了, en: done}}\n  lost: {title: {ja: 不明, en: lost}}\n"),
                    "status(es) lost cannot be reached from 'draft'"),
    "duplicate event": (TINY + """  edit:
    title: {ja: 再修正, en: edit again}
    from: [draft]
    to: "@same"
""", "'edit' is declared twice (lines 9 and 18)"),
    "duplicate status": (TINY.replace("  done: {title: {ja: 完了, en: done}}\n",
                                      "  done: {title: {ja: 完了, en: done}}\n  draft: {title: {ja: 案, en: draft}}\n"),
                         "'draft' is declared twice (lines 6 and 8)"),
    "status twice in from": (TINY.replace("from: [draft]\n    to: done", "from: [draft, draft]\n    to: done"),
                             "event 'finish' names status(es) draft twice in 'from'"),
    "empty from": (TINY.replace("from: [draft]\n    to: done", "from: []\n    to: done"),
                   "event 'finish': 'from' must name the status(es)"),
    "unknown key": (TINY.replace("    actor: [office, secretariat]", "    guards: [ready]"),
                    "event 'finish' has unknown key(s) guards"),
    "unknown actor": (TINY.replace("actor: [office, secretariat]", "actor: [public]"),
                      "event 'finish' has unknown actor(s) public"),
    "no english": (TINY.replace("{ja: 完了とする, en: finish}", "{ja: 完了とする}"),
                   "event 'finish' title must be a mapping with 'ja' and 'en'"),
    "no title": (TINY.replace("title: {ja: 小票, en: slip}\n", ""), "'title' (what the record is called) must be"),
    "no statuses": (TINY.split("statuses:")[0] + "statuses: {}\nevents: {}\n", "'statuses' must be a non-empty mapping"),
    "bad status name": (TINY.replace("  done:", "  2done:").replace("to: done", "to: 2done"),
                        "status '2done': status names must be identifiers"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_fault_names_the_file_the_lifecycle_and_the_fault(tmp_path, fault):
    body, expected = FAULTS[fault]
    path = write(tmp_path, body)
    with pytest.raises(LifecycleDefinitionError) as refused:
        read_lifecycle(path)
    error = refused.value
    assert (error.source, error.lifecycle) == (str(path), "tiny")
    assert expected in error.fault
    assert str(error).startswith(f"{path}: lifecycle 'tiny': ")


@pytest.mark.parametrize(("body", "expected"), [
    ("name: [tiny\n", "is not valid YAML"),
    ("- just a list\n", "the file must hold a mapping"),
    ("name: 2tiny\n", "'name' must be an identifier"),
])
def test_a_file_that_is_no_lifecycle_is_refused_by_its_path(tmp_path, body, expected):
    path = write(tmp_path, body)
    with pytest.raises(LifecycleDefinitionError) as refused:
        read_lifecycle(path)
    assert (refused.value.source, refused.value.lifecycle) == (str(path), None)
    assert expected in refused.value.fault


def test_two_files_of_one_lifecycle_are_refused(tmp_path):
    first, second = write(tmp_path, TINY, "a.yaml"), write(tmp_path, TINY, "b.yaml")
    with pytest.raises(LifecycleDefinitionError) as refused:
        load_lifecycles([tmp_path])
    assert (refused.value.source, refused.value.lifecycle) == (str(second), "tiny")
    assert f"is already defined in {first}" in refused.value.fault


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(LifecycleDefinitionError, match="is not a folder"):
        load_lifecycles([tmp_path / "nowhere"])
