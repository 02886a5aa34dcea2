"""Seeded dedup, subsets and halves: the one implementation every caller uses."""

from simsent.data.sampling import dedup, sample_rows, seeded_halves, seeded_subset


def test_dedup_keeps_first_order_and_compares_dicts_by_content():
    assert dedup(["今天", "明天", "今天"]) == ["今天", "明天"]
    assert dedup([{"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 2}]) == [{"a": 1, "b": 2}, {"a": 2}]


def test_seeded_subset_is_ordered_reproducible_and_whole_when_small():
    items = list(range(100))
    a, b = seeded_subset(items, 10, seed=3), seeded_subset(items, 10, seed=3)
    assert a == b and a == sorted(a) and len(set(a)) == 10
    assert seeded_subset(items, 10, seed=4) != a
    assert seeded_subset(items, None, seed=3) == items
    assert seeded_subset(items[:5], 10, seed=3) == items[:5]


def test_sample_rows_dedups_before_sampling():
    rows = ["a"] * 50 + ["b", "c"]
    picked = sample_rows(rows, 2, seed=0, dedup_rows=True)
    assert len(set(picked)) == 2 and set(picked) <= {"a", "b", "c"}
    assert sample_rows(rows, None, seed=0) == rows


def test_seeded_halves_partition_the_rows():
    rows = list(range(11))
    first, second = seeded_halves(rows, seed=7)
    assert sorted(first + second) == rows and len(first) == 5
    assert seeded_halves(rows, seed=7) == (first, second)
