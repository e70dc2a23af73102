"""Documents over HTTP: type and size checks, classified reads, and the purge of delete-after-review material."""

import io
import zipfile

import pytest
from sqlalchemy import text

from tests.helpers.core import with_web_options
from tests.helpers.database import sqlite_file_bytes
from tests.helpers.documents import PDF, SECRET
from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import audit
from workflow.documents import PURGED_TITLE
from workflow.organisations import EVERY_ORGANISATION

#: A confidential title as the secretariat writes it: it must not outlive the purge anywhere readable.
PURGED_TITLE_BEFORE = "資料2 住民基本台帳システムのアクセスログのイメージ"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(client, case_id, filename, content, classification="public", title="資料1"):
    return client.post(f"/api/assessments/{case_id}/documents", data={"title": title, "classification": classification},
                       files={"file": (filename, content, "application/octet-stream")})


@pytest.mark.parametrize(("filename", "content"), [
    ("hyoukasho.pdf", PDF), ("修正箇所.docx", None), ("log.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 20),
    ("keiyaku.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 20),
])
def test_accepted_kinds(client, make_case, filename, content):
    case = make_case("subcommittee_review")
    response = upload(client, case.id, filename, content or docx_bytes())
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == filename


@pytest.mark.parametrize(("filename", "content", "rule"), [
    ("virus.exe", b"MZ\x90\x00", "file_type"),
    ("fake.pdf", b"MZ\x90\x00 not a pdf", "file_content"),
    ("fake.docx", b"PK\x03\x04 broken zip", "file_content"),
    ("empty.pdf", b"", "not_empty"),
    ("big.pdf", b"%PDF-" + b"x" * 2_000_000, "max_size"),
])
def test_refused_uploads_name_the_rule_and_store_nothing(client, make_case, files, filename, content, rule, app):
    with_web_options(app, max_upload_bytes=1_000_000)
    case = make_case("subcommittee_review")
    response = upload(client, case.id, filename, content)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0] == {**response.json()["error"]["fields"][0], "field": "file",
                                                     "rule": rule}
    assert list(files.keys()) == []
    assert client.get(f"/api/assessments/{case.id}/documents").json() == []


def test_bad_classification_is_422(client, make_case):
    response = upload(client, make_case().id, "a.pdf", PDF, classification="top_secret")
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "classification"


def test_content_round_trips_with_a_safe_download(client, make_case):
    case = make_case("subcommittee_review")
    document = upload(client, case.id, "評価書（案）.pdf", PDF).json()
    response = client.get(document["content_url"])
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_reading_members_only_material_is_audited(public, person, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    secretariat, member = person("secretariat"), person("member")
    document = public.post(f"/api/assessments/{case.id}/documents", headers=secretariat.headers,
                           data={"title": "資料2", "classification": "members_only"},
                           files={"file": ("log.pdf", SECRET, "application/pdf")}).json()
    assert public.get(document["content_url"], headers=member.headers).content == SECRET
    trail = public.get("/api/audit", headers=secretariat.headers, params={"limit": 1000}).json()
    reads = [entry for entry in trail if entry["action"] == "document.read"]
    assert len(reads) == 1 and reads[0]["actor"] == member.email and reads[0]["object_id"] == str(document["id"])


def test_delete_after_review_is_purged_from_database_and_disk(public, person, make_case, fire, db, files, tmp_path,
                                                              workflows, clock, prepare_for):
    from workflow import service

    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    secretariat, member = person("secretariat"), person("member")
    document = public.post(f"/api/assessments/{case.id}/documents", headers=secretariat.headers,
                           data={"title": PURGED_TITLE_BEFORE, "classification": "members_only_delete_after_review"},
                           files={"file": ("アクセスログ抽出.pdf", SECRET, "application/pdf")}).json()
    kept = public.post(f"/api/assessments/{case.id}/documents", headers=secretariat.headers,
                       data={"title": "資料1 評価書", "classification": "members_only"},
                       files={"file": ("hyoukasho.pdf", PDF, "application/pdf")}).json()
    assert public.get(document["content_url"], headers=member.headers).status_code == 200

    # Going round the review (revision) keeps the material; reporting to the plenary ends the review.
    case = service.advance(db, workflows, clock, case.id, event="request_revision", expected_version=case.version,
                           inputs={}, actor=SYSTEM, files=files)
    assert public.get(document["content_url"], headers=member.headers).status_code == 200
    case = service.advance(db, workflows, clock, case.id, event="submit_revision", expected_version=case.version,
                           inputs={}, actor=SYSTEM, files=files)
    prepare_for(case, "report_to_plenary")
    response = public.post(f"/api/assessments/{case.id}/events", headers=secretariat.headers,
                           json={"event": "report_to_plenary", "expected_version": case.version,
                                 "reported_on": "2025-06-01"})
    assert response.status_code == 200, response.text

    for who in (secretariat, member):
        gone = public.get(f"/api/documents/{document['id']}/content", headers=who.headers)
        assert gone.status_code == 410 and gone.json()["error"]["code"] == "purged"
        assert PURGED_TITLE_BEFORE not in gone.text
    record = public.get(f"/api/documents/{document['id']}", headers=secretariat.headers).json()
    assert record["purged_at"] is not None and "点検終了" in record["purge_reason"]
    assert record["content_url"] is None
    # That it existed remains, not what it was called: the title and the file name go with the content.
    assert record["title"] == PURGED_TITLE and record["filename"] == f"document-{document['id']}.pdf"
    listed = public.get(f"/api/assessments/{case.id}/documents", headers=member.headers)
    trail = public.get("/api/audit", headers=secretariat.headers, params={"limit": 1000})
    for answer in (listed, trail):
        assert answer.status_code == 200
        assert PURGED_TITLE_BEFORE not in answer.text and "アクセスログ抽出" not in answer.text
    assert public.get(kept["content_url"], headers=member.headers).content == PDF  # members_only stays

    # Nothing of the content is left: not on disk, not in the database file.
    assert len(list(files.keys())) == 1
    for path in files.root.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_bytes()
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT storage_key FROM document WHERE id = :id"), {"id": document["id"]}).one()
    assert row.storage_key is None
    if db.is_sqlite:  # the content never went into the database file
        assert SECRET[9:40] not in sqlite_file_bytes(db)
    assert audit.verify(db, SYSTEM).ok
    actions = [entry.action for entry in audit.entries(db, SYSTEM, limit=1000)]
    assert "document.purged" in actions


def test_withdrawal_also_purges(client, make_case, files):
    case = make_case("subcommittee_review")
    document = upload(client, case.id, "log.pdf", SECRET, "members_only_delete_after_review").json()
    response = client.post(f"/api/assessments/{case.id}/events",
                           json={"event": "withdraw", "expected_version": case.version, "reason": "事務の廃止"})
    assert response.status_code == 200
    assert client.get(document["content_url"]).status_code == 410
    assert list(files.keys()) == []


def test_an_office_cannot_read_back_members_only_material(public, person, make_case):
    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    office = person("office")
    document = public.post(f"/api/assessments/{case.id}/documents", headers=office.headers,
                           data={"title": "ログ", "classification": "members_only"},
                           files={"file": ("log.pdf", SECRET, "application/pdf")})
    assert document.status_code == 201
    assert public.get(f"/api/documents/{document.json()['id']}/content", headers=office.headers).status_code == 404


def test_the_audit_trail_names_confidential_material_by_id_and_classification(public, person, make_case, db, clock):
    """The administrator reads the trail but may not know members-only material: no title of it enters."""
    from tests.helpers.meetings import schedule

    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    secretariat = person("secretariat")
    meeting = schedule(db, clock, agenda=[{"assessment_id": case.id, "purpose": "third_party_review",
                                           "title": case.title}]).meeting
    uploaded = {}
    for classification, title in (("public", "資料1 評価書（案）"), ("members_only", "資料2 委員限りの運用手順書"),
                                  ("members_only_delete_after_review", "資料3 点検後削除のログ抽出")):
        uploaded[classification] = public.post(
            f"/api/assessments/{case.id}/documents", headers=secretariat.headers,
            data={"title": title, "classification": classification},
            files={"file": (f"{title}.pdf", PDF, "application/pdf")}).json()
    for number, document in enumerate(uploaded.values(), start=1):
        linked = public.post(f"/api/meetings/{meeting.id}/materials", headers=secretariat.headers,
                             json={"document_id": document["id"], "label": f"資料{number}"})
        assert linked.status_code == 200, linked.text
    for reader in ("admin", "secretariat"):
        trail = public.get("/api/audit", headers=person(reader).headers, params={"limit": 1000})
        assert trail.status_code == 200
        assert "委員限りの運用手順書" not in trail.text and "点検後削除のログ" not in trail.text
        assert "資料1 評価書（案）" in trail.text  # public material keeps its title in the trail
    entries = {(entry.action, entry.detail.get("document_id")): entry.detail
               for entry in audit.entries(db, SYSTEM, limit=1000)}
    confidential = uploaded["members_only"]["id"]
    assert entries[("document.uploaded", confidential)]["classification"] == "members_only"
    assert entries[("meeting.material_linked", confidential)] == {
        "document_id": confidential, "classification": "members_only", "label": "資料2"}


def test_titles_older_entries_gave_are_shown_only_to_who_may_know_them(public, person, make_case, db, clock, fire):
    """Entries written before the trail named confidential material by id alone keep their titles in the
    chain (an entry is never rewritten); the trail shows a title only to a reader who may know the
    document, and to nobody once it is purged."""
    from workflow.audit import AuditActor

    case = make_case("subcommittee_review", body=REVIEWING_BODY)
    secretariat = person("secretariat")
    ids = {}
    for classification in ("members_only", "members_only_delete_after_review", "public"):
        ids[classification] = public.post(
            f"/api/assessments/{case.id}/documents", headers=secretariat.headers,
            data={"title": f"題名（{classification}）", "classification": classification},
            files={"file": ("a.pdf", PDF, "application/pdf")}).json()["id"]
    with db.writing(EVERY_ORGANISATION) as session:  # as the trail was written before
        for classification, document_id in ids.items():
            audit.record(session, AuditActor(None, "事務局"), "meeting.material_linked", at=clock.now(),
                         object_type="meeting", object_id=1,
                         detail={"document_id": document_id, "label": "資料1", "title": f"題名（{classification}）"})

    def titles(reader):
        trail = public.get("/api/audit", headers=person(reader).headers, params={"limit": 1000}).json()
        return {entry["detail"].get("title") for entry in trail if entry["action"] == "meeting.material_linked"} - {None}

    assert titles("admin") == {"題名（public）"}
    assert titles("secretariat") == {"題名（public）", "題名（members_only）", "題名（members_only_delete_after_review）"}
    fire(case, "withdraw", reason="事務の廃止")  # purges the delete-after-review material
    assert titles("secretariat") == {"題名（public）", "題名（members_only）"}
    assert audit.verify(db, SYSTEM).ok  # the entries themselves are as they were written
