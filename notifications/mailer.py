"""The e-mail channel: composing a notice as a MIME message and handing it to an SMTP server.

Behind the e-mail channel (notifications.channels): `SmtpMailer.send` either delivers a message to the server or
raises `TransportError`, which says whether trying again later can help (a refused connection, a
timeout, a 4xx reply) or not (a 5xx reply such as an unknown recipient).

Messages are UTF-8, multipart/alternative (text, then HTML), with the headers encoded as RFC 5322
wants (`policy.SMTP`: encoded words for a Japanese subject or name, CRLF line ends). The Message-ID
is derived from the notice's dedupe key, so a message sent again after a crash (sent, but not yet
recorded as sent) carries the same Message-ID and mail clients and servers can recognise it.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Protocol


class TransportError(Exception):
    """A message was not delivered. `retryable`: trying again later can help (the server is down or
    busy, a 4xx reply); otherwise it cannot (a 5xx reply: the recipient or the message is refused)."""

    def __init__(self, retryable: bool, reason: str):
        super().__init__(reason)
        self.retryable = retryable
        self.reason = reason

    def __repr__(self) -> str:
        return f"TransportError(retryable={self.retryable!r}, reason={self.reason!r})"


class Mailer(Protocol):
    """A channel that sends e-mail. `sender` is the From address (it may carry a display name);
    `send` delivers one composed message to all its recipients or raises TransportError."""

    @property
    def sender(self) -> str: ...

    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpSettings:
    """Where the mail goes: an SMTP server (a relay of the organisation, usually).

    Built by the composition root (shingi.bootstrap.mailer) from the settings SHINGI_SMTP_HOST,
    SHINGI_SMTP_PORT, SHINGI_SMTP_USER, SHINGI_SMTP_PASSWORD, SHINGI_SMTP_STARTTLS (true/false) and
    SHINGI_MAIL_FROM (an address, with an optional name: `福岡県個人情報保護審議会事務局 <shingi@pref.example.jp>`).
    """

    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    mail_from: str = "shingi@localhost"
    #: Seconds to wait for the server (connect and each reply); keep it well below the delivery lease.
    timeout: float = 20.0

    def __post_init__(self) -> None:
        for name in ("user", "password"):
            value = getattr(self, name)
            if value is not None and not value.isascii():
                # smtplib sends AUTH credentials as ASCII: better refused at start-up than at every send.
                raise ValueError(f"SHINGI_SMTP_{name.upper()} must be ASCII")


# --- composing --------------------------------------------------------------------------------------

def message_id(dedupe_key: str, sender: str) -> str:
    """<notice-…@domain>: the same for every attempt at one notice; the domain is the sender's."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "shingi.invalid"
    return f"<notice-{digest}@{domain}>"


def compose(*, sender: str, to: str, subject: str, text: str, html: str | None, dedupe_key: str,
            sent_at: datetime, to_name: str | None = None) -> EmailMessage:
    """A notice as an e-mail: UTF-8, multipart/alternative when there is HTML.

    Raises ValueError when an address cannot be written in a message (e.g. a malformed address).
    """
    if not to.isascii():
        raise ValueError(f"cannot address {to!r}: an address beyond ASCII needs SMTPUTF8, which is not used")
    message = EmailMessage(policy=policy.SMTP)
    try:
        message["From"] = sender
        message["To"] = Address(display_name=to_name or "", addr_spec=to)
    except (ValueError, IndexError) as error:  # headerregistry raises either for a bad address
        raise ValueError(f"cannot address the message: {error}") from error
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = message_id(dedupe_key, sender)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: automatic replies should not answer it
    # base64 keeps Japanese text intact through relays that do not speak 8BITMIME.
    message.set_content(text, charset="utf-8", cte="base64")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return message


# --- sending ----------------------------------------------------------------------------------------

class SmtpMailer:
    """Sends each message over its own SMTP connection (STARTTLS and login when configured).

    Thread-safe: nothing is shared between calls. Raises TransportError as described above.
    """

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    @property
    def sender(self) -> str:
        return self.settings.mail_from

    def send(self, message: EmailMessage) -> None:
        settings = self.settings
        smtp: smtplib.SMTP | None = None
        try:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                smtp.login(settings.user, settings.password or "")
            refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise _refused(error.recipients) from error
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError, smtplib.SMTPAuthenticationError) as error:
            # The server or our configuration, not this message: fixed there, so worth trying again.
            raise TransportError(True, f"SMTP {error.smtp_code} {_text(error.smtp_error)}".strip()) from error
        except smtplib.SMTPResponseException as error:  # MAIL FROM or DATA answered with an error
            raise _reply(error.smtp_code, error.smtp_error) from error
        except smtplib.SMTPServerDisconnected as error:
            raise TransportError(True, f"the SMTP server closed the connection: {error}") from error
        except smtplib.SMTPNotSupportedError as error:  # STARTTLS or AUTH not offered: configuration
            raise TransportError(True, f"SMTP server does not support what is configured: {error}") from error
        except smtplib.SMTPException as error:  # e.g. no authentication method in common
            raise TransportError(True, f"SMTP: {error}") from error
        except TimeoutError as error:
            raise TransportError(True, f"timed out talking to {settings.host}:{settings.port}") from error
        except ssl.SSLError as error:
            raise TransportError(True, f"TLS with {settings.host}:{settings.port} failed: {error}") from error
        except OSError as error:  # refused, unreachable, unknown host …
            raise TransportError(True, f"cannot reach {settings.host}:{settings.port}: {error}") from error
        finally:
            if smtp is not None:
                _hang_up(smtp)
        if refused:  # some recipients refused, others accepted
            raise _refused(refused)


def _hang_up(smtp: smtplib.SMTP) -> None:
    # Once the message is accepted, a failed QUIT must not turn into an error (and a second copy).
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _reply(code: int, reply: bytes | str) -> TransportError:
    # 4xx: transient (the server is busy, greylisting, a mailbox full for now); 5xx: permanent.
    return TransportError(not 500 <= code < 600, f"SMTP {code} {_text(reply)}".strip())


def _refused(recipients: Mapping[str, tuple[int, bytes | str]]) -> TransportError:
    reasons = [f"{address}: SMTP {code} {_text(reply)}" for address, (code, reply) in recipients.items()]
    retryable = all(400 <= code < 500 for code, _ in recipients.values())
    return TransportError(retryable, "recipient refused — " + "; ".join(reasons))
