"""The demo file (shingi/demo_cases.yaml): one case per seed council."""

from shingi.demo import DEMO_FILE


def test_demo_file_covers_all_five_seed_councils():
    import yaml

    cases = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    assert {case["seed"] for case in cases} == {"000", "001", "002", "003", "004"}
