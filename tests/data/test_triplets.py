import pytest

from simsent.data.readers import read_table
from simsent.data.triplets import expand_triplets, read_triplets
from simsent.errors import DataError


def test_headerless_and_headed_tsv(tmp_path):
    plain = tmp_path / "t.tsv"
    plain.write_text("a1\tp1\tn1\na2\tp2\tn2\n", encoding="utf-8")
    assert read_triplets(plain) == [
        {"anchor": "a1", "positive": "p1", "negative": "n1"},
        {"anchor": "a2", "positive": "p2", "negative": "n2"},
    ]
    # read_table took the first triplet for a header: recovered
    assert expand_triplets(read_table(plain)) == read_triplets(plain)
    headed = tmp_path / "h.csv"
    headed.write_text("sent0,sent1,hard_neg\na1,p1,n1\n", encoding="utf-8")
    assert read_triplets(headed) == [{"anchor": "a1", "positive": "p1", "negative": "n1"}]


def test_jsonl_lists(tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"query": "q", "pos": ["p1", "p2", "p3"], "neg": ["n1", "n2"]}\n', encoding="utf-8")
    assert [r["negative"] for r in read_triplets(f)] == ["n1", "n2", "n1"]


def test_missing_negatives_are_seeded_and_never_the_own_positive():
    rows = [{"anchor": f"a{i}", "positive": f"p{i}"} for i in range(6)]
    out1, out2 = expand_triplets(rows, seed=3), expand_triplets(rows, seed=3)
    assert out1 == out2
    assert all(r["negative"] != r["positive"] and r["negative"].startswith("p") for r in out1)


def test_bad_rows():
    with pytest.raises(DataError, match="anchor, positive, negative"):
        expand_triplets([{"anchor": "a"}])
    with pytest.raises(DataError, match="borrow"):
        expand_triplets([{"anchor": "a", "positive": "p"}])


def test_triplets_from_pairs_hard_or_missing_negative():
    from simsent.data.triplets import triplets_from_pairs

    rows = [
        {"sentence1": "a", "sentence2": "b", "score": 1},
        {"sentence1": "x", "sentence2": "a", "score": 0},
        {"sentence1": "c", "sentence2": "d", "score": 1},
        {"sentence1": "c", "sentence2": "e", "score": 0.5},
    ]
    triplets, counts = triplets_from_pairs(rows, positive_min=1, negative_max=0)
    assert triplets == [
        {"anchor": "a", "positive": "b", "negative": "x"},
        {"anchor": "c", "positive": "d", "negative": None},
    ]
    assert counts == {"triplets": 2, "hard_negatives": 1, "random_negatives": 1}
    assert expand_triplets(triplets)[1]["negative"] == "b"
