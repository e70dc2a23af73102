"""Notices to people: one template per kind and language, each with the blocks `subject`, `text` and
`html`.

The templates live in `templates/notices/<kind>.<language>.j2` (a secretariat may replace one with
its own file of the same name under SHINGI_TEMPLATES_DIR). A notice is rendered from a context of
plain values — strings, numbers, dates, aware datetimes — made by the builders below, so the caller
(the reminder engine, a route) decides what to pass and no template ever touches the database.

Dates and times are formatted by the templates: 和暦 with the weekday and 午前/午後 times in
Japanese (令和5年12月21日（木）午前10時), "Thu 21 Dec 2023, 10:00" in English; instants are read in
Asia/Tokyo. The HTML block is autoescaped; the subject and text blocks are not (they are not HTML).
Undefined variables raise, so a missing fact fails loudly in the tests instead of going out blank.

Every context carries the common variables of `Common` (recipient_name, sender, custom_message, url,
due_at, sent_late): a notice that goes out late, after downtime, says when it was due.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import Environment, pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from notifications import templating
from workflow.clock import TOKYO
from workflow.dates import days_inclusive, english_date, wareki, wareki_datetime, wareki_time

#: Every kind of notice, each with a template per language.
KINDS: tuple[str, ...] = (
    "meeting_reminder",        # 会議開催のお知らせ
    "meeting_changed",         # 日時変更のお知らせ
    "meeting_cancelled",       # 中止のお知らせ
    "public_comment_closing",  # 意見聴取期間終了のお知らせ
    "minutes_correction",      # 会議録の修正期限のお知らせ
    "finding_unanswered",      # 質問への回答のお願い
    "annual_review_due",       # 見直し時期のお知らせ
    "reassessment_due",        # 再評価の期限のお知らせ
    "planned_holding_date",    # 保有予定日が近づいています
    "state_overdue",           # 目標期間を超過しています
)
LANGUAGES: tuple[str, ...] = ("ja", "en")
BLOCKS: tuple[str, ...] = ("subject", "text", "html")

#: A notice sent more than this after its due time says so (and names the due time).
LATE_AFTER = timedelta(minutes=30)
#: Notice.subject holds at most 300 characters.
SUBJECT_MAX = 300


@dataclass(frozen=True)
class RenderedNotice:
    subject: str  # one line
    text: str     # plain text, ending with a newline
    html: str     # a complete HTML document


# --- the environment ----------------------------------------------------------------------------

def _instant(value: datetime) -> datetime:
    return value.astimezone(TOKYO) if value.tzinfo is not None else value


def _day(value: date | datetime) -> date:
    return _instant(value).date() if isinstance(value, datetime) else value


def _ja_date(value: date | datetime, weekday: bool = True) -> str:
    return wareki(_day(value), weekday=weekday)


def _ja_time(value: datetime) -> str:
    return wareki_time(_instant(value).time())


def _en_date(value: date | datetime, weekday: bool = True) -> str:
    return english_date(_day(value), weekday=weekday)


def _en_time(value: datetime) -> str:
    return _instant(value).strftime("%H:%M")


def _en_datetime(value: datetime) -> str:
    return f"{_en_date(value)}, {_en_time(value)}"


@pass_eval_context
def _nl2br(eval_ctx: EvalContext, value: str) -> str | Markup:
    """Line breaks of a free text (a custom message) kept in HTML; the text is escaped first."""
    if not eval_ctx.autoescape:
        return value
    return Markup("<br>\n").join(escape(line) for line in value.splitlines())


FILTERS: dict[str, Callable[..., Any]] = {
    "ja_date": _ja_date, "ja_time": _ja_time, "ja_datetime": wareki_datetime,
    "en_date": _en_date, "en_time": _en_time, "en_datetime": _en_datetime, "nl2br": _nl2br,
}


@functools.lru_cache(maxsize=8)
def environment(custom_dir: Path | None = None, *, html: bool = False) -> Environment:
    """The notices' environment (templating.environment). Two of them share the templates: one
    autoescapes (for the `html` block), one does not (for `subject` and `text`), because
    autoescaping is decided per template and one template holds both kinds of block."""
    return templating.environment(("notifications", "templates"), custom_dir, autoescape=html,
                                  keep_trailing_newline=True, filters=FILTERS)


def template_name(kind: str, language: str) -> str:
    return f"notices/{kind}.{language}.j2"


def render(kind: str, context: Mapping[str, Any], language: str = "ja", *,
           templates_dir: Path | None = None) -> RenderedNotice:
    """Render one notice: its subject (one line), text and HTML, in `language` (ja | en).

    `context` comes from one of the builders below (the kind's own, with `Common` in it); common
    variables left out take `Common()`'s defaults. Raises ValueError for an unknown kind or
    language and jinja2.UndefinedError for a missing fact.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r} (known: {', '.join(KINDS)})")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    name = template_name(kind, language)
    # The common variables may be left out (no greeting name, no link, not late); the facts may not.
    variables = {**_COMMON_DEFAULTS, **context}
    parts = {}
    for block in BLOCKS:
        template = environment(templates_dir, html=block == "html").get_template(name)
        parts[block] = "".join(template.blocks[block](template.new_context(dict(variables))))
    return RenderedNotice(subject=_one_line(parts["subject"]), text=_tidy_text(parts["text"]),
                          html=_tidy_text(parts["html"]))


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_MAX else line[:SUBJECT_MAX - 1] + "…"


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


# --- the context builders -------------------------------------------------------------------------

@dataclass(frozen=True)
class Common:
    """What every notice carries besides its facts: whom it greets, who signs it, the rule's custom
    message, a link, and when it was due (shown when it goes out late)."""

    #: 宛名 ("井上 真由美"; the template adds 様 / Dear). None: 関係者各位 / Dear colleagues.
    recipient_name: str | None = None
    #: 署名 (例: 福岡県個人情報保護審議会事務局). None: 事務局 / The secretariat.
    sender: str | None = None
    #: The reminder rule's own message (ReminderRule.custom_message), shown as given.
    custom_message: str | None = None
    #: Where to read more (the meeting or case page).
    url: str | None = None
    #: When the notice was due.
    due_at: datetime | None = None
    #: The notice goes out late: the text names `due_at`.
    sent_late: bool = False

    @classmethod
    def due(cls, due_at: datetime, now: datetime, *, grace: timedelta = LATE_AFTER, **fields: Any) -> Common:
        """Common facts for a notice due at `due_at` and rendered at `now`: late when more than
        `grace` has passed (the scheduler was down)."""
        return cls(due_at=due_at, sent_late=now - due_at > grace, **fields)

    def as_context(self) -> dict[str, Any]:
        if self.sent_late and self.due_at is None:
            raise ValueError("a late notice needs its due_at")
        return dataclasses.asdict(self)


_COMMON_DEFAULTS = Common().as_context()


class Material(NamedTuple):
    """資料1 答申案（委員限り）; 資料2（委員限り・点検後削除）, named by its label alone."""

    label: str
    title: str
    members_only: bool = False
    #: Material deleted after the review: a notice cannot be taken back once e-mailed, so it never
    #: carries the title (the meeting's page shows it to those who may read it while it exists).
    deleted_after_review: bool = False


class Question(NamedTuple):
    """A member's question (委員からの質問事項) still unanswered."""

    text: str
    raised_on: date | None = None
    raised_by: str | None = None  # 櫻井委員


def meeting_facts(*, body: str, number: int, starts_at: datetime, venue: str, term: str = "",
                  council: str | None = None, ends_at: datetime | None = None, agenda: Sequence[str] = (),
                  materials: Sequence[Material | str] = (), is_public: bool = True) -> dict[str, Any]:
    """The variable `meeting`: {council, body, term, number, starts_at, ends_at, venue, is_public,
    agenda: [str], materials: [{label, title, members_only, deleted_after_review}]} (a material given as a plain string is
    a title without a label). Instants must be aware; the body is named as the notice should name it
    (第二部会（住基・番号利用法部会）), the council (審議会) apart."""
    _require_aware(starts_at=starts_at, ends_at=ends_at)
    return {
        "council": council, "body": body, "term": term, "number": number, "starts_at": starts_at,
        "ends_at": ends_at, "venue": venue, "is_public": is_public, "agenda": list(agenda),
        "materials": [_material(item)._asdict() for item in materials],
    }


def case_facts(*, title: str, office: str) -> dict[str, Any]:
    """The variable `case`: {title (評価対象の事務 or the consultation), office (実施機関)}."""
    return {"title": title, "office": office}


def meeting_reminder(meeting: Mapping[str, Any], *, common: Common = Common()) -> dict[str, Any]:
    """会議開催のお知らせ — variables: meeting."""
    return {**common.as_context(), "meeting": dict(meeting)}


def meeting_changed(meeting: Mapping[str, Any], *, previous_starts_at: datetime,
                    previous_ends_at: datetime | None = None, previous_venue: str | None = None,
                    reason: str | None = None, common: Common = Common()) -> dict[str, Any]:
    """日時変更のお知らせ — variables: meeting (as it is now), previous {starts_at, ends_at, venue}
    (as it was announced; venue defaults to the current one), time_changed, venue_changed, reason."""
    _require_aware(previous_starts_at=previous_starts_at, previous_ends_at=previous_ends_at)
    previous = {"starts_at": previous_starts_at, "ends_at": previous_ends_at,
                "venue": meeting["venue"] if previous_venue is None else previous_venue}
    return {
        **common.as_context(), "meeting": dict(meeting), "previous": previous,
        "time_changed": (previous_starts_at, previous_ends_at) != (meeting["starts_at"], meeting["ends_at"]),
        "venue_changed": previous["venue"] != meeting["venue"], "reason": reason,
    }


def meeting_cancelled(meeting: Mapping[str, Any], *, reason: str | None = None,
                      common: Common = Common()) -> dict[str, Any]:
    """中止のお知らせ — variables: meeting, reason."""
    return {**common.as_context(), "meeting": dict(meeting), "reason": reason}


def public_comment_closing(case: Mapping[str, Any], *, comment_start: date, comment_end: date,
                           today: date | None = None, common: Common = Common()) -> dict[str, Any]:
    """意見聴取期間終了のお知らせ — variables: case, comment_start, comment_end, comment_days (counting
    both ends), closed (the period has ended by `today`; the wording changes tense)."""
    return {**common.as_context(), "case": dict(case), "comment_start": comment_start, "comment_end": comment_end,
            "comment_days": days_inclusive(comment_start, comment_end),
            "closed": today is not None and today > comment_end}


def minutes_correction(meeting: Mapping[str, Any], *, correction_due: date,
                       common: Common = Common()) -> dict[str, Any]:
    """会議録の修正期限のお知らせ — variables: meeting (the meeting the minutes record), correction_due."""
    return {**common.as_context(), "meeting": dict(meeting), "correction_due": correction_due}


def finding_unanswered(case: Mapping[str, Any], *, questions: Sequence[Question | str],
                       answer_due: date | None = None, common: Common = Common()) -> dict[str, Any]:
    """質問への回答のお願い — variables: case, questions [{text, raised_on, raised_by}], answer_due."""
    rows = [(Question(item) if isinstance(item, str) else item)._asdict() for item in questions]
    return {**common.as_context(), "case": dict(case), "questions": rows, "answer_due": answer_due}


def annual_review_due(case: Mapping[str, Any], *, review_due: date, published_on: date | None = None,
                      common: Common = Common()) -> dict[str, Any]:
    """見直し時期のお知らせ — variables: case, review_due, published_on."""
    return {**common.as_context(), "case": dict(case), "review_due": review_due, "published_on": published_on}


def reassessment_due(case: Mapping[str, Any], *, reassessment_due: date, published_on: date | None = None,
                     common: Common = Common()) -> dict[str, Any]:
    """再評価の期限のお知らせ — variables: case, reassessment_due, published_on."""
    return {**common.as_context(), "case": dict(case), "reassessment_due": reassessment_due,
            "published_on": published_on}


def planned_holding_date(case: Mapping[str, Any], *, planned_holding_date: date, state_title: str,
                         common: Common = Common()) -> dict[str, Any]:
    """保有予定日が近づいています (the case is not yet published) — variables: case,
    planned_holding_date, state_title (the case's state in the notice's language)."""
    return {**common.as_context(), "case": dict(case), "planned_holding_date": planned_holding_date,
            "state_title": state_title}


def state_overdue(case: Mapping[str, Any], *, state_title: str, state_entered_on: date, target_days: int,
                  common: Common = Common()) -> dict[str, Any]:
    """目標期間を超過しています — variables: case, state_title, state_entered_on, target_days,
    target_date (state_entered_on + target_days)."""
    return {**common.as_context(), "case": dict(case), "state_title": state_title,
            "state_entered_on": state_entered_on, "target_days": target_days,
            "target_date": state_entered_on + timedelta(days=target_days)}


def _material(item: Material | str) -> Material:
    return item if isinstance(item, Material) else Material("", item)


def _require_aware(**instants: datetime | None) -> None:
    for name, value in instants.items():
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")


# --- preview --------------------------------------------------------------------------------------

#: The Fukuoka seed: 第16期第3回 第二部会（住基・番号利用法部会）, announced at the end of the 2nd meeting.
_FUKUOKA_MEETING = meeting_facts(
    council="福岡県個人情報保護審議会", body="第二部会（住基・番号利用法部会）", term="第16期", number=3,
    starts_at=datetime(2023, 12, 21, 10, 0, tzinfo=TOKYO), venue="県庁行政棟10階 特9会議室",
    agenda=["住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価に係る答申案の検討について",
            "福岡県住民基本台帳法施行条例の一部改正について（諮問）"],
    materials=[Material("資料1", "特定個人情報保護評価に係る答申（案）"),
               Material("資料2", "福岡県住民基本台帳法施行条例の一部改正について"),
               Material("資料3", "第2回第二部会会議録（案）", members_only=True)],
)
_FUKUOKA_HELD = meeting_facts(
    council="福岡県個人情報保護審議会", body="第二部会（住基・番号利用法部会）", term="第16期", number=2,
    starts_at=datetime(2023, 11, 16, 10, 0, tzinfo=TOKYO), ends_at=datetime(2023, 11, 16, 11, 30, tzinfo=TOKYO),
    venue="県庁行政棟10階 特9会議室",
    agenda=["住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価書の第三者点検について"],
)
_FUKUOKA_CASE = case_facts(title="住民基本台帳ネットワークに関する事務", office="行財政支援課")


def sample_context(kind: str, language: str = "ja", *, late: bool = False) -> dict[str, Any]:
    """A context for `kind` with facts from the Fukuoka seed (late: the notice went out after downtime).
    Names stay in Japanese in both languages, as the record keeps them; only the state title is
    translated, as the procedure definitions do."""
    state_title = "第三者点検中" if language == "ja" else "Third-party review"
    due_at = datetime(2023, 12, 14, 9, 0, tzinfo=TOKYO)
    common = Common.due(due_at, due_at + (timedelta(hours=5) if late else timedelta()),
                        recipient_name="井上 真由美", sender="福岡県個人情報保護審議会事務局",
                        url="https://shingi.example.jp/" + ("meetings/3" if kind.startswith(("meeting", "minutes"))
                                                            else "cases/1"))
    builders = {
        "meeting_reminder": lambda: meeting_reminder(_FUKUOKA_MEETING, common=common),
        "meeting_changed": lambda: meeting_changed(
            {**_FUKUOKA_MEETING, "starts_at": datetime(2023, 12, 26, 13, 30, tzinfo=TOKYO),
             "ends_at": datetime(2023, 12, 26, 15, 0, tzinfo=TOKYO), "venue": "県庁行政棟10階 特7会議室"},
            previous_starts_at=_FUKUOKA_MEETING["starts_at"], previous_venue=_FUKUOKA_MEETING["venue"],
            reason="委員の出席者数が定足数に満たない見込みとなったため", common=common),
        "meeting_cancelled": lambda: meeting_cancelled(_FUKUOKA_MEETING, reason="審議事項の資料の準備が整わないため",
                                                       common=common),
        "public_comment_closing": lambda: public_comment_closing(
            _FUKUOKA_CASE, comment_start=date(2023, 11, 25), comment_end=date(2023, 12, 24), today=date(2023, 12, 20),
            common=common),
        "minutes_correction": lambda: minutes_correction(_FUKUOKA_HELD, correction_due=date(2023, 12, 1),
                                                         common=common),
        "finding_unanswered": lambda: finding_unanswered(
            _FUKUOKA_CASE, questions=[
                Question("コンビニ交付で戸籍の附票の写しを取得できる市町村の状況", date(2023, 11, 16), "櫻井委員"),
                Question("業務アクセスログの確認を再委託先が行う際の監督の方法", date(2023, 11, 16), "部会長")],
            answer_due=date(2023, 12, 14), common=common),
        "annual_review_due": lambda: annual_review_due(_FUKUOKA_CASE, review_due=date(2024, 3, 29),
                                                       published_on=date(2023, 3, 30), common=common),
        "reassessment_due": lambda: reassessment_due(_FUKUOKA_CASE, reassessment_due=date(2028, 3, 29),
                                                     published_on=date(2023, 3, 30), common=common),
        "planned_holding_date": lambda: planned_holding_date(_FUKUOKA_CASE, planned_holding_date=date(2024, 4, 1),
                                                             state_title=state_title, common=common),
        "state_overdue": lambda: state_overdue(_FUKUOKA_CASE, state_title=state_title,
                                               state_entered_on=date(2023, 9, 1), target_days=90, common=common),
    }
    if kind not in builders:
        raise ValueError(f"unknown notice kind {kind!r} (known: {', '.join(KINDS)})")
    return builders[kind]()


def preview(kind: str, language: str = "ja", *, late: bool = False,
            templates_dir: Path | None = None) -> RenderedNotice:
    """The notice `kind` rendered with sample facts from the Fukuoka seed, for the secretariat to
    see (and check its own templates against) before anything is sent."""
    return render(kind, sample_context(kind, language, late=late), language, templates_dir=templates_dir)
