"""E-mail without a server: the retry backoff, the message composed for the wire, and the SMTP
settings read from the environment (tests/acceptance/test_email.py: through a real SMTP server)."""

from __future__ import annotations

import email
from datetime import datetime, timedelta
from email import policy

import pytest
from pydantic import ValidationError

from notifications.mailer import SmtpMailer, compose, message_id
from notifications.outbox import backoff
from shingi import bootstrap
from shingi.config import Settings
from tests.helpers.mail import SENDER


def test_backoff_doubles_and_is_capped_at_six_hours() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(9) == timedelta(minutes=256) and backoff(10) == timedelta(hours=6) == backoff(1000)
    with pytest.raises(ValueError):
        backoff(0)


def test_compose() -> None:
    sent_at = datetime(2023, 12, 14, 0, 0).astimezone()
    message = compose(sender=SENDER, to="member@example.jp", to_name="井上 真由美", subject="【会議開催のお知らせ】" * 8,
                      text="本文", html="<p>本文</p>", dedupe_key="reminder:7:email", sent_at=sent_at)
    wire = message.as_bytes()
    assert wire.isascii() and b"\r\n" in wire
    assert all(len(line) <= 78 for line in wire.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))  # headers are folded
    parsed = email.message_from_bytes(wire, policy=policy.default)
    assert parsed["Subject"] == "【会議開催のお知らせ】" * 8
    assert str(parsed["To"]) == "井上 真由美 <member@example.jp>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert message_id("reminder:7:email", SENDER) == parsed["Message-ID"] != message_id("reminder:8:email", SENDER)
    assert message_id("k", "shingi@localhost").endswith("@localhost>")
    with pytest.raises(ValueError):
        compose(sender=SENDER, to="not an address", subject="s", text="t", html=None, dedupe_key="k", sent_at=sent_at)
    with pytest.raises(ValueError, match="SMTPUTF8"):
        compose(sender=SENDER, to="委員@example.jp", subject="s", text="t", html=None, dedupe_key="k", sent_at=sent_at)


def _smtp_from(monkeypatch: pytest.MonkeyPatch, **environment: str) -> SmtpMailer | None:
    """The mailer the composition root builds from these SHINGI_… variables (and no others)."""
    for name in ("HOST", "PORT", "USER", "PASSWORD", "STARTTLS"):
        monkeypatch.delenv(f"SHINGI_SMTP_{name}", raising=False)
    monkeypatch.delenv("SHINGI_MAIL_FROM", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(f"SHINGI_{name}", value)
    mailer = bootstrap.mailer(Settings())
    assert mailer is None or isinstance(mailer, SmtpMailer)
    return mailer


def test_smtp_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _smtp_from(monkeypatch) is None  # no host: e-mail waits in the outbox
    mailer = _smtp_from(monkeypatch, SMTP_HOST="smtp.pref.example.jp", SMTP_USER="shingi", SMTP_PASSWORD="s3cret",
                        SMTP_STARTTLS="true", MAIL_FROM=SENDER)
    assert mailer is not None
    settings = mailer.settings
    assert (settings.host, settings.port, settings.user, settings.starttls, settings.mail_from) == (
        "smtp.pref.example.jp", 587, "shingi", True, SENDER)
    assert "s3cret" not in repr(settings) and "s3cret" not in repr(Settings())
    plain = _smtp_from(monkeypatch, SMTP_HOST="relay", SMTP_PORT="2525", SMTP_STARTTLS="no")
    assert plain is not None and plain.settings.port == 2525
    with pytest.raises(ValidationError, match="smtp_starttls"):
        _smtp_from(monkeypatch, SMTP_HOST="relay", SMTP_STARTTLS="maybe")
    with pytest.raises(ValidationError, match="smtp_port"):
        _smtp_from(monkeypatch, SMTP_HOST="relay", SMTP_PORT="smtp")
    with pytest.raises(ValueError, match="ASCII"):  # smtplib logs in with ASCII only: say so at start-up
        _smtp_from(monkeypatch, SMTP_HOST="relay", SMTP_USER="shingi", SMTP_PASSWORD="秘密")
