"""The e-mail outbox on the test database, with mailers standing in for the SMTP server: a lease that
runs out hands the rest back, a late outcome does not overwrite the sender that took over, an unexpected
fault is retried (tests/acceptance/test_email.py: through a real SMTP server)."""

from __future__ import annotations

from email.message import EmailMessage

from notifications.mailer import TransportError
from notifications.outbox import DeliveryReport, deliver_emails
from tests.helpers.mail import SENDER, add_notice, notice


def test_notices_left_when_the_lease_runs_out_are_handed_back(db, clock, person) -> None:
    address = person("member").email
    ids = [add_notice(db, clock, address, key=f"k:slow:{n}") for n in range(3)]
    sent: list[str] = []

    class SlowMailer:
        sender = SENDER

        def send(self, message: EmailMessage) -> None:
            sent.append(message["Message-ID"])
            clock.advance(seconds=40)

    report = deliver_emails(db, SlowMailer(), clock, lease_seconds=60)
    assert report == DeliveryReport(sent=2)  # the third would start after the lease ran out
    last = notice(db, ids[2])
    assert (last.status, last.attempts, last.claimed_until) == ("pending", 0, None)
    assert deliver_emails(db, SlowMailer(), clock) == DeliveryReport(sent=1)
    assert len(set(sent)) == 3


def test_a_late_outcome_does_not_overwrite_the_sender_that_took_over(db, clock, person) -> None:
    notice_id = add_notice(db, clock, person("member").email, key="k:overrun")
    takeover: list[DeliveryReport] = []

    class Accepting:
        sender = SENDER

        def send(self, message: EmailMessage) -> None:
            pass

    class Stalling:
        sender = SENDER

        def send(self, message: EmailMessage) -> None:
            clock.advance(seconds=120)  # this sender stalls past its lease …
            takeover.append(deliver_emails(db, Accepting(), clock))  # … another takes the notice over
            raise TransportError(True, "421 too late")

    assert deliver_emails(db, Stalling(), clock, lease_seconds=60) == DeliveryReport()
    assert takeover == [DeliveryReport(sent=1)]
    row = notice(db, notice_id)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)


def test_an_unexpected_mailer_fault_is_retried_and_the_batch_goes_on(db, clock, person) -> None:
    first = add_notice(db, clock, person("member").email, key="k:bug:1")
    second = add_notice(db, clock, person("chair").email, key="k:bug:2")

    class Flaky:
        sender = SENDER
        calls = 0

        def send(self, message: EmailMessage) -> None:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("boom")

    assert deliver_emails(db, Flaky(), clock) == DeliveryReport(sent=1, retried=1)
    assert "RuntimeError: boom" in notice(db, first).error and notice(db, second).status == "sent"
