"""Generated papers: their text read back from .docx, and meetings written as rows for them."""

from __future__ import annotations

import io

from docx import Document as WordDocument

from workflow import accounts
from workflow.organisations import EVERY_ORGANISATION
from workflow.records import AgendaItem, Attendance, Meeting

#: Chiba's 部会の意見 (seed 002): what the subcommittee added to its opinion.
NAOGAKI = ("中間サーバーソフトウェアのアクセスログを監視する仕組みについては、国の回答を踏まえ、"
           "千葉市において適切な監視がなされるよう引き続き検討されたい。")


def docx_text(content: bytes) -> str:
    word = WordDocument(io.BytesIO(content))
    parts = [paragraph.text for paragraph in word.paragraphs]
    for table in word.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def add_meeting(db, body_name, number, starts, ends, venue, items, present=(), term=""):
    with db.writing(EVERY_ORGANISATION) as session:
        body = accounts.body_by_name(session, body_name)
        meeting = Meeting(body_id=body.id, term=term, number=number, starts_at=starts, ends_at=ends, venue=venue,
                          created_at=starts, updated_at=starts)
        session.add(meeting)
        session.flush()
        for position, (case_id, purpose, title) in enumerate(items, start=1):
            session.add(AgendaItem(meeting_id=meeting.id, position=position, assessment_id=case_id, purpose=purpose,
                                   title=title))
        for name, role in present:
            session.add(Attendance(meeting_id=meeting.id, name=name, role=role))
    return meeting
