"""Documents: the upload checks on their own (type, content, size), without storing anything."""

import pytest

from tests.helpers.documents import PDF
from workflow import documents
from workflow.documents import Upload
from workflow.errors import InvalidInput
from workflow.policy import Classification


def test_check_upload_directly():
    with pytest.raises(InvalidInput):
        documents.check_upload(Upload("x", "x.pdf", b"nope", Classification.PUBLIC), 100)
    assert documents.check_upload(Upload("x", "X.PDF", PDF, Classification.PUBLIC), 10**6) == "application/pdf"
