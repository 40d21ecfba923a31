"""The benchmark's share of the floor: each round against the floor measured just before it."""

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "bench_under_test", Path(__file__).resolve().parent.parent / "bench" / "bench.py"
)
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def measured(rps, paired=()):
    return {"rps": rps, "rounds": [rps], "paired": list(paired)}


def test_share_paired_rounds_is_the_median_of_each_rounds_ratio():
    # The floor's own median (3,000) came from quiet rounds; two of the list's rounds met a
    # busy machine, whose floor just before them served 1,250 and 1,300.
    medians = {
        bench.FLOOR: measured(3000),
        "list": measured(260, paired=[250 / 1250, 260 / 1300, 900 / 3000]),
    }

    assert round(bench.share(medians, "list"), 6) == 0.2
    assert round(bench.medians_share(medians, "list"), 6) == round(260 / 3000, 6)


def test_share_without_paired_floors_is_the_ratio_of_the_medians():
    medians = {bench.FLOOR: measured(2000), "list": measured(500)}

    assert bench.share(medians, "list") == 0.25


def test_share_of_a_scenario_not_measured_is_none():
    assert bench.share({bench.FLOOR: measured(2000)}, "list") is None
