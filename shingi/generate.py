"""A database the size of the country, for demonstrations and for measuring (`shingi demo generate`,
bench/volume.py): organisations with their council and subcommittee, offices and people; cases in every
state of every procedure, each with its history; meetings with their agendas, the members' questions and
the offices' answers, minutes; and the reminders all of that calls for.

The organisations are the 47 prefectures (heads: 知事), then municipalities (市・町・村) spread over them,
with codes made as 全国地方公共団体コード are (prefecture, number, check digit); they are added beside the
install's own. Cases go to them by size: a prefecture takes six shares, a city two, a town or village one.
One seed gives one database: everything is drawn from one seeded generator and the clock.

The rows go in through the project's own tables with Core INSERTs in batches, in one transaction, as the
tables' owner: the generator names every row's organisation itself (that of its parent). A database
that already holds cases is refused, so that nothing generated is ever mixed with a real record.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import yaml
from sqlalchemy import Connection, insert, select, text
from sqlmodel import SQLModel, func

from notifications import reminders
from notifications.following import Facts, case_facts, finding_facts, meeting_facts, minutes_facts
from notifications.models import Reminder, ReminderRule
from notifications.reminders import CHAIR_POSITIONS, DEFAULT_RULES
from states.definition import EventSpec, InputSpec, Procedure
from workflow.audit import GENESIS
from workflow.calendar import DEFAULT_CALENDAR, BusinessCalendar, as_tokyo_date
from workflow.changes import Subject
from workflow.clock import TOKYO, Clock
from workflow.columns import table_of
from workflow.dates import add_years, reassessment_deadline
from workflow.db import Database
from workflow.engine import WRITABLE_FIELDS, Workflows
from workflow.errors import DomainError, Message
from workflow.findings import FindingStatus
from workflow.meetings import MeetingStatus
from workflow.minutes import MinutesStatus
from workflow.models import Assessment, AuditHead, Body, HistoryEntry, Membership, Office, UserAccount
from workflow.organisations import Organisation
from workflow.policy import Position
from workflow.records import AgendaItem, Finding, Meeting, Minutes

#: The record begins with fiscal year 2014 (平成26年度), when specific personal information assessments began.
RECORD_BEGINS = datetime(2014, 4, 1, 9, 0, tzinfo=TOKYO)
#: Rows per INSERT statement, and cases per transaction step (and per call of `progress`).
ROWS_PER_INSERT = 2_000
CASES_PER_STEP = 5_000

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県",
    "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県")
#: Municipal codes run from 201 to 999 in each prefecture.
MUNICIPALITIES_PER_PREFECTURE = 799
MAX_ORGANISATIONS = 47 * (1 + MUNICIPALITIES_PER_PREFECTURE)
#: Municipal names are two characters, one of each list (北川町, 高森村 …): 900 to a prefecture.
NAME_HEADS = "大北南東西新高上下中小長本岩石松森富福豊美若宮吉白赤青黒三八"
NAME_TAILS = "川山田野原沢島崎浜井谷津橋岡里木瀬江浦坂見沼尾部根場戸城丘平"
#: 市 about 45 %, 町 43 %, 村 12 %, as in the country.
MUNICIPAL_KINDS = ((0.45, "市"), (0.88, "町"), (1.0, "村"))
SHARES = {"県": 6, "市": 2, "町": 1, "村": 1}
#: Offices (実施機関の担当課), the first few of which each organisation has; 〇 is its residents' word (市民, 県民 …).
PREFECTURAL_OFFICES = ("〇生活課", "税務課", "市町村課", "国民健康保険課", "障害福祉課", "こども家庭課", "健康増進課",
                       "教育庁総務課", "デジタル推進課", "行財政支援課")
MUNICIPAL_OFFICES = ("〇課", "税務課", "保険年金課", "介護保険課", "子育て支援課", "福祉課", "健康推進課", "学校教育課",
                     "情報政策課", "総務課")
OFFICE_COUNTS = {"県": 8, "市": 6, "町": 4, "村": 4}
SURNAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "山口",
            "松本", "井上", "木村", "林", "斎藤", "清水", "山崎", "森", "池田", "橋本", "阿部", "石川", "前田", "藤田")
GIVEN_NAMES = ("健一", "誠", "浩", "直樹", "大輔", "隆", "修", "博", "登", "和也", "美穂", "久美子", "真由美", "恵子", "裕子",
               "陽子", "智子", "明美", "由美", "花子", "達也", "哲也", "優子", "聡", "亮", "彩", "翔太", "拓也")
#: The members of each organisation's bodies: their title, and their seat on the council and on the subcommittee.
MEMBERS = (("会長", Position.CHAIR, Position.MEMBER), ("部会長", Position.MEMBER, Position.CHAIR),
           ("職務代理者", Position.ACTING_CHAIR, Position.ACTING_CHAIR), ("委員", Position.MEMBER, Position.MEMBER),
           ("委員", None, Position.MEMBER))
SUBJECTS = ("住民基本台帳", "個人住民税", "固定資産税", "国民健康保険", "介護保険", "児童手当", "生活保護", "予防接種",
            "障害者福祉", "就学援助", "後期高齢者医療", "子ども・子育て支援", "母子保健", "特別児童扶養手当")
CONSULTATIONS = {"online_coupling": "{subject}システムと国の情報提供ネットワークとのオンライン結合について",
                 "re_outsourcing": "{subject}事務における個人番号を含む作業の再委託について",
                 "ordinance_amendment": "個人情報保護法施行条例の一部改正について",
                 "other": "{subject}に係る保有個人情報の目的外利用について"}
#: Target counts (対象人数) by threshold level, within the bounds that level requires.
TARGET_COUNTS = {"full": (300_000, 2_000_000), "focused": (100_000, 299_999), "basic": (1_000, 9_999)}
REASONS = ("事務の廃止に伴い取り下げる。", "制度改正により事務を見直すため取り下げる。", "システム更改に合わせて評価をやり直すため。")
QUESTIONS = (
    ("特定個人情報ファイルへのアクセス権限は、どの頻度で、誰が見直しているか。",
     "年1回、所属長が権限一覧を確認し、異動者の権限を速やかに削除しています。"),
    ("委託先における再委託の有無と、その監督の方法を示されたい。",
     "再委託は事前の書面承認制とし、年1回の立入検査で取扱状況を確認しています。"),
    ("操作ログはどのくらいの期間保存し、誰が確認しているか。",
     "操作ログは5年間保存し、システム管理者が月1回、不審な操作の有無を確認しています。"),
    ("評価書のリスク対策について、目的外の入手を防ぐ措置を具体的に記載されたい。",
     "申請書の様式で必要な項目のみを記載させ、窓口での本人確認を徹底する旨を追記しました。"),
    ("職員への研修の実施状況と、受講できなかった職員への対応を伺いたい。",
     "年2回の研修に加え、未受講者には e ラーニングの受講を義務付けています。"),
    ("特定個人情報の消去の時期と方法を明記されたい。",
     "保存期間の満了後、年度末に一括して消去し、消去の記録を残す運用とします。"))
T = TypeVar("T")
CLOSED_REASON = "審議中の評価書に未公表の情報が含まれるため"
CANCELLED_REASON = "台風の接近に伴い中止"


class DatabaseHoldsCases(DomainError):
    code = "database_holds_cases"

    def __init__(self, count: int):
        super().__init__(Message(
            f"このデータベースにはすでに案件が {count:,} 件あります。生成は空のデータベースにのみ行います。",
            f"The database already holds {count:,} cases; demo data is generated into an empty database only."))


@dataclass(frozen=True)
class Generated:
    """What was made: rows per table, and how long it took."""

    rows: dict[str, int]
    seconds: float
    #: The generated organisations' ids, in the order made (the first is a prefecture, the largest).
    organisation_ids: list[int]


# --- organisations, as they would be --------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """An organisation to be made."""

    code: str
    name: str
    #: 県 for a prefecture (都・道・府 included), else 市, 町 or 村
    grade: str

    @property
    def kind(self) -> str:
        return "prefecture" if self.grade == "県" else "municipality"

    @property
    def head_title(self) -> str:
        return f"{self.name}知事" if self.grade == "県" else f"{self.name}長"

    @property
    def residents(self) -> str:
        """市民, 町民, 県民, 都民 …: the word its offices are named with."""
        return (self.name[-1] if self.grade == "県" else self.grade) + "民"

    @property
    def offices(self) -> list[str]:
        names = PREFECTURAL_OFFICES if self.grade == "県" else MUNICIPAL_OFFICES
        return [name.replace("〇", self.residents) for name in names[:OFFICE_COUNTS[self.grade]]]

    @property
    def council(self) -> str:
        return f"{self.name}個人情報保護審議会"

    @property
    def subcommittee(self) -> str:
        return f"{self.council} 特定個人情報保護評価部会"

    @property
    def hall(self) -> str:
        return f"{self.name}{self.name[-1]}庁" if self.grade == "県" else f"{self.name}{'役所' if self.grade == '市' else '役場'}"


def check_digit(code: str) -> str:
    """The sixth digit of a 全国地方公共団体コード: weights 6 to 2, the remainder from 11, its last digit."""
    total = sum(int(digit) * weight for digit, weight in zip(code, range(6, 1, -1), strict=True))
    return code + str((11 - total % 11) % 10)


def places(count: int, rng: random.Random, taken: frozenset[str] = frozenset()) -> list[Place]:
    """The prefectures, then municipalities in turn over them; codes already `taken` are passed over."""
    if count > MAX_ORGANISATIONS:
        raise ValueError(f"at most {MAX_ORGANISATIONS:,} organisations")
    names = [f"{head}{tail}" for head in NAME_HEADS for tail in NAME_TAILS]
    made: list[Place] = []
    for number, name in enumerate(PREFECTURES, start=1):
        code = check_digit(f"{number:02d}000")
        if code not in taken:
            made.append(Place(code, name, "県"))
    unused = {prefecture: rng.sample(names, len(names)) for prefecture in range(1, len(PREFECTURES) + 1)}
    sequence = Counter[int]()
    while len(made) < count:
        prefecture = len(made) % len(PREFECTURES) + 1
        code = check_digit(f"{prefecture:02d}{201 + sequence[prefecture]:03d}")
        sequence[prefecture] += 1
        if code in taken:
            continue
        draw = rng.random()
        grade = next(grade for bound, grade in MUNICIPAL_KINDS if draw < bound)
        made.append(Place(code, unused[prefecture].pop() + grade, grade))
    return made[:count]


def allocate(total: int, shares: Sequence[int]) -> list[int]:
    """`total` spread in proportion to `shares`, exactly (largest remainders first)."""
    whole = sum(shares)
    exact = [total * share / whole for share in shares]
    counts = [int(value) for value in exact]
    for index in sorted(range(len(shares)), key=lambda i: counts[i] - exact[i])[:total - sum(counts)]:
        counts[index] += 1
    return counts


# --- cases: procedures, states and the roads to them --------------------------------------------

def road(procedure: Procedure, state: str) -> tuple[EventSpec, ...]:
    """The events a case has gone through to stand in `state`: the longest way there that passes no
    state twice and rests nowhere on the way (the main road, with its revisions)."""
    best: tuple[EventSpec, ...] = ()

    def walk(at: str, seen: frozenset[str], events: tuple[EventSpec, ...]) -> None:
        nonlocal best
        if at == state:
            if len(events) > len(best) or not best:
                best = events
            return
        if at != procedure.initial and procedure.states[at].kind != "active":
            return
        for event in procedure.events_from(at):
            if event.target not in seen:
                walk(event.target, seen | {event.target}, (*events, event))

    walk(procedure.initial, frozenset({procedure.initial}), ())
    return best


def kinds_of_case(workflows: Workflows) -> list[tuple[Procedure, str]]:
    """Every state of every procedure (the first cases take one each, so that all are there)."""
    return [(procedure, state) for procedure in workflows.procedures.values() for state in procedure.states]


def _weight(procedure: Procedure, state: str) -> float:
    """How common a kind of case is: published and replied cases most, withdrawn ones least."""
    level = procedure.levels[0] if procedure.levels else None
    spec = procedure.states[state]
    common = 1.0 if spec.has("ended") else 5.0 if spec.kind != "active" else 1.5
    return common * {"full": 3, "focused": 2, "basic": 4, None: 2}.get(level, 1)


def _reviewed(procedure: Procedure) -> bool:
    """Whether its cases go before the subcommittee (a procedure with a review), else the council."""
    return any(spec.has("review") for spec in procedure.states.values())


def _input_values(event: EventSpec, day: date, rng: random.Random) -> tuple[dict[str, Any], date]:
    """Plausible inputs of an event fired on `day`, and the first day the next event may come: dates of
    things done lie on or before the day, dates to come (a comment period's end) after it."""
    values: dict[str, Any] = {}
    done = [spec for spec in event.inputs if spec.type == "date" and spec.not_future]
    coming = [spec for spec in event.inputs if spec.type == "date" and not spec.not_future]
    for back, spec in enumerate(reversed(done)):
        values[spec.name] = day - timedelta(days=7 * back)
    for ahead, spec in enumerate(coming):
        values[spec.name] = day + timedelta(days=30 * ahead)
    for spec in event.inputs:
        if spec.name not in values and spec.required:
            values[spec.name] = _value(spec, rng)
    later = max([day, *(value for value in values.values() if isinstance(value, date))])
    return values, later + timedelta(days=1)


def _value(spec: InputSpec, rng: random.Random) -> Any:
    if spec.type == "int":
        return rng.randint(spec.minimum or 0, min(spec.maximum or 20, 20))
    if spec.type == "choice":
        return rng.choice(spec.choices)
    if spec.type == "bool":
        return False
    return rng.choice(REASONS)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value.isoformat() if isinstance(value, date) else value for name, value in values.items()}


def _on(day: date, hour: int, rng: random.Random) -> datetime:
    """An instant in office hours of `day`."""
    return datetime.combine(day, clock_time(hour, rng.randrange(60)), TOKYO)


def _weekday(day: date) -> date:
    """The day, or the Monday after it if it falls on a weekend."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


# --- one organisation's rows ----------------------------------------------------------------------

@dataclass
class Staff:
    """The people of one organisation, by what they are to its records."""

    secretariat: list[tuple[int, str]] = field(default_factory=list)  # (user id, display name)
    members: list[tuple[int, str]] = field(default_factory=list)
    seats: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # body id → [(user id, position)]
    office_users: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # office name → users

    def people(self, roles: tuple[str, ...], body_id: int | None, office: str | None) -> set[int]:
        """Whom a rule's recipients name, as notifications.reminders.recipients reads them from the rows."""
        found: set[int] = set()
        if body_id is not None and {"members", "chair"} & set(roles):
            found |= {user for user, position in self.seats.get(body_id, [])
                      if "members" in roles or position in CHAIR_POSITIONS}
        if "secretariat" in roles:
            found |= {user for user, _ in self.secretariat}
        if "office" in roles and office:
            found |= {user for user, _ in self.office_users.get(office, [])}
        return found


@dataclass
class Made:
    """One organisation as made so far: its ids and people."""

    id: int
    place: Place
    council: int = 0
    subcommittee: int = 0
    staff: Staff = field(default_factory=Staff)


class Generator:
    """Makes the rows of a batch of organisations, table after table, parents before children."""

    def __init__(self, connection: Connection, workflows: Workflows, now: datetime, rng: random.Random,
                 calendar: BusinessCalendar):
        self.connection, self.workflows, self.now, self.rng = connection, workflows, now, rng
        self.calendar = _RememberedDays(calendar)
        self.rows = Counter[str]()
        self.rules = [ReminderRule(**rule) for rule in _shipped_rules()]
        self.kinds = kinds_of_case(workflows)
        self.weights = list(itertools.accumulate(_weight(procedure, state) for procedure, state in self.kinds))
        self.cases_made = 0
        self.roads: dict[tuple[str, str], tuple[EventSpec, ...]] = {}
        self.next_ids: dict[str, int] = {}

    def road(self, procedure: Procedure, state: str) -> tuple[EventSpec, ...]:
        known = self.roads.get((procedure.name, state))
        if known is None:
            known = self.roads[(procedure.name, state)] = road(procedure, state)
        return known

    def insert(self, model: type[SQLModel], rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
        """Bulk INSERTs of `rows` (their keys starting with _ left out: the generator's own notes); with
        `ids`, the new rows' ids in the order given."""
        table = table_of(model)
        made: list[int] = []
        if ids and self.connection.dialect.name == "sqlite":
            made = self._numbered(table.name, rows)
            ids = False
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = [{name: value for name, value in row.items() if not name.startswith("_")}
                     for row in rows[start:start + ROWS_PER_INSERT]]
            if ids:
                statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
                made += self.connection.execute(statement, chunk).scalars().all()
            else:
                self.connection.execute(insert(table), chunk)
        self.rows[table.name] += len(rows)
        return made

    def _numbered(self, table: str, rows: list[dict[str, Any]]) -> list[int]:
        """SQLite returns the ids of a multi-row INSERT only row by row: the rows are numbered here instead,
        from the table's highest id (the transaction holds the write lock from its start, so no one else
        takes them)."""
        if table not in self.next_ids:
            highest = self.connection.execute(text(f"SELECT max(id) FROM {table}")).scalar()
            self.next_ids[table] = (highest or 0) + 1
        first = self.next_ids[table]
        self.next_ids[table] += len(rows)
        for number, row in enumerate(rows, start=first):
            row["id"] = number
        return list(range(first, first + len(rows)))

    # organisations, their bodies, offices and people

    def organisations(self, batch: list[Place]) -> list[Made]:
        ids = self.insert(Organisation, [{"code": place.code, "name": place.name, "kind": place.kind,
                                          "head_title": place.head_title} for place in batch], ids=True)
        self.insert(AuditHead, [{"organisation_id": id_, "last_seq": 0, "last_hash": GENESIS, "length": 0}
                                for id_ in ids])
        self.insert(ReminderRule, [{**rule.model_dump(exclude={"id"}), "organisation_id": id_}
                                   for id_ in ids for rule in self.rules])
        made = [Made(id_, place) for id_, place in zip(ids, batch, strict=True)]
        councils = self.insert(Body, [{"organisation_id": org.id, "name": org.place.council, "kind": "council"}
                                      for org in made], ids=True)
        subcommittees = self.insert(Body, [
            {"organisation_id": org.id, "name": org.place.subcommittee, "kind": "subcommittee", "parent_id": council}
            for org, council in zip(made, councils, strict=True)], ids=True)
        for org, council, subcommittee in zip(made, councils, subcommittees, strict=True):
            org.council, org.subcommittee = council, subcommittee
        self._people(made)
        return made

    def _people(self, made: list[Made]) -> None:
        offices = [(org, number, name) for org in made for number, name in enumerate(org.place.offices, start=1)]
        office_ids = self.insert(Office, [{"organisation_id": org.id, "name": name} for org, _, name in offices],
                                 ids=True)
        users: list[dict[str, Any]] = []
        roles: list[tuple[Made, str, Any]] = []  # (organisation, what the user is, its seats or office)

        def user(org: Made, local: str, name: str, **facts: Any) -> None:
            users.append({"organisation_id": org.id, "email": f"{local}@{org.place.code}.example.jp",
                          "display_name": name, "password_hash": None, "is_secretariat": False, "is_admin": False,
                          "office_id": None, "created_at": RECORD_BEGINS, **facts})

        for org in made:
            user(org, "jimukyoku", f"{org.place.name} 事務局（個人情報保護担当）", is_secretariat=True)
            roles.append((org, "secretariat", None))
            for number, (title, council, subcommittee) in enumerate(MEMBERS, start=1):
                user(org, f"iin{number}", f"{self._person()}（{title}）")
                roles.append((org, "member", ((org.council, council), (org.subcommittee, subcommittee))))
        for (org, number, office), office_id in zip(offices, office_ids, strict=True):
            user(org, f"tanto{number}", f"{self._person()}（{office}）", office_id=office_id)
            roles.append((org, "office", office))
        user_ids = self.insert(UserAccount, users, ids=True)
        seats: list[dict[str, Any]] = []
        for (org, role, detail), user_id, row in zip(roles, user_ids, users, strict=True):
            staff, named = org.staff, (user_id, row["display_name"])
            if role == "secretariat":
                staff.secretariat.append(named)
            elif role == "office":
                staff.office_users.setdefault(detail, []).append(named)
            else:
                staff.members.append(named)
                for body, position in detail:
                    if position is not None:
                        staff.seats.setdefault(body, []).append((user_id, position.value))
                        seats.append({"organisation_id": org.id, "user_id": user_id, "body_id": body,
                                      "position": position.value})
        self.insert(Membership, seats)

    def _person(self) -> str:
        return f"{self.rng.choice(SURNAMES)} {self.rng.choice(GIVEN_NAMES)}"

    # cases and their history

    def step(self, batch: list[tuple[Place, int]]) -> list[int]:
        """One group of organisations with everything theirs, table by table; their ids."""
        made = self.organisations([place for place, _ in batch])
        cases = {org.id: [self._case(org, number, *self._kind()) for number in range(1, count + 1)]
                 for org, (_, count) in zip(made, batch, strict=True)}
        every_case = [case for org in made for case in cases[org.id]]
        for case, case_id in zip(every_case, self.insert(Assessment, every_case, ids=True), strict=True):
            case["id"] = case_id
        self.insert(HistoryEntry, [{**entry, "assessment_id": case["id"]} for case in every_case
                                   for entry in case["_story"]])
        meetings = {org.id: self._schedule(org, len(cases[org.id])) for org in made}
        every_meeting = [meeting for org in made for meeting in meetings[org.id]]
        for meeting, meeting_id in zip(every_meeting, self.insert(Meeting, every_meeting, ids=True), strict=True):
            meeting["id"] = meeting_id
        agenda: list[dict[str, Any]] = []
        findings: list[dict[str, Any]] = []
        for org in made:
            self._agenda(org, cases[org.id], meetings[org.id], agenda, findings)
        for finding, finding_id in zip(findings, self.insert(Finding, findings, ids=True), strict=True):
            finding["id"] = finding_id
        self.insert(AgendaItem, agenda)
        held = [(org, meeting) for org in made for meeting in meetings[org.id]
                if meeting["status"] == MeetingStatus.HELD]
        for org, meeting in held:
            meeting["_minutes"] = self._minutes(org, meeting)
        minutes = [meeting["_minutes"] for _, meeting in held]
        for row, minutes_id in zip(minutes, self.insert(Minutes, minutes, ids=True), strict=True):
            row["id"] = minutes_id
        self.insert(Reminder, [reminder for org in made for reminder in self._reminders(org, cases[org.id],
                                                                                         meetings[org.id])])
        return [org.id for org in made]

    def _kind(self) -> tuple[Procedure, str]:
        """The procedure and state of the next case: each in turn first, then as common as they are."""
        self.cases_made += 1
        if self.cases_made <= len(self.kinds):
            return self.kinds[self.cases_made - 1]
        return self.rng.choices(self.kinds, cum_weights=self.weights)[0]

    def _case(self, org: Made, number: int, procedure: Procedure, state: str) -> dict[str, Any]:
        """A case's row, its history (_story) and the states it entered when (_entered) among it."""
        rng, events = self.rng, self.road(procedure, state)
        subject = rng.choice(SUBJECTS)
        level = procedure.levels[0] if procedure.levels else None
        if procedure.serves == "consultation":
            consultation = rng.choice(list(CONSULTATIONS))
            title, kind = CONSULTATIONS[consultation].format(subject=subject), "consultation"
        else:
            consultation, title, kind = None, f"{subject}に関する事務", "assessment"
        low, high = TARGET_COUNTS.get(level or "", (1_000, 9_999))
        # Cases still on their way were opened lately; settled ones at any time since the record began.
        settled = procedure.states[state].kind != "active"
        latest = self.now - timedelta(days=30 + 45 * len(events))
        earliest = RECORD_BEGINS if settled else max(RECORD_BEGINS, latest - timedelta(days=540))
        opened = _on(_weekday((earliest + (latest - earliest) * rng.random()).date()), 10, rng)
        office = rng.choice(org.place.offices)
        case: dict[str, Any] = {
            **dict.fromkeys(WRITABLE_FIELDS), "annual_review_due": None, "reassessment_due": None,
            "organisation_id": org.id, "title": f"{title}（第{number}号）", "office": office, "kind": kind,
            "consultation_type": consultation,
            "target_count": rng.randint(low, high) if kind == "assessment" else None,
            "handler_count": rng.randint(10, 400) if kind == "assessment" else None,
            "serious_incident": False, "voluntary_level": None, "level": level, "procedure": procedure.name,
            "is_public": procedure.states[state].has("public"), "version": 1 + len(events), "cycle": 1,
            "body_id": org.subcommittee if _reviewed(procedure) else org.council,
            "planned_holding_date": (opened + timedelta(days=365)).date() if kind == "assessment" else None,
            "created_at": opened,
        }
        secretariat = org.staff.secretariat[0]
        story = [{"organisation_id": org.id, "cycle": 1, "at": opened, "actor": secretariat[1],
                  "actor_user_id": secretariat[0], "event": "created", "from_state": None,
                  "to_state": procedure.initial, "procedure": procedure.name, "version": 1, "note": None,
                  "inputs": {"kind": kind} if level is None else {"level": level}}]
        at, earliest_next = opened, opened.date() + timedelta(days=1)
        for version, event in enumerate(events, start=2):
            day = _weekday(max(earliest_next, at.date() + timedelta(days=rng.randint(14, 45))))
            day = min(day, self.now.date() - timedelta(days=1))
            at = max(_on(day, 14, rng), at + timedelta(minutes=5))
            values, earliest_next = _input_values(event, at.date(), rng)
            for spec in event.inputs:
                if spec.field and spec.name in values:
                    case[spec.field] = values[spec.name]
            if "schedule_reviews" in event.effects:  # as the effect does: reviews counted from publication
                case["annual_review_due"] = add_years(case["published_on"], 1)
                case["reassessment_due"] = reassessment_deadline(case["published_on"])
            actor = rng.choice(org.staff.office_users[office]) if event.actor == "office" else secretariat
            story.append({**story[0], "at": at, "actor": actor[1], "actor_user_id": actor[0], "event": event.name,
                          "from_state": story[-1]["to_state"], "to_state": event.target, "version": version,
                          "inputs": _jsonable(values)})
        case.update(state=state, state_entered_at=at, updated_at=at, reminders_version=case["version"])
        case["_entered"] = [(entry["to_state"], entry["at"]) for entry in story]
        case["_story"] = story
        return case

    # meetings, their agendas, the questions raised there, and their minutes

    def _agenda(self, org: Made, cases: list[dict[str, Any]], meetings: list[dict[str, Any]],
                agenda: list[dict[str, Any]], findings: list[dict[str, Any]]) -> None:
        """Each reviewed case on the agenda of its body's meeting after it came for review, with the members'
        questions raised there; a case come to rest also at the council's meeting on its reply."""
        positions = Counter[int]()

        def item(meeting: dict[str, Any], case: dict[str, Any], purpose: str, what: str) -> None:
            positions[meeting["id"]] += 1
            agenda.append({"organisation_id": org.id, "meeting_id": meeting["id"], "position": positions[meeting["id"]],
                           "assessment_id": case["id"], "purpose": purpose, "title": f"{case['title']}について（{what}）"})

        for case in cases:
            entered = self._review_entry(case)
            if entered is None:
                continue
            meeting = self._meeting_after(meetings, case["body_id"], entered)
            if case["kind"] == "assessment":
                item(meeting, case, "third_party_review", "第三者点検")
            else:
                item(meeting, case, "other", "審議")
            asked = self._questions(org, case, meeting)
            meeting.setdefault("_asked", []).extend(asked)
            case.setdefault("_asked", []).extend(asked)
            findings += asked
            if self._replied(case):
                item(self._meeting_before(meetings, org.council, case["state_entered_at"]), case, "reply_draft",
                     "答申案の審議")

    def _schedule(self, org: Made, cases: int) -> list[dict[str, Any]]:
        """The meetings of the organisation's council and subcommittee, as many as its cases call for."""
        return (self._meetings_of(org, org.council, 14, max(2, cases // 8))
                + self._meetings_of(org, org.subcommittee, 10, max(3, cases // 3)))

    def _review_entry(self, case: dict[str, Any]) -> datetime | None:
        """When the case first came before its body for review, if it ever did."""
        procedure = self.workflows.procedures[case["procedure"]]
        return next((at for state, at in case["_entered"] if procedure.states[state].has("review")), None)

    def _meetings_of(self, org: Made, body: int, hour: int, count: int) -> list[dict[str, Any]]:
        """`count` meetings of a body from the record's beginning to two months ahead, numbered by term
        (第N期: two fiscal years)."""
        rng, span = self.rng, (self.now + timedelta(days=60)) - RECORD_BEGINS
        days = sorted(_weekday((RECORD_BEGINS + span * ((i + rng.random()) / count)).date()) for i in range(count))
        meetings, numbers = [], Counter[str]()
        for day in days:
            fiscal_year = day.year if day.month >= 4 else day.year - 1
            term = f"第{(fiscal_year - RECORD_BEGINS.year) // 2 + 1}期"
            numbers[term] += 1
            starts = datetime.combine(day, clock_time(hour, 0), TOKYO)
            public = body == org.council or rng.random() < 0.7
            status = (MeetingStatus.SCHEDULED if starts > self.now
                      else MeetingStatus.CANCELLED if rng.random() < 0.03 else MeetingStatus.HELD)
            meetings.append({
                "organisation_id": org.id, "body_id": body, "term": term, "number": numbers[term],
                "starts_at": starts, "ends_at": starts + timedelta(hours=2), "venue": f"{org.place.hall} 第1会議室",
                "is_public": public, "status": status.value,
                "observers": rng.randint(0, 5) if public and status == MeetingStatus.HELD else None,
                "closed_reason": None if public else CLOSED_REASON,
                "cancelled_reason": CANCELLED_REASON if status == MeetingStatus.CANCELLED else None,
                "sequence": 0, "version": 1, "created_at": starts - timedelta(days=30),
                "updated_at": starts - timedelta(days=30),
            })
        return meetings

    def _replied(self, case: dict[str, Any]) -> bool:
        """Whether a reviewed case has come to rest (published, replied): its reply went before the council."""
        state = self.workflows.procedures[case["procedure"]].states[case["state"]]
        return state.kind != "active" and not state.has("ended")

    @staticmethod
    def _of_body(meetings: list[dict[str, Any]], body: int) -> list[dict[str, Any]]:
        """The body's meetings that were not cancelled (all of them if every one was)."""
        mine = [meeting for meeting in meetings if meeting["body_id"] == body]
        return [meeting for meeting in mine if meeting["status"] != MeetingStatus.CANCELLED] or mine

    def _meeting_after(self, meetings: list[dict[str, Any]], body: int, entered: datetime) -> dict[str, Any]:
        """The body's first meeting on or after `entered`, else its last."""
        held = self._of_body(meetings, body)
        return next((meeting for meeting in held if meeting["starts_at"] >= entered), held[-1])

    def _meeting_before(self, meetings: list[dict[str, Any]], body: int, entered: datetime) -> dict[str, Any]:
        """The body's last meeting before `entered`, else its first."""
        held = self._of_body(meetings, body)
        return next((meeting for meeting in reversed(held) if meeting["starts_at"] < entered), held[0])

    def _questions(self, org: Made, case: dict[str, Any], meeting: dict[str, Any]) -> list[dict[str, Any]]:
        """The members' questions on a case at a meeting (raised in writing the week before), answered
        unless the case is still under review and the question is recent."""
        rng, today = self.rng, self.now.date()
        procedure = self.workflows.procedures[case["procedure"]]
        still_reviewed = procedure.states[case["state"]].has("review")
        raised_on = min(meeting["starts_at"].date() - timedelta(days=7), today - timedelta(days=rng.randint(0, 10)))
        found = []
        for question, answer in rng.sample(QUESTIONS, rng.randint(1, 3)):
            member = rng.choice(org.staff.members)
            answered_on = raised_on + timedelta(days=rng.randint(7, 20))
            answered = answered_on <= today and not (still_reviewed and raised_on >= today - timedelta(days=21))
            status = FindingStatus.CLOSED if answered and not still_reviewed else (
                FindingStatus.ANSWERED if answered else FindingStatus.OPEN)
            stamp = datetime.combine(raised_on, clock_time(9, 0), TOKYO)
            found.append({
                "organisation_id": org.id, "assessment_id": case["id"], "cycle": 1, "meeting_id": meeting["id"],
                "raised_by": member[1], "raised_by_user_id": member[0], "raised_on": raised_on, "kind": "question",
                "section": "Ⅲ リスク対策" if case["kind"] == "assessment" else None, "text": question,
                "answer": answer if answered else None, "answered_on": answered_on if answered else None,
                "answered_at_meeting_id": meeting["id"] if answered else None, "status": status.value,
                "carried_to_meeting_id": None, "resolved_in_version_id": None, "created_at": stamp,
                "updated_at": datetime.combine(answered_on, clock_time(9, 0), TOKYO) if answered else stamp})
        return found

    def _minutes(self, org: Made, meeting: dict[str, Any]) -> dict[str, Any]:
        """会議録 of a held meeting: published when it is two months old, in correction in its third and
        fourth week, a draft before."""
        day, today = meeting["starts_at"].date(), self.now.date()
        chair = "会長" if meeting["body_id"] == org.council else "部会長"
        asked = meeting.get("_asked", [])[:2]
        passages = [{"speaker": chair, "text": f"ただいまから第{meeting['number']}回会議を開会します。", "public": True},
                    {"speaker": "事務局", "text": "本日の議題について、資料に基づき説明します。", "public": True}]
        passages += [{"speaker": f"{finding['raised_by'].split(' ')[0]}委員", "text": finding["text"],
                      "public": meeting["is_public"]} for finding in asked]
        passages.append({"speaker": chair, "text": "以上で本日の会議を閉会します。", "public": True})
        age = (today - day).days
        status = (MinutesStatus.PUBLISHED if age > 60 else MinutesStatus.CONFIRMED if age > 28
                  else MinutesStatus.CORRECTING if age > 7 else MinutesStatus.DRAFT)
        sent = status != MinutesStatus.DRAFT
        confirmed = status in (MinutesStatus.CONFIRMED, MinutesStatus.PUBLISHED)
        return {
            "organisation_id": org.id, "meeting_id": meeting["id"], "status": status.value, "passages": passages,
            "sent_on": day + timedelta(days=7) if sent else None,
            "correction_deadline": day + timedelta(days=28) if sent else None,
            "confirmed_on": day + timedelta(days=35) if confirmed else None,
            "confirmed_by": chair if confirmed else None,
            "published_on": day + timedelta(days=45) if status == MinutesStatus.PUBLISHED else None,
            "created_at": meeting["starts_at"] + timedelta(days=3), "updated_at": meeting["starts_at"] + timedelta(days=3),
        }

    # reminders

    def _reminders(self, org: Made, cases: list[dict[str, Any]], meetings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The reminders still to go out, a row per recipient, as the service computes them from the facts."""
        rows: list[dict[str, Any]] = []
        for case in cases:
            state = self.workflows.procedures[case["procedure"]].states[case["state"]]
            rows += self._due(org, Subject.CASE, case["id"], case_facts(_as(Assessment, case), state),
                              case["body_id"], case["office"])
            for finding in case.get("_asked", []):
                rows += self._due(org, Subject.FINDING, finding["id"], finding_facts(_as(Finding, finding)),
                                  case["body_id"], case["office"])
        for meeting in meetings:
            rows += self._due(org, Subject.MEETING, meeting["id"], meeting_facts(_as(Meeting, meeting)),
                              meeting["body_id"], None)
            if "_minutes" in meeting:
                minutes = meeting["_minutes"]
                rows += self._due(org, Subject.MINUTES, minutes["id"], minutes_facts(_as(Minutes, minutes)),
                                  meeting["body_id"], None)
        return rows

    def _due(self, org: Made, subject: Subject, subject_id: int, facts: Facts, body_id: int | None,
             office: str | None) -> list[dict[str, Any]]:
        wanted = reminders.desired(self.rules, facts, lambda roles: org.staff.people(roles, body_id, office),
                                   self.now, self.calendar)
        return [{"organisation_id": org.id, "rule_key": rule_key, "subject_type": subject.value,
                 "subject_id": subject_id, "user_id": user_id, "fact_at": reminder.fact_at, "due_at": reminder.due_at,
                 "status": "pending", "sent_at": None, "created_at": self.now, "updated_at": self.now}
                for (rule_key, user_id), reminder in wanted.items() if reminder.due_at > self.now]


def _as(model: type[T], row: dict[str, Any]) -> T:
    """A row's values read as attributes, as the facts functions read a record (a mapped instance would
    cost a hundred times more to make, and none is ever stored)."""
    return cast(T, SimpleNamespace(**row))


class _RememberedDays(BusinessCalendar):
    """The calendar, each day's answer kept: the generator asks about the same days many times over."""

    def __init__(self, calendar: BusinessCalendar):
        super().__init__(calendar.closure_days, calendar.extra_closed)
        self._known: dict[date, str | None] = {}

    def closed_reason(self, day: date | datetime) -> str | None:
        key = as_tokyo_date(day)
        if key not in self._known:
            self._known[key] = super().closed_reason(key)
        return self._known[key]


@cache
def _shipped_rules_text() -> str:
    return DEFAULT_RULES.read_text(encoding="utf-8")


def _shipped_rules() -> list[dict[str, Any]]:
    return list(yaml.safe_load(_shipped_rules_text()))


def _steps(made: list[Place], counts: list[int]) -> Iterator[list[tuple[Place, int]]]:
    """Organisations in groups of about CASES_PER_STEP cases (at most 200 organisations)."""
    step: list[tuple[Place, int]] = []
    for place, count in zip(made, counts, strict=True):
        step.append((place, count))
        if sum(n for _, n in step) >= CASES_PER_STEP or len(step) >= 200:
            yield step
            step = []
    if step:
        yield step


def ensure_empty(db: Database) -> None:
    """Refuse a database that holds cases: generated data is never mixed with a record."""
    with db.engine.connect() as connection:
        held = connection.execute(select(func.count()).select_from(table_of(Assessment))).scalar_one()
    if held:
        raise DatabaseHoldsCases(held)


def generate(db: Database, workflows: Workflows, clock: Clock, *, organisations: int, cases: int, seed: int = 0,
             progress: Callable[[int], None] = lambda _done: None,
             calendar: BusinessCalendar = DEFAULT_CALENDAR) -> Generated:
    """Fill an empty database: `organisations` organisations and `cases` cases spread over them, with all
    that goes with them. `progress(n)` is told of each step: n organisations and cases more are made (they
    add up to organisations + cases)."""
    started = time.perf_counter()
    rng, now = random.Random(seed), clock.now()
    ensure_empty(db)
    with db.engine.connect() as connection:
        taken = frozenset(connection.execute(select(table_of(Organisation).c.code)).scalars())
    made = places(organisations, rng, taken)
    counts = allocate(cases, [SHARES[place.grade] for place in made])
    ids: list[int] = []
    # The migrations' connection: the tables' owner, without an organisation's role (every row names its
    # organisation itself); on SQLite its transaction takes the write lock at once.
    with db.migration_connection() as connection, connection.begin():
        generator = Generator(connection, workflows, now, rng, calendar)
        for step in _steps(made, counts):
            ids += generator.step(step)
            progress(len(step) + sum(count for _, count in step))
    reminders.ensure_default_rules(db)  # adds none: each organisation has the shipped rules already
    return Generated(dict(generator.rows), time.perf_counter() - started, ids)
