"""Report versions (評価書の版): versions to add, the report's documents (`attach`), and the words of
the Fukuoka office's revisions (資料3-1, 資料3-2 of seed 000)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers.people import SYSTEM
from workflow import documents
from workflow.documents import Upload
from workflow.policy import Classification
from workflow.report_versions import NewReportVersion

PDF = "%PDF-1.7\n% 全項目評価書\n".encode()

# 資料3-1 and 3-2 of the 2nd meeting (令和5年11月16日), in the office's words.
AUTHENTICATION_SECTION = ("Ⅱ 特定個人情報ファイルの概要 (1) 都道府県知事保存本人確認情報ファイル 6. 特定個人情報の保管・消去"
                          " ①保管場所（都道府県知事附票本人確認情報ファイルも同じ）、別添3 変更箇所")
AUTHENTICATION_BEFORE = "IDと生体認証(又はパスワード)による認証が必要となる"
AUTHENTICATION_AFTER = ("サーバへのアクセスは、原則、IDと生体認証による認証が必要となる。例外として生体認証による照合が困難な"
                        "場合に限り、管理監督者の承認の下、パスワードによる認証を行う。")


def version(**fields) -> NewReportVersion:
    return NewReportVersion(**{"submitted_on": date(2025, 5, 30), **fields})


@pytest.fixture
def attach(db, files, clock):
    """attach(case, title, classification=PUBLIC) → a document of the case (a report's PDF)."""

    def upload(case, title: str, classification: Classification = Classification.PUBLIC):
        return documents.attach(db, files, clock, case.id, Upload(title, "hyoukasho.pdf", PDF, classification),
                                SYSTEM, 10**6)

    return upload
