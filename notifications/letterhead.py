"""The letterhead of the generated documents: the organisation they come from and the head its council
replies to (the register, the papers and the notices' senders read it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Letterhead:
    """Who the documents come from and whom the replies go to."""

    organisation: str = "当市"
    organisation_head: str = "市長"
