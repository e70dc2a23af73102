"""E-mail delivery through a real SMTP server (aiosmtpd on 127.0.0.1, started by each test), on the
test database (SQLite, or PostgreSQL with SHINGI_TEST_DATABASE_URL).

What is shown: the message that arrives has a decodable Japanese subject, a UTF-8 body with the
meeting's 和暦 date, time, venue and agenda, and the headers From/To/Date/Message-ID; a refused
recipient fails the notice for good and the secretariat sees why; a server that is down is retried
with a growing backoff and the notice goes out once the server is up; two senders running at once
never send one notice twice; a re-send after a crash carries the same Message-ID; the adapter tells a
retry that can help from one that cannot, and logs in when configured.

Without a server: tests/integration/test_email.py (the outbox's leases), tests/unit/test_email.py.
"""

from __future__ import annotations

import email
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import select

from notifications.mailer import SmtpMailer, SmtpSettings, TransportError, compose, message_id
from notifications.models import Notice
from notifications.outbox import (
    MAX_ATTEMPTS,
    DeliveryReport,
    deliver_emails,
    failed_notices,
)
from tests.helpers.mail import SENDER, add_notice, notice
from tests.helpers.net import free_port
from tests.helpers.people import SYSTEM
from workflow import accounts
from workflow.organisations import EVERY_ORGANISATION

# --- a real SMTP server ---------------------------------------------------------------------------

@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives and answers as told."""

    received: list[Received] = field(default_factory=list)
    #: Recipient → the reply to RCPT TO (e.g. "550 5.1.1 …"); others are accepted.
    refuse: dict[str, str] = field(default_factory=dict)
    #: A reply to DATA instead of accepting the message.
    data_reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    recorder: Recorder
    controller: Controller | None = None

    def start(self, **smtp_options) -> SmtpServer:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **smtp_options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    def mailer(self, **overrides) -> SmtpMailer:
        return SmtpMailer(SmtpSettings(host="127.0.0.1", port=self.port, mail_from=SENDER, timeout=5, **overrides))


@pytest.fixture
def smtp() -> Iterator[Callable[..., SmtpServer]]:
    """smtp(start=True, **options) → an SMTP server on a free port of 127.0.0.1 (stopped at the end)."""
    servers: list[SmtpServer] = []

    def make(*, start: bool = True, **smtp_options) -> SmtpServer:
        server = SmtpServer(free_port(), Recorder())
        servers.append(server)
        return server.start(**smtp_options) if start else server

    yield make
    for server in servers:
        server.stop()


# --- the message that arrives ----------------------------------------------------------------------

def test_the_message_arrives_in_japanese_with_its_headers(db, clock, person, smtp) -> None:
    member = person("member")
    server = smtp()
    notice_id = add_notice(db, clock, member.email, key="reminder:1:2023-12-21T01:00:00+00:00:email")

    report = deliver_emails(db, server.mailer(), clock)

    assert report == DeliveryReport(sent=1, retried=0, failed=0)
    [received] = server.received
    assert received.rcpt_tos == [member.email]
    assert received.mail_from == "shingi@pref.fukuoka.example.jp"
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii() and b"=?utf-8?" in raw_headers  # encoded words on the wire
    message = received.message
    assert message["Subject"] == ("【会議開催のお知らせ】第16期第3回 第二部会（住基・番号利用法部会）"
                                  "（令和5年12月21日（木）午前10時）")
    assert message["From"].addresses[0].display_name == "福岡県個人情報保護審議会事務局"
    assert message["From"].addresses[0].addr_spec == "shingi@pref.fukuoka.example.jp"
    assert message["To"].addresses[0].addr_spec == member.email
    assert message["To"].addresses[0].display_name == "member テスト"
    assert parsedate_to_datetime(message["Date"]) == clock.now()
    assert message["Message-ID"] == message_id("reminder:1:2023-12-21T01:00:00+00:00:email", SENDER)
    assert message["Message-ID"].endswith("@pref.fukuoka.example.jp>")
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()
    assert text_part.get_content_type() == "text/plain" and text_part.get_content_charset() == "utf-8"
    assert html_part.get_content_type() == "text/html" and html_part.get_content_charset() == "utf-8"
    text = text_part.get_content()
    assert "1　日時　令和5年12月21日（木）午前10時から" in text
    assert "2　場所　県庁行政棟10階 特9会議室" in text
    assert "住民基本台帳ネットワークに関する事務を対象とする特定個人情報保護評価に係る答申案の検討について" in text
    assert "御出席くださいますようお願いいたします。" in text
    assert "<li>福岡県住民基本台帳法施行条例の一部改正について（諮問）</li>" in html_part.get_content()

    row = notice(db, notice_id)
    assert (row.status, row.attempts, row.sent_at, row.claimed_until, row.error) == ("sent", 1, clock.now(), None, None)
    assert deliver_emails(db, server.mailer(), clock) == DeliveryReport()  # sent once only


def test_english_notices_and_inbox_notices(db, clock, person, smtp) -> None:
    member = person("member")
    server = smtp()
    add_notice(db, clock, member.email, key="k:en", kind="meeting_cancelled", language="en")
    add_notice(db, clock, member.email, key="k:inbox", channel="inbox")  # not the e-mail sender's
    add_notice(db, clock, member.email, key="k:later", next_attempt_at=clock.now() + timedelta(minutes=5))

    assert deliver_emails(db, server.mailer(), clock).sent == 1
    [received] = server.received
    assert received.message["Subject"] == "Cancelled: 第二部会（住基・番号利用法部会）, meeting no. 3 (第16期) on Thu 21 Dec 2023, 10:00"
    assert "has been cancelled" in received.message.get_body(("plain",)).get_content()


def test_a_pending_notice_with_no_retry_time_is_due_now(db, clock, person, smtp) -> None:
    server = smtp()
    notice_id = add_notice(db, clock, person("chair").email, key="k:null", next_attempt_at=None)
    assert deliver_emails(db, server.mailer(), clock).sent == 1
    assert notice(db, notice_id).status == "sent"


# --- refused, down, busy ---------------------------------------------------------------------------

def test_a_refused_recipient_fails_for_good_and_the_secretariat_sees_why(db, clock, person, smtp) -> None:
    member = person("member")
    server = smtp()
    server.recorder.refuse[member.email] = f"550 5.1.1 <{member.email}>: Recipient address rejected: User unknown"
    notice_id = add_notice(db, clock, member.email, key="k:550")

    assert deliver_emails(db, server.mailer(), clock) == DeliveryReport(sent=0, retried=0, failed=1)

    row = notice(db, notice_id)
    assert (row.status, row.attempts, row.claimed_until, row.sent_at) == ("failed", 1, None, None)
    assert "550 5.1.1" in row.error and "User unknown" in row.error
    [failed] = failed_notices(db)
    assert (failed.id, failed.email, failed.display_name, failed.attempts) == (notice_id, member.email, "member テスト", 1)
    assert failed.error == row.error and failed.subject.startswith("【会議開催のお知らせ】")
    clock.advance(hours=12)
    assert deliver_emails(db, server.mailer(), clock) == DeliveryReport()  # never tried again
    assert server.received == []


def test_a_server_that_is_down_is_retried_with_backoff_until_it_is_up(db, clock, person, smtp) -> None:
    member = person("member")
    server = smtp(start=False)  # nothing listens on its port yet
    mailer = server.mailer()
    notice_id = add_notice(db, clock, member.email, key="k:down")

    assert deliver_emails(db, mailer, clock) == DeliveryReport(retried=1)
    first = notice(db, notice_id)
    assert (first.status, first.attempts, first.claimed_until) == ("pending", 1, None)
    assert first.next_attempt_at == clock.now() + timedelta(minutes=1)
    assert "cannot reach 127.0.0.1" in first.error

    assert deliver_emails(db, mailer, clock) == DeliveryReport()  # not due yet
    clock.advance(minutes=1)
    assert deliver_emails(db, mailer, clock) == DeliveryReport(retried=1)
    second = notice(db, notice_id)
    assert second.attempts == 2 and second.next_attempt_at == clock.now() + timedelta(minutes=2)

    server.start()
    clock.advance(minutes=1)
    assert deliver_emails(db, mailer, clock) == DeliveryReport()  # still waiting out its backoff
    clock.advance(minutes=1)
    assert deliver_emails(db, mailer, clock) == DeliveryReport(sent=1)
    row = notice(db, notice_id)
    assert (row.status, row.attempts, row.sent_at, row.error) == ("sent", 3, clock.now(), None)
    assert len(server.received) == 1


def test_a_busy_server_4xx_is_retried_and_a_rejected_message_5xx_is_not(db, clock, person, smtp) -> None:
    member, chair = person("member"), person("chair")
    server = smtp()
    server.recorder.refuse[member.email] = "451 4.7.1 Greylisted, please try again later"
    busy = add_notice(db, clock, member.email, key="k:451")

    assert deliver_emails(db, server.mailer(), clock) == DeliveryReport(retried=1)
    assert notice(db, busy).status == "pending" and "451 4.7.1" in notice(db, busy).error

    server.recorder.data_reply = "554 5.6.0 Message content rejected"
    rejected = add_notice(db, clock, chair.email, key="k:554")
    clock.advance(minutes=1)
    assert deliver_emails(db, server.mailer(), clock) == DeliveryReport(retried=1, failed=1)
    assert notice(db, rejected).status == "failed" and "554 5.6.0" in notice(db, rejected).error


def test_after_eight_attempts_the_notice_fails(db, clock, person, smtp) -> None:
    server = smtp(start=False)
    notice_id = add_notice(db, clock, person("member").email, key="k:gives-up")
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_emails(db, server.mailer(), clock)
        row = notice(db, notice_id)
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert report == DeliveryReport(retried=1)
            waits.append(row.next_attempt_at - clock.now())
            clock.set(row.next_attempt_at)
        else:
            assert report == DeliveryReport(failed=1)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 64)]
    assert row.status == "failed" and f"gave up after {MAX_ATTEMPTS} attempts" in row.error


def test_a_disabled_user_gets_no_mail(db, clock, person, smtp) -> None:
    member = person("member")
    server = smtp()
    notice_id = add_notice(db, clock, member.email, key="k:disabled")
    accounts.disable_user(db, clock, member.email, SYSTEM)

    assert deliver_emails(db, server.mailer(), clock) == DeliveryReport(failed=1)
    row = notice(db, notice_id)
    assert row.status == "failed" and "無効化" in row.error and member.email in row.error
    assert server.received == []
    assert [failed.id for failed in failed_notices(db)] == [notice_id]


# --- claims and leases --------------------------------------------------------------------------------

def test_two_senders_at_once_never_send_one_notice_twice(db, clock, person, smtp) -> None:
    server = smtp()
    addresses = [person(role).email for role in ("member", "chair", "secretariat", "office")]
    ids = [add_notice(db, clock, addresses[n % 4], key=f"k:race:{n}") for n in range(40)]
    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []
    errors: list[BaseException] = []

    def sender() -> None:
        mailer = server.mailer()
        try:
            start.wait()
            while True:  # small batches, so that the two claim again and again side by side
                report = deliver_emails(db, mailer, clock, limit=3)
                reports.append(report)
                if report == DeliveryReport():
                    break
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and not any(thread.is_alive() for thread in threads)

    message_ids = [received.message["Message-ID"] for received in server.received]
    assert len(message_ids) == 40 and len(set(message_ids)) == 40
    assert sum(report.sent for report in reports) == 40
    with db.reading(EVERY_ORGANISATION) as session:
        rows = session.exec(select(Notice).where(Notice.id.in_(ids))).all()
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


def test_a_leased_notice_waits_and_a_resend_after_a_crash_keeps_its_message_id(db, clock, person, smtp) -> None:
    server = smtp()
    mailer = server.mailer()
    notice_id = add_notice(db, clock, person("member").email, key="k:crash")

    class Crash(BaseException):
        pass

    class CrashingAfterSending:
        sender = mailer.sender

        def send(self, message: EmailMessage) -> None:
            mailer.send(message)
            raise Crash()  # the process dies before the outcome is recorded

    with pytest.raises(Crash):
        deliver_emails(db, CrashingAfterSending(), clock, lease_seconds=60)
    row = notice(db, notice_id)
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 1, clock.now() + timedelta(seconds=60))

    clock.advance(seconds=59)
    assert deliver_emails(db, mailer, clock) == DeliveryReport()  # still leased to the crashed sender
    clock.advance(seconds=1)
    assert deliver_emails(db, mailer, clock) == DeliveryReport(sent=1)
    first, second = server.received
    assert first.message["Message-ID"] == second.message["Message-ID"]
    assert notice(db, notice_id).attempts == 2


# --- the adapter on its own -----------------------------------------------------------------------

def test_the_adapter_says_whether_a_retry_can_help(smtp) -> None:
    message = compose(sender=SENDER, to="iinoue@example.jp", subject="件名", text="本文", html=None,
                      dedupe_key="k", sent_at=datetime(2023, 12, 14, 0, 0).astimezone())
    down = smtp(start=False)
    with pytest.raises(TransportError) as refused_connection:
        down.mailer().send(message)
    assert refused_connection.value.retryable

    server = smtp()
    server.recorder.refuse["iinoue@example.jp"] = "550 5.1.1 User unknown"
    with pytest.raises(TransportError) as unknown:
        server.mailer().send(message)
    assert not unknown.value.retryable and "550 5.1.1 User unknown" in unknown.value.reason

    server.recorder.refuse["iinoue@example.jp"] = "452 4.2.2 Mailbox full"
    with pytest.raises(TransportError) as full:
        server.mailer().send(message)
    assert full.value.retryable

    del server.recorder.refuse["iinoue@example.jp"]
    server.mailer().send(message)
    [received] = server.received
    assert received.message.get_content_type() == "text/plain"
    assert received.message.get_content() == "本文\r\n"  # text in its canonical form (RFC 2045), CRLF


def test_login_when_configured(smtp) -> None:
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(b"shingi", b"s3cret-pass")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself

    server = smtp(authenticator=authenticator, auth_require_tls=False)
    message = compose(sender=SENDER, to="chair@example.jp", subject="s", text="t", html="<p>t</p>",
                      dedupe_key="k", sent_at=datetime(2023, 12, 14, 9, 0).astimezone())
    server.mailer(user="shingi", password="s3cret-pass").send(message)
    assert len(server.received) == 1
    with pytest.raises(TransportError) as wrong:  # a configuration fault, fixed by the operator: retry
        server.mailer(user="shingi", password="wrong").send(message)
    assert wrong.value.retryable and "535" in wrong.value.reason
