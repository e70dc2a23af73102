"""Documents (資料) of a case, as described to those who may know of them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import from_row
from workflow.models import Document


class DocumentOut(BaseModel):
    id: int
    assessment_id: int
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    classification: str
    uploaded_at: datetime
    purged_at: datetime | None
    purge_reason: str | None
    content_url: str | None = Field(description="where to download it; null once purged")


def document_out(document: Document) -> DocumentOut:
    return from_row(DocumentOut, document,
                    content_url=None if document.purged_at else f"/api/documents/{document.id}/content")
