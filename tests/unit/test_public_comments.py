"""Public comments: the labels of submitters that are anonymised, told from contact details without a
database (tests/integration/test_public_comments.py refuses the others when recording)."""

import pytest

from workflow.public_comments import looks_personal


@pytest.mark.parametrize("label", ["市民A", "市民B（千葉市在住）", "事業者1", "団体2", "2015-07-01受付分"])
def test_anonymised_labels_are_accepted(label):
    assert not looks_personal(label)
