"""Public comments (意見聴取): Chiba's public comment with no comments (seed 002), a case in its public
comment, comments to record, and a change of the report that a response may point to."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers.people import REVIEWING_BODY, SYSTEM
from workflow import report_versions
from workflow.public_comments import NewPublicComment
from workflow.report_versions import NewChange, NewReportVersion

CHIBA = {"title": "(旧)福祉システム（後期高齢者医療事務）", "office": "健康保険課"}


def comment(**fields) -> NewPublicComment:
    return NewPublicComment(**{"received_on": date(2025, 4, 10), "channel": "web", "submitter": "市民A",
                               "summary": "中間サーバーのアクセスログを市が監視できるのか。", **fields})


@pytest.fixture
def chiba(make_case, fire):
    """Chiba 2015: a pre-check (事前点検), then the public comment 6/22–7/21 on the website, closed with none."""
    case = make_case("drafted", body=REVIEWING_BODY, **CHIBA)
    case = fire(case, "start_pre_check")
    case = fire(case, "open_public_comment", comment_start="2015-06-22", comment_end="2015-07-21")
    return fire(case, "close_public_comment", comment_count=0)


@pytest.fixture
def commenting(make_case):
    """A case in its public comment (2025-04-01 to 04-30; today is 2025-06-02), reviewed by REVIEWING_BODY."""
    return make_case("public_comment", body=REVIEWING_BODY)


def add_change(db, clock, case) -> int:
    """A new version of the case's report with one change (after the public comment); the change's id."""
    entry = report_versions.add_version(db, clock, case.id, NewReportVersion(
        submitted_on=date(2025, 5, 10), label="意見聴取を踏まえた修正版",
        changes=[NewChange(section="Ⅲ 7. リスク1 ⑧ 監視", before="アクセスログを取得する。",
                           after="アクセスログを取得し、定期的に監視する。", reason="市民意見を踏まえて")]), SYSTEM)
    return entry.changes[0].id
