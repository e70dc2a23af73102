"""Documents: the upload checks on their own (type, content, size), without storing anything."""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from notifications.formats import sheets_to_xlsx
from tests.helpers.documents import PDF
from workflow import documents
from workflow.documents import Upload
from workflow.errors import InvalidInput
from workflow.policy import Classification


def test_check_upload_directly():
    with pytest.raises(InvalidInput):
        documents.check_upload(Upload("x", "x.pdf", b"nope", Classification.PUBLIC), 100)
    assert documents.check_upload(Upload("x", "X.PDF", PDF, Classification.PUBLIC), 10**6) == "application/pdf"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://example.invalid/","x")', "+1+1", "-2+3", "@SUM(A1)",
                                  "\t=1+1", "\r=1+1"])
def test_formula_like_text_stays_text_in_a_spreadsheet(text):
    book = load_workbook(BytesIO(sheets_to_xlsx({"表": [["件名", "件数"], [text, 3], ["普通の件名", -1]]})))
    title, count = book["表"]["A2"], book["表"]["B2"]
    assert (title.value, title.data_type, title.quotePrefix) == (text, "s", True)
    assert (count.value, count.data_type) == (3, "n")  # numbers stay numbers, a negative one too
    assert (book["表"]["A3"].data_type, book["表"]["B3"].value) == ("s", -1)
