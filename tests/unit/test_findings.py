"""The findings' moves as data: the lifecycle's table of moves (tests/integration/test_findings.py walks
every status × move on the database)."""

from workflow.lifecycle import FINDING


def test_the_table_of_moves():
    table = {name: (sorted(move.sources), move.target) for name, move in FINDING.events.items()}
    assert table == {
        "answer": (["carried", "open"], "answered"),
        "carry": (["answered", "carried", "open"], "carried"),
        "close": (["answered", "carried", "open"], "closed"),
        "reopen": (["answered", "closed"], "open"),
    }
