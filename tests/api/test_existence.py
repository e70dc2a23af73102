"""No existence oracle: a record an actor may not know of answers exactly as a record that is not there.

For every endpoint that takes the id of a record in its path — a case, a meeting or its minutes, a
finding, a document, a public comment, a report or reply, a correction, an API token, a calendar URL, a
notice — each actor the record is hidden from sends the same request twice: with the hidden record's
id H, and with an id nobody uses, M = H + 100000. The two answers must be the same bytes: the status,
every header but the length (the content type among them) and the body (the JSON error, or the page's
404 for /assessments/{id}), once M is read as H in the missing answer.

Why M is read as H: the 404 names the id the request gave (案件（ID 12）は見つかりません。 / No case with
id 12., workflow.errors.RecordNotFound) and a page links to its own address, so both answers echo the
request. Nothing else differs — the words name the kind of record the request named and the id it
gave, never the record's case nor anything found on the way. M has six digits or more, so its digits
occur in the missing answer only where the request is echoed; the hidden answer is compared unchanged.

A sub-record reached by its own id (a finding, a comment, a correction, a report, a document) whose case
is hidden answers like a missing one of its own kind: not like a hidden case, not in a generic text.

The endpoints come from the app's routes (the pages' included): a route with a path parameter that is
neither probed in PROBES nor allowed in ALLOWED, with the reason the question does not arise there,
fails the coverage test — as does an entry for a route that is gone. Ids in request bodies are found in
the OpenAPI schema and probed or allowed the same way (BODY_PROBES, BODY_ALLOWED).

An id past the column's range (workflow.columns.MAX_ID) is no row: the services answer it with the
same RecordNotFound as any missing id (tests/integration/test_record_not_found.py). Over HTTP the
routes of api/ bound their path ids and answer 422 before a service runs — the same for every actor,
never a 500 (checked here); the strict xfail below marks where that differs from a missing id's 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from notifications import feeds
from notifications.models import Notice
from tests.helpers.people import OTHER_BODY, REVIEWING_BODY, SYSTEM
from tests.helpers.policy import POLICY_ROLES, Multipart
from workflow import accounts, documents, findings, meetings, minutes, public_comments, report_versions, resolutions
from workflow.clock import TOKYO
from workflow.columns import MAX_ID
from workflow.documents import Upload
from workflow.findings import NewFinding
from workflow.meetings import HeldMeeting, NewMeeting
from workflow.minutes import CorrectionInput, MinutesDraft, Passage, SendForCorrections
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Classification
from workflow.public_comments import NewPublicComment
from workflow.records import AgendaItem, Meeting
from workflow.report_versions import NewChange, NewReportVersion

PDF = b"%PDF-1.4\n% existence\n"
#: The unused id of a hidden record H is H + OFFSET (six digits or more: see the module's docstring).
OFFSET = 100_000
#: A missing meeting that *is* there, for the minutes: a meeting without minutes at H + SIBLING.
SIBLING = 200_000
CLOSED = "個人情報を含む事項を審議するため"

#: Whom each kind of record is hidden from (the table of workflow/policy.py): a closed case, and what
#: hangs on it, from the public, another body's member and another office; members-only material also
#: from the case's office and the administrator; a closed meeting like a closed case (its office is on
#: the agenda); one person's token, calendar URL or notice from everyone else (the administrator
#: revokes anyone's API token; the public is asked to sign in, missing or not).
CASE_OUTSIDERS = ("public", "other_member", "other_office")
MEMBERS_ONLY_OUTSIDERS = (*CASE_OUTSIDERS, "office", "admin")
MEETING_OUTSIDERS = CASE_OUTSIDERS
NOT_THE_MEMBER = tuple(role for role in POLICY_ROLES if role != "member")
NOT_THE_MEMBER_NOR_ADMIN = tuple(role for role in NOT_THE_MEMBER if role != "admin")


@dataclass(frozen=True)
class Form:
    """The fields of a page's form (application/x-www-form-urlencoded)."""

    data: dict[str, str]


Body = dict[str, Any] | Multipart | Form | None


class World:
    """The hidden records, each made when a probe first asks for it: a case under review (closed), reviewed
    by REVIEWING_BODY and belonging to 市民課, with a finding, a public comment, a draft report, a public
    and a members-only document; a closed meeting of the body with the case on its agenda, held, its
    minutes out for corrections with one correction; the member's API token, calendar URL and notice."""

    def __init__(self, db, clock, files, make_case, person) -> None:
        self.db, self.clock, self.files, self._make_case, self._person = db, clock, files, make_case, person
        self._siblings: dict[int, int] = {}

    def _actor(self, role: str):
        return accounts.actor_from_token(self.db, self.clock, self._person(role).token, None, cache_seconds=0)

    @cached_property
    def case(self) -> int:
        return self._make_case("subcommittee_review", body=REVIEWING_BODY).id

    @cached_property
    def finding(self) -> int:
        return findings.raise_finding(self.db, self.clock, self.case, NewFinding(
            raised_by="櫻井委員", raised_on=date(2025, 5, 20), text="未回答の質問"), SYSTEM).id

    @cached_property
    def comment(self) -> int:
        return public_comments.record_comment(self.db, self.clock, self.case, NewPublicComment(
            received_on=date(2025, 4, 10), channel="web", submitter="市民A", summary="意見の概要"), SYSTEM).id

    @cached_property
    def resolution(self) -> int:
        return resolutions.draft(self.db, self.clock, self.case, resolutions.ResolutionKind.SUBCOMMITTEE_REPORT,
                                 SYSTEM, text="案").id

    def _attach(self, case_id: int, classification: Classification) -> int:
        return documents.attach(self.db, self.files, self.clock, case_id, Upload(
            "資料2 評価書", "hyoukasho.pdf", PDF, classification), SYSTEM, 10**6).id

    @cached_property
    def public_document(self) -> int:  # public, of a closed case: hidden with the case
        return self._attach(self.case, Classification.PUBLIC)

    @cached_property
    def secret_document(self) -> int:  # members-only (委員限り)
        return self._attach(self.case, Classification.MEMBERS_ONLY)

    def _meeting(self, *, closed: bool, minutes_status: str | None, number: int) -> int:
        db, clock = self.db, self.clock
        agenda = [{"assessment_id": self.case, "purpose": "third_party_review", "title": "第三者点検"}]
        record = meetings.schedule(db, clock, NewMeeting(
            body=REVIEWING_BODY, term="第8期", number=number, starts_at=datetime(2025, 5, 1, 18, tzinfo=TOKYO),
            venue="市政情報室", is_public=not closed, closed_reason=CLOSED if closed else None, agenda=agenda), SYSTEM)
        meeting_id = record.meeting.id
        meetings.record_held(db, clock, meeting_id, HeldMeeting(expected_version=1), SYSTEM)
        minutes.draft(db, clock, meeting_id, MinutesDraft(passages=[
            Passage(speaker="部会長", text="開会します。"), Passage(speaker="実施機関", text="（非公開部分）", public=False)]),
            SYSTEM)
        if minutes_status == "correcting":
            minutes.send_for_corrections(db, clock, meeting_id, SendForCorrections(deadline=date(2025, 6, 16)),
                                         SYSTEM)
            minutes.record_correction(db, clock, meeting_id, CorrectionInput(passage_index=0, text="訂正"), SYSTEM)
        return meeting_id

    @cached_property
    def meeting(self) -> int:  # closed, held, its minutes out for corrections
        return self._meeting(closed=True, minutes_status="correcting", number=1)

    @cached_property
    def public_meeting(self) -> int:  # public, held, its minutes a draft (not published)
        return self._meeting(closed=False, minutes_status="draft", number=2)

    @cached_property
    def correction(self) -> int:
        return minutes.read(self.db, self.meeting, SYSTEM).corrections[0].id

    def sibling_meeting(self, meeting_id: int, *, closed: bool) -> int:
        """A meeting without minutes at meeting_id + SIBLING, the case on its agenda (its office sees it)."""
        if meeting_id in self._siblings:
            return self._siblings[meeting_id]
        with self.db.writing(EVERY_ORGANISATION) as session:
            body_id = accounts.body_by_name(session, REVIEWING_BODY).id
            sibling = Meeting(id=meeting_id + SIBLING, body_id=body_id, term="第8期", number=900 + meeting_id,
                              starts_at=datetime(2025, 5, 8, 18, tzinfo=TOKYO), venue="市政情報室", status="held",
                              is_public=not closed, closed_reason=CLOSED if closed else None,
                              created_at=self.clock.now(), updated_at=self.clock.now())
            session.add(sibling)
            session.flush()
            session.add(AgendaItem(meeting_id=sibling.id, position=1, assessment_id=self.case,
                                   purpose="third_party_review", title="第三者点検"))
        self._siblings[meeting_id] = meeting_id + SIBLING
        return meeting_id + SIBLING

    @cached_property
    def other_meeting(self) -> int:  # closed, of another body, no case of 市民課's: hidden from 市民課
        return meetings.schedule(self.db, self.clock, NewMeeting(
            body=OTHER_BODY, term="第8期", starts_at=datetime(2025, 5, 1, 10, tzinfo=TOKYO), venue="別庁舎",
            is_public=False, closed_reason=CLOSED), SYSTEM).meeting.id

    @cached_property
    def elsewhere(self) -> int:  # a closed case of another office (市民税課), reviewed by another body
        return self._make_case("subcommittee_review", office="市民税課", body=OTHER_BODY).id

    @cached_property
    def _entry_elsewhere(self) -> report_versions.VersionEntry:
        return report_versions.add_version(self.db, self.clock, self.elsewhere, NewReportVersion(
            submitted_on=date(2025, 5, 30), changes=[NewChange(section="Ⅲ", after="追記", reason="指摘")]), SYSTEM)

    @property
    def version_elsewhere(self) -> int:  # a report version of that case (hidden from 市民課)
        return self._entry_elsewhere.version.id

    @property
    def change_elsewhere(self) -> int:  # a change of that version (hidden from 市民課)
        return self._entry_elsewhere.changes[0].id

    @cached_property
    def api_token(self) -> int:  # the member's
        return accounts.create_token(self.db, self.clock, self._person("member").email, SYSTEM, name="script").record.id

    @cached_property
    def calendar_token(self) -> int:  # the member's own calendar URL
        return feeds.issue_token(self.db, self.clock, self._actor("member")).record.id

    @cached_property
    def notice(self) -> int:  # in the member's inbox
        user_id = self._actor("member").user_id
        with self.db.writing(EVERY_ORGANISATION) as session:
            notice = Notice(dedupe_key="existence:inbox", user_id=user_id, channel="inbox", kind="reminder",
                            subject="お知らせ", body_text="本文", due_at=self.clock.now(), status="sent",
                            sent_at=self.clock.now(), created_at=self.clock.now())
            session.add(notice)
            session.flush()
            return notice.id

    def _revoked(self, issued: feeds.IssuedCalendarToken, actor) -> str:
        feeds.rotate_token(self.db, self.clock, issued.record.id, actor)
        return issued.token

    @cached_property
    def revoked_member_feed(self) -> str:  # a member's calendar URL, replaced: it was there, it is no more
        member = self._actor("member")
        return self._revoked(feeds.issue_token(self.db, self.clock, member), member)

    @cached_property
    def revoked_body_feed(self) -> str:
        with self.db.writing(EVERY_ORGANISATION) as session:  # (the body is made on first mention)
            body_id = accounts.body_by_name(session, REVIEWING_BODY).id
        return self._revoked(feeds.issue_token(self.db, self.clock, SYSTEM, body_id=body_id), SYSTEM)


@pytest.fixture
def world(db, clock, files, make_case, person) -> World:
    return World(db, clock, files, make_case, person)


# --- what is probed -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Probe:
    """One request to a route, naming a hidden record by id in its path: `target` is the World attribute
    whose id fills the route's first path parameter (`fixed`: the others), `hidden_from` the roles to
    ask as. The missing id is the hidden one + OFFSET, or `missing(world, hidden)`."""

    method: str
    template: str
    target: str
    hidden_from: tuple[str, ...]
    body: Body | Callable[[World], Body] = None
    query: str = ""
    fixed: dict[str, str] = field(default_factory=dict)
    missing: Callable[[World, Any], Any] | None = None
    label: str = ""

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.template

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}{self.query}" + (f" ({self.label})" if self.label else "")

    def request(self, world: World, key: Any) -> tuple[str, str, Body]:
        parameters = [part.split("}")[0] for part in self.template.split("{")[1:]]
        path = self.template.replace("{" + parameters[0] + "}", str(key))
        for name, attribute in self.fixed.items():
            path = path.replace("{" + name + "}", str(getattr(world, attribute)))
        body = self.body(world) if callable(self.body) else self.body
        return self.method, path + self.query, body

    def keys(self, world: World) -> tuple[Any, Any]:
        hidden = getattr(world, self.target)
        return hidden, self.missing(world, hidden) if self.missing else hidden + OFFSET


A, M = "/api/assessments/{case_id}", "/api/meetings/{meeting_id}"
UPLOAD = Multipart(data={"title": "資料3 追加資料"}, files={"file": ("tsuika.pdf", PDF, "application/pdf")})
ATTENDANCE = {"expected_version": 1, "attendance": [{"name": "多賀谷一照", "role": "chair"}]}


def _unknown_feed(_world: World, _hidden: str) -> str:
    return feeds.TOKEN_PREFIX + uuid.uuid4().hex + uuid.uuid4().hex[:11]


def _sibling(closed: bool) -> Callable[[World, int], int]:
    return lambda world, hidden: world.sibling_meeting(hidden, closed=closed)


PROBES: list[Probe] = [
    # cases
    Probe("GET", A, "case", CASE_OUTSIDERS),
    Probe("POST", f"{A}/events", "case", CASE_OUTSIDERS, {"event": "request_revision", "expected_version": 1}),
    Probe("POST", f"{A}/events", "case", CASE_OUTSIDERS, {"event": "no_such_event", "expected_version": 1},
          label="an event the procedure has not"),
    Probe("GET", f"{A}/history", "case", CASE_OUTSIDERS),
    Probe("GET", "/assessments/{case_id}", "case", CASE_OUTSIDERS),
    Probe("POST", "/assessments/{case_id}/events", "case", CASE_OUTSIDERS,
          Form({"event": "request_revision", "expected_version": "1"})),
    # documents
    Probe("POST", f"{A}/documents", "case", CASE_OUTSIDERS, UPLOAD),
    Probe("GET", f"{A}/documents", "case", CASE_OUTSIDERS),
    Probe("GET", "/api/documents/{document_id}", "public_document", CASE_OUTSIDERS, label="public, closed case"),
    Probe("GET", "/api/documents/{document_id}", "secret_document", MEMBERS_ONLY_OUTSIDERS, label="members-only"),
    Probe("GET", "/api/documents/{document_id}/content", "public_document", CASE_OUTSIDERS,
          label="public, closed case"),
    Probe("GET", "/api/documents/{document_id}/content", "secret_document", MEMBERS_ONLY_OUTSIDERS,
          label="members-only"),
    # findings, report versions, public comments
    Probe("POST", f"{A}/findings", "case", CASE_OUTSIDERS, {"text": "書面による質問"}),
    Probe("GET", f"{A}/findings", "case", CASE_OUTSIDERS),
    Probe("GET", f"{A}/findings/open", "case", CASE_OUTSIDERS),
    Probe("POST", "/api/findings/{finding_id}/answer", "finding", CASE_OUTSIDERS, {"answer": "回答"}),
    Probe("POST", "/api/findings/{finding_id}/close", "finding", CASE_OUTSIDERS, {}),
    Probe("POST", "/api/findings/{finding_id}/carry", "finding", CASE_OUTSIDERS, {"carried_to_meeting_id": 1}),
    Probe("POST", "/api/findings/{finding_id}/reopen", "finding", CASE_OUTSIDERS, {"reason": "再確認"}),
    Probe("POST", f"{A}/versions", "case", CASE_OUTSIDERS, {"submitted_on": "2025-05-30"}),
    Probe("GET", f"{A}/versions", "case", CASE_OUTSIDERS),
    Probe("GET", f"{A}/changes", "case", CASE_OUTSIDERS),
    Probe("POST", f"{A}/public-comments", "case", CASE_OUTSIDERS, {
        "received_on": "2025-04-11", "channel": "email", "submitter": "市民B", "summary": "意見"}),
    Probe("GET", f"{A}/public-comments", "case", CASE_OUTSIDERS),
    Probe("GET", f"{A}/public-comments/disposition", "case", CASE_OUTSIDERS),
    Probe("PATCH", "/api/public-comments/{comment_id}", "comment", CASE_OUTSIDERS,
          {"response": "実施機関の考え方", "no_change_reason": "記載済み"}),
    # opinions, reports and replies, generated documents
    Probe("PUT", f"{A}/opinion", "case", CASE_OUTSIDERS, {"verdict": "appropriate", "decided_on": "2025-06-01"}),
    Probe("GET", f"{A}/resolutions", "case", CASE_OUTSIDERS),
    Probe("POST", f"{A}/resolutions", "case", CASE_OUTSIDERS, {"kind": "reply", "text": "答申案"}),
    Probe("POST", f"{A}/resolutions", "case", CASE_OUTSIDERS, {"kind": "subcommittee_report"},
          label="drafted from the record"),
    Probe("POST", "/api/resolutions/{resolution_id}/delegate", "resolution", CASE_OUTSIDERS, {"chair": "部会長"}),
    Probe("POST", "/api/resolutions/{resolution_id}/adopt", "resolution", CASE_OUTSIDERS,
          {"adopted_on": "2025-06-01", "adopted_by": "部会長"}),
    Probe("GET", "/api/papers/convocation/{meeting_id}", "meeting", MEETING_OUTSIDERS),
    Probe("GET", "/api/papers/meeting-result/{meeting_id}", "meeting", MEETING_OUTSIDERS),
    Probe("GET", "/api/papers/subcommittee-report/{case_id}", "case", CASE_OUTSIDERS),
    Probe("GET", "/api/papers/findings/{case_id}", "case", CASE_OUTSIDERS),
    Probe("GET", "/api/papers/reply/{case_id}", "case", CASE_OUTSIDERS),
    Probe("GET", "/api/papers/public-comment-result/{case_id}", "case", CASE_OUTSIDERS),
    Probe("POST", f"{A}/scheduled-events", "case", CASE_OUTSIDERS,
          {"event": "request_revision", "run_at": "2025-07-01T09:00:00+09:00"}),
    Probe("POST", f"{A}/scheduled-events", "case", CASE_OUTSIDERS,
          {"event": "no_such_event", "run_at": "2025-07-01T09:00:00+09:00"}, label="an event the procedure has not"),
    Probe("GET", f"{A}/scheduled-events", "case", CASE_OUTSIDERS),
    # meetings
    Probe("GET", M, "meeting", MEETING_OUTSIDERS),
    Probe("PATCH", M, "meeting", MEETING_OUTSIDERS, {"expected_version": 1, "venue": "第2会議室"}),
    Probe("POST", f"{M}/cancel", "meeting", MEETING_OUTSIDERS, {"expected_version": 1, "reason": "台風"}),
    Probe("POST", f"{M}/held", "meeting", MEETING_OUTSIDERS, {"expected_version": 1, "observers": 0}),
    Probe("POST", f"{M}/next", "meeting", MEETING_OUTSIDERS, {"starts_at": "2025-08-07T18:00:00+09:00"}),
    Probe("PUT", f"{M}/attendance", "meeting", MEETING_OUTSIDERS, ATTENDANCE),
    Probe("POST", f"{M}/materials", "meeting", MEETING_OUTSIDERS,
          lambda w: {"document_id": w.public_document, "label": "資料1"}),
    Probe("GET", f"{M}/quorum", "meeting", MEETING_OUTSIDERS),
    # minutes: hidden with their closed meeting, and — for whoever may see the meeting — as minutes
    Probe("POST", f"{M}/minutes", "meeting", MEETING_OUTSIDERS,
          {"passages": [{"speaker": "部会長", "text": "開会します。"}]}),
    Probe("GET", f"{M}/minutes", "meeting", MEETING_OUTSIDERS),
    Probe("GET", f"{M}/minutes", "meeting", MEETING_OUTSIDERS, query="?version=full"),
    Probe("GET", f"{M}/minutes", "meeting", ("office",), query="?version=full", missing=_sibling(closed=True),
          label="full minutes of a closed meeting its office sees, beside one without minutes"),
    Probe("GET", f"{M}/minutes", "public_meeting", ("public", "other_member", "office", "other_office"),
          missing=_sibling(closed=False), label="a draft, beside a public meeting without minutes"),
    Probe("POST", f"{M}/minutes/send", "meeting", MEETING_OUTSIDERS, {"deadline": "2025-06-16"}),
    Probe("POST", f"{M}/minutes/corrections", "meeting", MEETING_OUTSIDERS, {"text": "誤字の訂正"}),
    Probe("POST", f"{M}/minutes/corrections", "meeting", ("office",), {"text": "誤字の訂正"},
          missing=_sibling(closed=True), label="as the office that sees the meeting, beside one without minutes"),
    Probe("POST", f"{M}/minutes/corrections/{{correction_id}}/apply", "meeting", MEETING_OUTSIDERS, {},
          fixed={"correction_id": "correction"}),
    Probe("POST", f"{M}/minutes/confirm", "meeting", MEETING_OUTSIDERS, {}),
    Probe("POST", f"{M}/minutes/publish", "meeting", MEETING_OUTSIDERS, {}),
    # one person's own: API tokens, calendar URLs, notices
    Probe("DELETE", "/api/tokens/{token_id}", "api_token", NOT_THE_MEMBER_NOR_ADMIN),
    Probe("POST", "/api/calendar-tokens/{token_id}/rotate", "calendar_token", NOT_THE_MEMBER),
    Probe("POST", "/api/inbox/{notice_id}/read", "notice", NOT_THE_MEMBER),
    # calendar feeds: a URL that was replaced answers as one that never was (no one signs in to a feed)
    Probe("GET", "/feeds/members/{token}.ics", "revoked_member_feed", ("public", "member"), missing=_unknown_feed),
    Probe("HEAD", "/feeds/members/{token}.ics", "revoked_member_feed", ("public",), missing=_unknown_feed),
    Probe("GET", "/feeds/bodies/{token}.ics", "revoked_body_feed", ("public", "secretariat"), missing=_unknown_feed),
    Probe("HEAD", "/feeds/bodies/{token}.ics", "revoked_body_feed", ("public",), missing=_unknown_feed),
]

#: Routes with a path parameter where the question does not arise, and why.
ALLOWED: dict[tuple[str, str], str] = {
    ("POST", "/api/users/{email}/disable"):
        "users.manage is the administrator's alone, who knows every user: anyone else is refused (401/403) "
        "before the address is looked up",
    ("PATCH", "/api/reminder-rules/{key}"):
        "reminder_rules.manage is the secretariat's alone; the rules are the service's settings, hidden from no one",
    ("GET", "/api/procedures/{name}"): "the procedures are published definitions, the same for everyone",
    ("GET", "/api/procedures/{name}/diagram"): "the procedures are published definitions, the same for everyone",
}


# --- ids in request bodies ------------------------------------------------------------------------

@dataclass(frozen=True)
class BodyProbe:
    """A request whose body names a record by id (`field`): `make(world, id)` builds it, `target` is the
    World attribute of the hidden record; missing: the hidden id + OFFSET."""

    method: str
    template: str
    field: str
    target: str
    hidden_from: tuple[str, ...]
    make: Callable[[World, int], tuple[str, str, Body]]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template} {self.field}"


BODY_PROBES: list[BodyProbe] = [
    BodyProbe("POST", "/api/findings/{finding_id}/answer", "answered_at_meeting_id", "other_meeting", ("office",),
              lambda w, i: ("POST", f"/api/findings/{w.finding}/answer",
                            {"answer": "回答", "answered_at_meeting_id": i})),
    BodyProbe("POST", "/api/findings/{finding_id}/answer", "resolved_in_version_id", "version_elsewhere",
              ("office",), lambda w, i: ("POST", f"/api/findings/{w.finding}/answer",
                                         {"answer": "回答", "resolved_in_version_id": i})),
    BodyProbe("PATCH", "/api/public-comments/{comment_id}", "change_id", "change_elsewhere", ("office",),
              lambda w, i: ("PATCH", f"/api/public-comments/{w.comment}", {"response": "考え方", "change_id": i})),
]

_STAFF = ("the secretariat's alone (it sees every record); anyone else is refused before the id is looked up")
#: Ids in request bodies where the question does not arise, and why.
BODY_ALLOWED: dict[tuple[str, str, str], str] = {
    ("POST", "/api/calendar-tokens", "body_id"): "a body's calendar is " + _STAFF,
    ("POST", "/api/meetings", "body_id"): "scheduling is " + _STAFF,
    ("POST", "/api/meetings", "agenda.*.assessment_id"): "scheduling is " + _STAFF,
    ("POST", "/api/meetings", "materials.*.document_id"): "scheduling is " + _STAFF,
    ("GET", "/api/meetings", "?body_id"):
        "bodies are public; the listing holds only the meetings the actor may see, whatever the filter",
    ("GET", "/api/audit", "?after_id"): "the audit trail is the secretariat's and the administrator's alone",
    ("POST", "/api/meetings/{meeting_id}/next", "agenda.*.assessment_id"): "scheduling is " + _STAFF,
    ("POST", "/api/meetings/{meeting_id}/materials", "document_id"): "handing out material is " + _STAFF,
    ("POST", "/api/assessments/{case_id}/findings", "meeting_id"):
        "only the secretariat records what was said at a meeting; a member's meeting_id is refused "
        "(in_writing) before it is looked up",
    ("POST", "/api/findings/{finding_id}/close", "resolved_in_version_id"): "closing a finding is " + _STAFF,
    ("POST", "/api/findings/{finding_id}/carry", "carried_to_meeting_id"): "carrying a finding is " + _STAFF,
    ("POST", "/api/assessments/{case_id}/versions", "document_id"): "report versions are " + _STAFF,
    ("POST", "/api/assessments/{case_id}/versions", "public_document_id"): "report versions are " + _STAFF,
    ("POST", "/api/assessments/{case_id}/versions", "changes.*.finding_ids"): "report versions are " + _STAFF,
    ("PUT", "/api/assessments/{case_id}/opinion", "meeting_id"): "the opinion is recorded by " + _STAFF,
}


# --- sending and comparing ------------------------------------------------------------------------

@pytest.fixture
def send(public, person) -> Callable[[str, tuple[str, str, Body]], httpx.Response]:
    """send(role, (method, path, body)): as the person of that role (by API token), or with no account."""

    def as_role(role: str, request: tuple[str, str, Body]) -> httpx.Response:
        return send_request(public, {} if role == "public" else person(role).headers, request)

    return as_role


def send_request(client, headers: dict[str, str], request: tuple[str, str, Body]) -> httpx.Response:
    """One request with its body sent as what it is: multipart, a page's form, or JSON."""
    method, path, body = request
    if isinstance(body, Multipart):
        return client.request(method, path, headers=headers, data=body.data, files=body.files)
    if isinstance(body, Form):
        return client.request(method, path, headers=headers, data=body.data)
    return client.request(method, path, headers=headers, json=body)


#: Headers that differ between any two requests, whatever they ask for: the length (the keys read as one
#: another may differ in length) and the id every request is given (api/observability.py).
PER_REQUEST = {"content-length", "x-request-id"}


def difference(hidden: httpx.Response, missing: httpx.Response, hidden_key: Any, missing_key: Any) -> str | None:
    """None when the two answers are the same bytes (the missing key read as the hidden one), else what differs."""
    before, after = str(missing_key), str(hidden_key)
    expected = (missing.status_code,
                {name: value.replace(before, after) for name, value in missing.headers.items()
                 if name not in PER_REQUEST},
                missing.content.replace(before.encode(), after.encode()))
    actual = (hidden.status_code, {name: value for name, value in hidden.headers.items() if name not in PER_REQUEST},
              hidden.content)
    if actual == expected:
        return None
    parts = [f"status {actual[0]} ≠ {expected[0]}"] if actual[0] != expected[0] else []
    parts += [f"header {name}: {actual[1].get(name)!r} ≠ {expected[1].get(name)!r}"
              for name in sorted(set(actual[1]) | set(expected[1])) if actual[1].get(name) != expected[1].get(name)]
    if actual[2] != expected[2]:
        at = next((i for i, (a, b) in enumerate(zip(actual[2], expected[2], strict=False)) if a != b),
                  min(len(actual[2]), len(expected[2])))
        start = max(0, at - 80)

        def excerpt(content: bytes) -> str:
            return content[start:at + 160].decode("utf-8", "replace")

        parts.append(f"body, from byte {start}:\n    hidden {hidden_key}:  {excerpt(actual[2])!r}\n"
                     f"    missing {missing_key} (read as {hidden_key}): {excerpt(expected[2])!r}")
    return "; ".join(parts)


def unequal_answers(world: World, send, probe: Probe | BodyProbe,
                     roles: tuple[str, ...] | None = None) -> Iterator[str]:
    """What differs between the hidden record's answers and a missing one's, asked as each of `roles`
    (the probe's own by default)."""
    if isinstance(probe, Probe):
        hidden_key, missing_key = probe.keys(world)
        hidden_request, missing_request = probe.request(world, hidden_key), probe.request(world, missing_key)
    else:
        hidden_key = getattr(world, probe.target)
        missing_key = hidden_key + OFFSET
        hidden_request, missing_request = probe.make(world, hidden_key), probe.make(world, missing_key)
    for role in roles or probe.hidden_from:
        missing = send(role, missing_request)
        hidden = send(role, hidden_request)
        assert missing.status_code < 500 and hidden.status_code < 500, (role, missing.text, hidden.text)
        assert missing.status_code >= 400, f"as {role}: the missing {missing_key} answered {missing.status_code}"
        found = difference(hidden, missing, hidden_key, missing_key)
        if found:
            yield f"as {role}: {found}"


@pytest.mark.parametrize("probe", [pytest.param(probe, id=probe.name) for probe in PROBES])
def test_a_hidden_record_answers_as_a_missing_one(world, send, probe):
    unequal = list(unequal_answers(world, send, probe))
    assert not unequal, f"{probe.name} tells a hidden record from a missing one:\n" + "\n".join(unequal)


@pytest.mark.parametrize("probe", [pytest.param(probe, id=probe.name) for probe in BODY_PROBES])
def test_a_hidden_record_named_in_a_body_answers_as_a_missing_one(world, send, probe):
    unequal = list(unequal_answers(world, send, probe))
    assert not unequal, f"{probe.name} tells a hidden record from a missing one:\n" + "\n".join(unequal)


# --- the probes are not vacuous -------------------------------------------------------------------

def test_the_hidden_records_are_there(world, send):
    """Each hidden record exists and is found by whom it is not hidden from: the probes compare a hidden
    record with a missing one, not two missing ones."""
    w = world
    seen = {
        "case": ("secretariat", ("GET", f"/api/assessments/{w.case}", None)),
        "public_document": ("office", ("GET", f"/api/documents/{w.public_document}", None)),
        "secret_document": ("member", ("GET", f"/api/documents/{w.secret_document}", None)),
        "meeting": ("office", ("GET", f"/api/meetings/{w.meeting}", None)),
        "public_meeting": ("secretariat", ("GET", f"/api/meetings/{w.public_meeting}/minutes", None)),
        "other_meeting": ("other_member", ("GET", f"/api/meetings/{w.other_meeting}", None)),
        "elsewhere": ("other_office", ("GET", f"/api/assessments/{w.elsewhere}", None)),
    }
    for name, (role, request) in seen.items():
        assert send(role, request).status_code == 200, name
    listed = {
        "finding": ("office", f"/api/assessments/{w.case}/findings", w.finding),
        "comment": ("office", f"/api/assessments/{w.case}/public-comments", w.comment),
        "resolution": ("office", f"/api/assessments/{w.case}/resolutions", w.resolution),
        "version_elsewhere": ("other_office", f"/api/assessments/{w.elsewhere}/versions", w.version_elsewhere),
        "api_token": ("member", "/api/tokens", w.api_token),
        "notice": ("member", "/api/inbox", w.notice),
    }
    for name, (role, path, record_id) in listed.items():
        assert record_id in [item["id"] for item in send(role, ("GET", path, None)).json()], name
    corrections = send("member", ("GET", f"/api/meetings/{w.meeting}/minutes", None)).json()["corrections"]
    assert w.correction in [item["id"] for item in corrections]
    assert w.change_elsewhere in [change["id"] for version in send(
        "other_office", ("GET", f"/api/assessments/{w.elsewhere}/versions", None)).json() for change in version["changes"]]
    rotated = send("member", ("POST", f"/api/calendar-tokens/{w.calendar_token}/rotate", None))
    assert rotated.status_code == 200  # (the last use of the member's calendar URL: it is replaced)


def test_the_probes_ask_as_roles_the_record_is_hidden_from(world, send):
    """Each probe's roles get a refusal for the hidden record (a role that may see it would prove nothing)."""
    for probe in PROBES:
        hidden_key, _ = probe.keys(world)
        for role in probe.hidden_from:
            status = send(role, probe.request(world, hidden_key)).status_code
            assert status in (401, 404), f"{probe.name} as {role}: {status}"


# --- every route is probed or allowed -------------------------------------------------------------

def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) of every route, the included routers' (FastAPI keeps them as included routers whose
    `original_router` holds the routes) and the pages' (which are not in the OpenAPI schema)."""
    for route in routes:
        router = getattr(route, "original_router", None)
        if router is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(router.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, Route):
            for method in route.methods or ():
                yield method, prefix + route.path


def served_routes(app) -> set[tuple[str, str]]:
    found = set(_routes(app.routes))
    schema = {(method.upper(), path) for path, operations in app.openapi()["paths"].items() for method in operations}
    assert schema <= found, f"routes in the OpenAPI schema the walk missed: {sorted(schema - found)}"
    assert ("GET", "/assessments/{case_id}") in found  # the pages were walked too
    return found


def test_every_route_with_an_id_is_probed_or_allowed(app):
    with_parameters = {route for route in served_routes(app) if "{" in route[1]}
    assert len(with_parameters) > 50
    probed = {probe.route for probe in PROBES}
    forgotten = sorted(with_parameters - probed - set(ALLOWED))
    assert not forgotten, ("routes with an id that tests/api/test_existence.py neither probes (PROBES) nor "
                           "allows (ALLOWED, with the reason):\n" + "\n".join(f"  {m} {p}" for m, p in forgotten))
    gone = sorted((probed | set(ALLOWED)) - with_parameters)
    assert not gone, f"probed or allowed, but not served: {gone}"
    assert not probed & set(ALLOWED), "a route is both probed and allowed"


def _ids_in(schema: dict[str, Any], components: dict[str, Any], prefix: str = "") -> Iterator[str]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from _ids_in(part, components, prefix)
    if "items" in schema:
        yield from _ids_in(schema["items"], components, f"{prefix}*.")
    for name, part in schema.get("properties", {}).items():
        if name.endswith(("_id", "_ids")):
            yield prefix + name
        yield from _ids_in(part, components, f"{prefix}{name}.")


def test_every_id_in_a_request_is_probed_or_allowed(app):
    """The fields of request bodies and the query parameters that name a record by id (…_id, …_ids)."""
    schema = app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    named = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                named |= {(method.upper(), path, name) for name in _ids_in(media.get("schema", {}), components)}
            named |= {(method.upper(), path, f"?{parameter['name']}") for parameter in operation.get("parameters", [])
                      if parameter["in"] == "query" and parameter["name"].endswith(("_id", "_ids"))}
    assert len(named) > 10
    probed = {(probe.method, probe.template, probe.field) for probe in BODY_PROBES}
    forgotten = sorted(named - probed - set(BODY_ALLOWED))
    assert not forgotten, ("ids in requests that tests/api/test_existence.py neither probes (BODY_PROBES) nor "
                           "allows (BODY_ALLOWED):\n" + "\n".join(f"  {m} {p} {f}" for m, p, f in forgotten))
    gone = sorted((probed | set(BODY_ALLOWED)) - named)
    assert not gone, f"probed or allowed, but not in any request: {gone}"


# --- ids beyond the column's range ----------------------------------------------------------------

def _integer_probes() -> list[Any]:
    return [pytest.param(probe, id=probe.name) for probe in PROBES
            if probe.missing is None and not probe.template.startswith("/feeds/")]


@pytest.mark.parametrize("probe", _integer_probes())
def test_an_id_beyond_the_column_is_refused_alike_for_everyone(world, send, probe):
    """An id past workflow.columns.MAX_ID is never a 500, and answers every role the same."""
    answers = {role: send(role, probe.request(world, MAX_ID + 1)) for role in POLICY_ROLES}
    assert all(answer.status_code < 500 for answer in answers.values()), \
        {role: answer.text for role, answer in answers.items()}
    first = answers["public"]
    assert all((answer.status_code, answer.content) == (first.status_code, first.content)
               for answer in answers.values()), {role: (a.status_code, a.text[:200]) for role, a in answers.items()}


def test_an_id_beyond_the_column_is_refused_by_the_schemas_bound(world, send):
    """The schema states every id's maximum, so an id past it is a 422 naming the field and `maximum`
    for everyone, before any record is looked at: it can tell nobody whether a record is there."""
    probe = PROBES[0]  # GET /api/assessments/{case_id}
    answer = send("public", probe.request(world, MAX_ID + 1))
    assert answer.status_code == 422, answer.text
    assert [(problem["field"], problem["rule"]) for problem in answer.json()["error"]["fields"]] == [
        ("case_id", "maximum")]
