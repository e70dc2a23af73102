"""Documents attached to a case (資料): upload with type and size checks, classified reads, purge.

Members-only material (委員限り) is readable by the reviewing body's members and the secretariat;
material marked delete-after-review is purged when the case leaves the review (the
`purge_review_material` effect), leaving a record that it existed and when it was purged, not what
it was called: its content, title and file name go. The audit trail, which can never be rewritten,
names confidential material by id and classification only (`audit_reference`).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from workflow import audit, cases
from workflow.accounts import audit_actor
from workflow.clock import Clock
from workflow.columns import load_row
from workflow.db import Database
from workflow.errors import DomainError, InvalidInput, Message, Record, RecordNotFound
from workflow.files import FileStore
from workflow.models import Assessment, Document
from workflow.organisations import EVERY_ORGANISATION
from workflow.policy import Action, Actor, Classification, authorize, visible_documents
from workflow.validation import has_control_characters

#: Accepted kinds: what the offices have (PDF, Word, Excel) and images such as Fukuoka's log image.
KINDS = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


#: What a purged document is called from then on (its title is gone with its content).
PURGED_TITLE = "（点検終了後に削除された資料）"


class DocumentGone(DomainError):
    """The document existed but its content was purged after the review."""

    code = "purged"

    def __init__(self, document: Document):
        self.document = document
        super().__init__(Message(
            f"この資料（文書番号 {document.id}）は点検終了後に削除されました（{document.purged_at:%Y-%m-%d}）。",
            f"Document {document.id} was deleted after the review ({document.purged_at:%Y-%m-%d}).",
        ))


def audit_reference(document: Document) -> dict[str, object]:
    """How the audit trail names a document: by id and classification, and by title only if public.

    An entry can never be rewritten, and the trail is read by the administrator, whom the policy
    does not let know confidential material; so a confidential title never enters it.
    """
    reference: dict[str, object] = {"document_id": document.id, "classification": document.classification}
    if Classification(document.classification) is Classification.PUBLIC:
        reference["title"] = document.title
    return reference


def _extension(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


def _content_matches(extension: str, content: bytes) -> bool:
    if extension == ".pdf":
        return content.startswith(b"%PDF-")
    if extension in (".doc", ".xls"):
        return content.startswith(_OLE2)
    if extension == ".png":
        return content.startswith(b"\x89PNG\r\n\x1a\n")
    if extension in (".jpg", ".jpeg"):
        return content.startswith(b"\xff\xd8\xff")
    if extension in (".docx", ".xlsx"):
        part = "word/document.xml" if extension == ".docx" else "xl/workbook.xml"
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                return part in archive.namelist()
        except zipfile.BadZipFile:
            return False
    return False


def _clean_filename(filename: str) -> str:
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "document"


@dataclass(frozen=True)
class Upload:
    title: str
    filename: str
    content: bytes
    classification: Classification


def check_upload(upload: Upload, max_bytes: int) -> str:
    """The content type of an acceptable upload; InvalidInput naming the rule otherwise."""
    for field, text in (("title", upload.title), ("file", upload.filename)):
        if has_control_characters(text):  # a filename too: it is stored (and PostgreSQL refuses NUL)
            raise InvalidInput.single(field, "no_control_characters", "制御文字は使用できません。",
                                      "Control characters are not allowed.")
    if not upload.content:
        raise InvalidInput.single("file", "not_empty", "ファイルが空です。", "The file is empty.")
    if len(upload.content) > max_bytes:
        limit = max_bytes // (1024 * 1024)
        raise InvalidInput.single("file", "max_size", f"ファイルが大きすぎます（上限 {limit} MB）。",
                                  f"The file is too large (limit {limit} MB).")
    extension = _extension(upload.filename)
    if extension not in KINDS:
        raise InvalidInput.single("file", "file_type", "PDF、Word、Excel、PNG、JPEG のファイルを登録してください。",
                                  "Upload a PDF, Word, Excel, PNG or JPEG file.")
    if not _content_matches(extension, upload.content):
        raise InvalidInput.single("file", "file_content", "ファイルの内容が拡張子と一致しません。",
                                  "The file's content does not match its extension.")
    return KINDS[extension]




def attach(db: Database, files: FileStore, clock: Clock, case_id: int, upload: Upload, actor: Actor,
           max_bytes: int) -> Document:
    with db.reading(actor) as session:
        authorize(actor, Action.UPLOAD_DOCUMENT, cases.load(session, case_id))
    content_type = check_upload(upload, max_bytes)
    key = files.put(upload.content)
    try:
        with db.writing(actor) as session:
            authorize(actor, Action.UPLOAD_DOCUMENT, cases.load(session, case_id))
            document = Document(
                assessment_id=case_id, title=upload.title, filename=_clean_filename(upload.filename),
                content_type=content_type, size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(), classification=upload.classification.value,
                storage_key=key, uploaded_by_id=actor.user_id, uploaded_at=clock.now(),
            )
            session.add(document)
            session.flush()
            audit.record(session, audit_actor(actor), "document.uploaded", at=clock.now(), object_type="document",
                         object_id=document.id, detail={"assessment_id": case_id, **audit_reference(document),
                                                        "sha256": document.sha256})
    except BaseException:
        files.purge(key)  # the row never existed: neither may its content
        raise
    return document


def documents_of(db: Database, case_id: int, actor: Actor) -> list[Document]:
    """The case's documents this actor may know of (KNOW_DOCUMENT); the others are not even counted."""
    with db.reading(actor) as session:
        case = cases.load(session, case_id)
        authorize(actor, Action.READ_CASE, case)
        return list(session.exec(select(Document).where(
            Document.assessment_id == case_id, visible_documents(actor, case)).order_by(col(Document.id))).all())


def _document(session: Session, document_id: int, actor: Actor) -> tuple[Assessment, Document]:
    """The document and its case; one the actor may not know of answers as a missing one (policy.hidden_error)."""
    document = load_row(session, Document, document_id, Record.DOCUMENT)
    case = session.get(Assessment, document.assessment_id)
    if case is None:  # a foreign key: there while the document is (and never named to the reader)
        raise RecordNotFound(Record.DOCUMENT, document_id)
    authorize(actor, Action.KNOW_DOCUMENT, (case, document))
    return case, document


def describe(db: Database, document_id: int, actor: Actor) -> Document:
    with db.reading(actor) as session:
        return _document(session, document_id, actor)[1]


def read(db: Database, files: FileStore, clock: Clock, document_id: int, actor: Actor) -> tuple[Document, bytes]:
    """The content; a read of confidential material is written to the audit trail first."""
    with db.writing(actor) as session:
        case, document = _document(session, document_id, actor)
        if document.purged_at is not None or document.storage_key is None:
            raise DocumentGone(document)
        authorize(actor, Action.READ_DOCUMENT, (case, document))
        if Classification(document.classification).confidential:
            audit.record(session, audit_actor(actor), "document.read", at=clock.now(), object_type="document",
                         object_id=document.id, detail={"assessment_id": case.id,
                                                        "classification": document.classification})
        key = document.storage_key
    return document, files.read(key)


def purge_review_material(session: Session, case: Assessment, actor: audit.AuditActor, now: datetime,
                          reason: str) -> list[str]:
    """Mark the case's delete-after-review documents purged; return their keys to remove after commit.

    What remains is that the material existed: its id, case, meeting and label (資料N), size, hash
    and classification, and when and why it was purged; its title and file name go with its content.
    """
    pending = session.exec(select(Document).where(
        Document.assessment_id == case.id,
        Document.classification == Classification.MEMBERS_ONLY_DELETE_AFTER_REVIEW.value,
        col(Document.purged_at).is_(None),
    )).all()
    keys = []
    for document in pending:
        keys.append(document.storage_key)
        document.storage_key, document.purged_at, document.purge_reason = None, now, reason[:200]
        document.title, document.filename = PURGED_TITLE, f"document-{document.id}{_extension(document.filename)}"
        session.add(document)
        audit.record(session, actor, "document.purged", at=now, object_type="document", object_id=document.id,
                     detail={"assessment_id": case.id, **audit_reference(document), "sha256": document.sha256,
                             "reason": reason})
    return [key for key in keys if key]


def live_keys(db: Database) -> set[str]:
    with db.reading(EVERY_ORGANISATION) as session:
        keys = session.exec(select(Document.storage_key).where(col(Document.storage_key).is_not(None))).all()
        return {key for key in keys if key is not None}  # (the query asks for keys that are there)


def material_order(label: str | None) -> tuple[bool, tuple[int, ...], str]:
    """The order of a meeting's materials: 資料1 < 資料2 < 資料3-1 < 資料10 < 参考資料1."""
    label = label or ""
    return label.startswith("参考"), tuple(int(n) for n in re.findall(r"\d+", label)), label
