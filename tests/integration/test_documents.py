"""Documents in the service: content left behind by a crash is swept at start."""

from workflow import documents


def test_orphan_content_is_swept_at_start(files, db):
    key = files.put(b"left behind by a crash")
    assert files.sweep(documents.live_keys(db), older_than_seconds=0) == [key]
    assert not files.exists(key)
