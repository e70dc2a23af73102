"""The demo cases in the service: loaded once (tests/acceptance/test_demo.py replays them)."""

from shingi.demo import load_demo


def test_demo_is_not_loaded_twice(db, workflows, core):
    assert not load_demo(db, workflows, core.papers, core.clock).skipped
    assert load_demo(db, workflows, core.papers, core.clock).skipped
