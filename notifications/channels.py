"""The channels a notice goes out by, behind one interface: the in-app inbox and e-mail.

A notice row is written for each channel a rule names. The inbox delivers on writing (the row is
the inbox); e-mail waits in the outbox until a sender takes it out and hands it to its channel,
which either accepts it or raises TransportError saying whether a retry could help.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from notifications.mailer import Mailer, TransportError, compose

log = logging.getLogger("shingi.channels")


@dataclass(frozen=True)
class Outgoing:
    """One notice on its way to one person."""

    notice_id: int
    dedupe_key: str
    subject: str
    text: str
    html: str | None
    email: str
    display_name: str


class Channel(Protocol):
    """A way of reaching a person."""

    #: The notice rows' `channel` value.
    name: str
    #: True when writing the notice row is its delivery (nothing is left to send).
    delivers_on_write: bool

    def send(self, notice: Outgoing, sent_at: datetime) -> None:
        """Deliver one notice, or raise TransportError (`retryable` says whether trying later helps)."""
        ...


class InboxChannel:
    """The in-app inbox (お知らせ): the notice row itself is what the person reads."""

    name = "inbox"
    delivers_on_write = True

    def send(self, notice: Outgoing, sent_at: datetime) -> None:
        """Nothing to do: the row was delivered when it was written."""


class EmailChannel:
    """E-mail through a Mailer (SMTP); the Message-ID comes from the notice's dedupe key, so that a
    copy sent again after a crash is recognisable."""

    name = "email"
    delivers_on_write = False

    def __init__(self, mailer: Mailer):
        self.mailer = mailer

    def send(self, notice: Outgoing, sent_at: datetime) -> None:
        try:
            message = compose(sender=self.mailer.sender, to=notice.email, to_name=notice.display_name,
                              subject=notice.subject, text=notice.text, html=notice.html,
                              dedupe_key=notice.dedupe_key, sent_at=sent_at)
        except ValueError as error:  # no message can carry this address: retrying cannot help
            raise TransportError(False, str(error)) from error
        try:
            self.mailer.send(message)
        except TransportError:
            raise
        except Exception as error:  # a fault in the channel itself: keep the other notices going, retry later
            log.exception("notice %s: the mailer failed unexpectedly", notice.notice_id)
            raise TransportError(True, f"{type(error).__name__}: {error}") from error


#: The channels a rule may name, by the name its notice rows carry.
DELIVERED_ON_WRITE = frozenset({InboxChannel.name})
NAMES = (InboxChannel.name, EmailChannel.name)
