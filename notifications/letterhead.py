"""The letterhead of the generated documents: the organisation they come from and the head its councils
reply to (the register, the papers and the notices' senders read it), from the organisation's row; and
the organisation's own templates, looked for before the install's (SHINGI_TEMPLATES_DIR/<code>/…)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from workflow.organisations import DEFAULT_ORGANISATION, Organisation


@dataclass(frozen=True)
class Letterhead:
    """Who the documents come from and whom the replies go to."""

    organisation: str = "当市"
    organisation_head: str = "市長"
    #: The organisation's code: its own templates are in the folder of that name.
    code: str = "default"

    def templates(self, name: str) -> list[str]:
        """Where a template is looked for, first found first: the organisation's folder of the secretariat's
        templates, then the install's (the secretariat's, then the shipped ones)."""
        return [f"{self.code}/{name}", name]


def letterhead_of(session: Session, organisation_id: int | None) -> Letterhead:
    """The letterhead of an organisation (None: the install's first, for the service's own papers)."""
    organisation = session.get(Organisation, organisation_id or DEFAULT_ORGANISATION)
    if organisation is None:
        return Letterhead()
    return Letterhead(organisation.name, organisation.head_title, organisation.code)
