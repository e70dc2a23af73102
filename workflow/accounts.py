"""Accounts: users, bodies and offices; password sign-in with throttling; sessions; API tokens.

Passwords are hashed with Argon2 (argon2-cffi). Session and API tokens are random 256-bit strings
shown once; the database keeps only their SHA-256 (enough for high-entropy secrets).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeGuard, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import Row, Select, bindparam
from sqlalchemy import select as core_select  # sqlmodel's select types at most four columns
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from workflow import audit
from workflow.clock import Clock
from workflow.columns import MAX_ID, stored_id
from workflow.db import Database
from workflow.errors import Conflict, DomainError, InvalidInput, Message, NotFound, Record, RecordNotFound
from workflow.models import ApiToken, AuditHead, Body, Membership, Office, SignInThrottle, UserAccount, WebSession
from workflow.organisations import DEFAULT_ORGANISATION, EVERY_ORGANISATION, Organisation, scope_of
from workflow.policy import Action, Actor, Position, Role, authorize
from workflow.validation import EmailText, PasswordText, Text100, Text200, has_control_characters, keys_as_names

SESSION_LIFETIME = timedelta(hours=12)
TOKEN_LIFETIME = timedelta(days=90)
MAX_FAILURES = 10  # consecutive wrong passwords for one account from one source
LOCK_DURATION = timedelta(minutes=15)
TOKEN_PREFIX = "shg_"

_hasher = PasswordHasher()
# Verifying against this when the account is unknown keeps the timing the same as for a real one.
_DUMMY_HASH = _hasher.hash("not a password")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


class SignInFailed(DomainError):
    code = "sign_in_failed"

    def __init__(self) -> None:
        super().__init__(Message("メールアドレスまたはパスワードが正しくありません。", "Wrong e-mail address or password."))


class SignInLocked(DomainError):
    code = "sign_in_locked"

    def __init__(self, until: datetime, now: datetime):
        self.retry_after = max(1, int((until - now).total_seconds()))
        minutes = -(-self.retry_after // 60)
        super().__init__(Message(
            f"ログインの失敗が続いたため、このアカウントへのログインを一時的に停止しています（約{minutes}分後に再度お試しください）。",
            f"Too many failed sign-ins: signing in to this account is paused (try again in about {minutes} min).",
        ))


# --- users, bodies, offices ---------------------------------------------------------------------

#: The roles a user may be given; `system` is the service's own (the scheduler, the operators' commands).
AssignableRole = Literal["secretariat", "member", "office", "admin"]
ASSIGNABLE_ROLES: tuple[str, ...] = get_args(AssignableRole)
assert set(ASSIGNABLE_ROLES) == set(Role) - {Role.SYSTEM}, "every role but the system's can be given"


def _assignable(value: Any) -> Any:
    """Roles outside ASSIGNABLE_ROLES are refused as one problem of `roles` (rule one_of), listing those there are."""
    if isinstance(value, (list, tuple, set, frozenset)) and any(
            isinstance(role, str) and role not in ASSIGNABLE_ROLES for role in value):
        raise PydanticCustomError("literal_error", "Input should be {expected}",
                                  {"expected": ", ".join(ASSIGNABLE_ROLES)})
    return value


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    display_name: Text200
    password: PasswordText | None = Field(default=None, min_length=10)
    roles: Annotated[set[AssignableRole], BeforeValidator(_assignable)] = Field(
        default_factory=set, description="secretariat | member | office | admin")
    #: body name → position held there (members); a body is made on its first mention (workflow.accounts.body_by_name)
    bodies: dict[Text200, Position] = Field(default_factory=dict, max_length=50, json_schema_extra=keys_as_names)
    office: Text100 | None = None

    @property
    def given_roles(self) -> frozenset[Role]:
        return frozenset(Role(role) for role in self.roles)


class NewOrganisation(BaseModel):
    """An organisation the install serves (an operator's command: `shingi organisation add`)."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z_-]+$",
                               description="全国地方公共団体コード or another short code: letters, digits, - and _")]
    name: Text100
    kind: Literal["prefecture", "municipality", "association"] = "municipality"
    head_title: Text100


def add_organisation(db: Database, data: NewOrganisation) -> Organisation:
    """A new organisation with its own, empty record and audit chain. The operators' command only: no
    user of an organisation may make another."""
    with db.writing(EVERY_ORGANISATION) as session:
        if session.exec(select(Organisation).where(Organisation.code == data.code)).first() is not None:
            raise Conflict(Message(f"団体コード {data.code} の団体はすでにあります。",
                                   f"An organisation with code {data.code} already exists."))
        organisation = Organisation(code=data.code, name=data.name, kind=data.kind, head_title=data.head_title)
        session.add(organisation)
        session.flush()
        session.add(AuditHead(organisation_id=stored_id(organisation), last_hash=audit.GENESIS))
    return organisation


def organisation_by_code(db: Database, code: str) -> Organisation | None:
    with db.reading(EVERY_ORGANISATION) as session:
        return session.exec(select(Organisation).where(Organisation.code == code)).first()


def organisations(db: Database) -> list[Organisation]:
    with db.reading(EVERY_ORGANISATION) as session:
        return list(session.exec(select(Organisation).order_by(col(Organisation.id))).all())


class Credentials(BaseModel):
    """What signs a user in: the e-mail address (any case) and the password."""

    model_config = ConfigDict(extra="forbid")

    email: EmailText
    password: PasswordText


def office_by_name(session: Session, name: str) -> Office:
    return _named(session, Office, name, lambda: Office(name=name))


def body_by_name(session: Session, name: str, *, kind: str = "council", parent: str | None = None) -> Body:
    def new_body() -> Body:
        return Body(name=name, kind=kind, parent_id=body_by_name(session, parent).id if parent else None)

    return _named(session, Body, name, new_body)


def _named(session: Session, model: type[Office] | type[Body], name: str, make: Callable[[], Office | Body]) -> Any:
    """The row with this unique name, created on first mention.

    Two requests naming a new office or body at once both miss it; the savepoint lets the one whose
    INSERT loses to the unique name read the winner's row instead of failing its whole transaction.
    """
    # Names are unique in an organisation; the service's own sessions (of every organisation) name the
    # first organisation's, where they also make what they name.
    query = select(model).where(model.name == name)
    if scope_of(session) is None:
        query = query.where(model.organisation_id == DEFAULT_ORGANISATION)
    found = session.exec(query).first()
    if found is not None:
        return found
    try:
        with session.begin_nested():
            created = make()
            session.add(created)
        return created
    except IntegrityError:
        return session.exec(query).one()


def add_user(db: Database, clock: Clock, data: NewUser, by: Actor) -> UserAccount:
    email = normalise_email(str(data.email))
    roles = data.given_roles
    if Role.MEMBER in roles and not data.bodies:
        raise InvalidInput.single("bodies", "member_needs_body", "委員にはいずれかの会議体を指定してください。",
                                  "A member needs at least one body.")
    if Role.OFFICE in roles and not data.office:
        raise InvalidInput.single("office", "office_needs_name", "実施機関の利用者には担当課を指定してください。",
                                  "An office user needs an office.")
    with db.writing(by) as session:
        authorize(by, Action.MANAGE_USERS)
        if session.exec(select(UserAccount).where(UserAccount.email == email)).first():
            raise Conflict(Message(f"{email} は既に登録されています。", f"{email} is already registered."))
        office_id = office_by_name(session, data.office).id if data.office else None
        user = UserAccount(
            email=email, display_name=data.display_name,
            password_hash=_hasher.hash(data.password) if data.password else None,
            is_secretariat=Role.SECRETARIAT in roles, is_admin=Role.ADMIN in roles,
            office_id=office_id if Role.OFFICE in roles else None, created_at=clock.now(),
        )
        session.add(user)
        session.flush()
        for body_name, position in data.bodies.items():
            session.add(Membership(user_id=stored_id(user), body_id=stored_id(body_by_name(session, body_name)),
                                   position=position))
        audit.record(session, audit_actor(by), "user.added", at=clock.now(), object_type="user", object_id=user.id,
                     detail={"email": email, "roles": sorted(data.roles), "bodies": dict(data.bodies),
                             "office": data.office})
    return user


def disable_user(db: Database, clock: Clock, email: str, by: Actor) -> UserAccount:
    with db.writing(by) as session:
        authorize(by, Action.MANAGE_USERS)
        user = _user_by_email(session, email)
        user.disabled_at = clock.now()
        session.add(user)
        # A disabled user's sessions end now; tokens are refused while disabled.
        for web_session in session.exec(select(WebSession).where(WebSession.user_id == user.id)).all():
            session.delete(web_session)
        audit.record(session, audit_actor(by), "user.disabled", at=clock.now(), object_type="user", object_id=user.id,
                     detail={"email": user.email})
    forget_cached_tokens()
    return user


def _user_by_email(session: Session, email: str) -> UserAccount:
    user = session.exec(select(UserAccount).where(UserAccount.email == normalise_email(email))).first() \
        if not has_control_characters(email) else None  # never sent to the database (PostgreSQL refuses NUL)
    if user is None:
        raise NotFound(Message(f"利用者 {email} は登録されていません。", f"No user {email}."))
    return user


def actor_for(session: Session, user: UserAccount, *, via: str | None = None, source: str | None = None,
              csrf_token: str | None = None, office_name: str | None = None) -> Actor:
    if office_name is None and user.office_id:
        office = session.get(Office, user.office_id)
        office_name = office.name if office else None
    bodies = {m.body_id: Position(m.position) for m in session.exec(
        select(Membership).where(Membership.user_id == user.id)).all()}
    return _actor(user, stored_id(user), office_name, bodies, via=via, source=source, csrf_token=csrf_token)


def actors_for(session: Session, user_ids: Collection[int]) -> dict[int, Actor]:
    """The actors of many users in two queries (the recipients of a batch of reminders)."""
    if not user_ids:
        return {}
    users = session.exec(select(UserAccount, Office.name).outerjoin(Office, col(Office.id) == UserAccount.office_id)
                         .where(col(UserAccount.id).in_(list(user_ids)))).all()
    seats: dict[int, dict[int, Position]] = {}
    for membership in session.exec(select(Membership).where(col(Membership.user_id).in_(list(user_ids)))).all():
        seats.setdefault(membership.user_id, {})[membership.body_id] = Position(membership.position)
    return {stored_id(user): _actor(user, stored_id(user), office_name, seats.get(stored_id(user), {}), via=None,
                                    source=None, csrf_token=None)
            for user, office_name in users}


def _actor(user: UserAccount | Row[Any], user_id: int, office_name: str | None, bodies: dict[int, Position], *, via: str | None,
           source: str | None, csrf_token: str | None) -> Actor:
    """The actor of a user (a row or a record with its flags and names), their office and their seats."""
    roles: set[Role] = set()
    if user.is_secretariat:
        roles.add(Role.SECRETARIAT)
    if user.is_admin:
        roles.add(Role.ADMIN)
    if office_name is not None:
        roles.add(Role.OFFICE)
    if bodies:
        roles.add(Role.MEMBER)
    return Actor(user_id=user_id, label=user.display_name, roles=frozenset(roles), email=user.email,
                 office=office_name, bodies=bodies, via=via, source=source, csrf_token=csrf_token,
                 organisation_id=user.organisation_id)


def audit_actor(actor: Actor) -> audit.AuditActor:
    return audit.AuditActor(user_id=actor.user_id, label=actor.email or actor.label, source=actor.source)


# --- sign-in and sessions -----------------------------------------------------------------------

@dataclass(frozen=True)
class SessionGrant:
    token: str  # goes into the cookie; never stored
    csrf_token: str
    actor: Actor
    expires_at: datetime


def sign_in(db: Database, clock: Clock, email: str, password: str, source: str) -> SessionGrant:
    if has_control_characters(email):  # never looked up (PostgreSQL refuses NUL in text): named, like any bad input
        raise InvalidInput.single("email", "no_control_characters", "制御文字は使用できません。",
                                  "Control characters are not allowed.")
    email = normalise_email(email)[:254]
    source = (source or "unknown")[:64]
    now = clock.now()
    with db.writing(EVERY_ORGANISATION) as session:
        throttle = session.exec(select(SignInThrottle).where(
            SignInThrottle.email == email, SignInThrottle.source == source)).first()
        if throttle and throttle.locked_until and throttle.locked_until > now:
            raise SignInLocked(throttle.locked_until, now)
        user = session.exec(select(UserAccount).where(UserAccount.email == email)).first()
        failure: DomainError | None
        if not _password_matches(user, password):
            throttle = throttle or SignInThrottle(email=email, source=source)
            throttle.failures += 1
            throttle.last_failure_at = now
            if throttle.failures >= MAX_FAILURES:
                throttle.locked_until = now + LOCK_DURATION
            session.add(throttle)
            audit.record(session, audit.AuditActor(user.id if user else None, email, source), "sign_in.failed",
                         at=now, object_type="user", object_id=user.id if user else None,
                         detail={"failures": throttle.failures, "locked": throttle.failures >= MAX_FAILURES})
            failure = (SignInLocked(throttle.locked_until, now) if throttle.locked_until
                       and throttle.locked_until > now else SignInFailed())
        else:
            failure = None
            if throttle:
                session.delete(throttle)
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = now + SESSION_LIFETIME
            session.add(WebSession(token_hash=digest(token), user_id=stored_id(user), csrf_token=csrf, created_at=now,
                                   expires_at=expires))
            actor = actor_for(session, user, via="session", source=source, csrf_token=csrf)
            audit.record(session, audit_actor(actor), "sign_in", at=now, object_type="user", object_id=user.id)
    if failure is not None:
        raise failure  # after the commit: the failure count and its audit entry are kept
    return SessionGrant(token=token, csrf_token=csrf, actor=actor, expires_at=expires)


def _password_matches(user: UserAccount | None, password: str) -> TypeGuard[UserAccount]:
    """True only for an enabled user whose password this is; as slow for an unknown user as for a known one."""
    if user is None or user.disabled_at is not None or not user.password_hash:
        with contextlib.suppress(VerificationError):  # the same work as a real check: no timing oracle
            _hasher.verify(_DUMMY_HASH, password)
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_out(db: Database, clock: Clock, token: str, actor: Actor) -> None:
    with db.writing(actor) as session:
        web_session = session.exec(select(WebSession).where(WebSession.token_hash == digest(token))).first()
        if web_session is not None:
            session.delete(web_session)
            audit.record(session, audit_actor(actor), "sign_out", at=clock.now(), object_type="user",
                         object_id=web_session.user_id)


def actor_from_session(db: Database, clock: Clock, token: str, source: str | None) -> Actor | None:
    rows = db.read(_SESSION_ACTOR, {"token_hash": digest(token)}, scope=EVERY_ORGANISATION)
    if not rows or rows[0].expires_at <= clock.now() or rows[0].disabled_at is not None:
        return None
    return _actor_of(rows, via="session", source=source, csrf_token=rows[0].csrf_token)


def _credential_query(credential: type[ApiToken] | type[WebSession], *columns: Mapped[Any]) -> Select:
    """The user behind a session or token with their office and seats: one statement per request."""
    return (
        core_select(*columns, col(UserAccount.id).label("user_id"), col(UserAccount.display_name),
                    col(UserAccount.email), col(UserAccount.is_secretariat), col(UserAccount.is_admin),
                    col(UserAccount.disabled_at), col(UserAccount.organisation_id), col(Office.name).label("office_name"),
                    col(Membership.body_id),
                    col(Membership.position))
        .select_from(credential)
        .join(UserAccount, col(UserAccount.id) == credential.user_id)
        .outerjoin(Office, col(Office.id) == UserAccount.office_id)
        .outerjoin(Membership, col(Membership.user_id) == UserAccount.id)
        .where(col(credential.token_hash) == bindparam("token_hash"))
    )


_SESSION_ACTOR = _credential_query(WebSession, col(WebSession.expires_at), col(WebSession.csrf_token))
_TOKEN_ACTOR = _credential_query(ApiToken, col(ApiToken.revoked_at), col(ApiToken.expires_at))


def _actor_of(rows: list[Row], *, via: str, source: str | None, csrf_token: str | None = None) -> Actor:
    """The actor from `_credential_query`'s rows (one per seat the user holds, or one without a seat)."""
    user = rows[0]
    bodies = {row.body_id: Position(row.position) for row in rows if row.body_id is not None}
    return _actor(user, user.user_id, user.office_name, bodies, via=via, source=source, csrf_token=csrf_token)


# --- API tokens ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once
    record: ApiToken


def _token_holder(session: Session, by: Actor, email: str | None, action: Action) -> UserAccount:
    """The user whose API tokens `by` acts on: the one with this e-mail address, or (None) `by` themself."""
    if email is not None:
        user = _user_by_email(session, email)
        authorize(by, action, user)
        return user
    authorize(by, action)  # one's own: anyone with an account
    own = session.get(UserAccount, by.user_id) if by.user_id is not None else None
    if own is None:
        raise NotFound(Message("利用者が見つかりません。", "No such user."))
    return own


def create_token(db: Database, clock: Clock, email: str | None, by: Actor, *, name: str = "api",
                 lifetime: timedelta = TOKEN_LIFETIME) -> IssuedToken:
    """A new API token for the user with this e-mail address, or (email None) for `by`."""
    now = clock.now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.writing(by) as session:
        user = _token_holder(session, by, email, Action.ISSUE_TOKEN)
        record = ApiToken(user_id=stored_id(user), name=name[:100], prefix=token[:12], token_hash=digest(token),
                          created_at=now, expires_at=now + lifetime)
        session.add(record)
        session.flush()
        audit.record(session, audit_actor(by), "token.created", at=now, object_type="api_token",
                     object_id=record.id, detail={"user": user.email, "name": record.name,
                                                  "expires_at": record.expires_at.isoformat()})
    return IssuedToken(token=token, record=record)


def revoke_token(db: Database, clock: Clock, token_id: int, by: Actor) -> ApiToken:
    with db.writing(by) as session:
        record = session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
        # The public is asked to sign in; someone else's token, like one that is not there, is not found.
        authorize(by, Action.REVOKE_TOKEN, record, hidden=RecordNotFound(Record.API_TOKEN, token_id))
        if record is None:  # hidden by the rule already; this tells the type checker
            raise RecordNotFound(Record.API_TOKEN, token_id)
        record.revoked_at = record.revoked_at or clock.now()
        session.add(record)
        audit.record(session, audit_actor(by), "token.revoked", at=clock.now(), object_type="api_token",
                     object_id=record.id)
    forget_cached_tokens()
    return record


_MAX_CACHED_TOKENS = 10_000
_token_actors: dict[str, tuple[float, datetime, Actor]] = {}


def actor_from_token(db: Database, clock: Clock, token: str, source: str | None, *,
                     cache_seconds: float) -> Actor | None:
    """The actor a bearer token stands for, or None.

    This process trusts a look-up for `cache_seconds`: revoking a token or disabling a user takes
    effect at once in the process that does it, and within that time in any other instance
    (0 looks every token up on every request).
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    key, now = digest(token), clock.now()
    cached = _token_actors.get(key)
    if cached is not None and time.monotonic() < cached[0] and now < cached[1]:
        return replace(cached[2], source=source)
    rows = db.read(_TOKEN_ACTOR, {"token_hash": key}, scope=EVERY_ORGANISATION)
    if not rows:
        return None
    user = rows[0]
    if user.revoked_at is not None or user.expires_at <= now or user.disabled_at is not None:
        return None
    actor = _actor_of(rows, via="token", source=source)
    if cache_seconds > 0:
        if len(_token_actors) >= _MAX_CACHED_TOKENS:
            _token_actors.clear()
        _token_actors[key] = (time.monotonic() + cache_seconds, user.expires_at, actor)
    return actor


def forget_cached_tokens() -> None:
    """After a change to accounts, tokens, roles or seats: this process looks every token up again."""
    _token_actors.clear()


def tokens_of(db: Database, by: Actor, email: str | None = None) -> list[ApiToken]:
    """The API tokens of the user with this e-mail address, or (email None) of `by`."""
    with db.reading(by) as session:
        user = _token_holder(session, by, email, Action.LIST_TOKENS)
        return list(session.exec(select(ApiToken).where(ApiToken.user_id == user.id).order_by(col(ApiToken.id))).all())


def users(db: Database, by: Actor) -> Iterable[UserAccount]:
    authorize(by, Action.MANAGE_USERS)
    with db.reading(by) as session:
        return list(session.exec(select(UserAccount).order_by(col(UserAccount.id))).all())


def me(actor: Actor) -> Actor:
    """Who is signed in (401 for the public)."""
    authorize(actor, Action.READ_OWN_ACCOUNT)
    return actor
