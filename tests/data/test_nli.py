import json

import pytest

from simsent.data.nli import convert_nli_file, nli_label, nli_to_triplets
from simsent.errors import DataError

ROWS = [
    {"premise": "p1", "hypothesis": "e1", "label": "entailment"},
    {"premise": "p1", "hypothesis": "n1", "label": "neutral"},
    {"premise": "p1", "hypothesis": "c1", "label": "contradiction"},
    {"premise": "p1", "hypothesis": "e2", "label": 0},
    {"premise": "p2", "hypothesis": "e3", "label": "e"},
    {"premise": "p3", "hypothesis": "x", "label": "-"},
]


def test_labels_strings_and_ids():
    assert [nli_label(x) for x in ("entailment", "N", 2, "1", 0.0, "-", -1)] == [0, 1, 2, 1, 0, None, None]


def test_entailment_positive_contradiction_negative():
    triplets, counts = nli_to_triplets(ROWS)
    assert triplets == [
        {"anchor": "p1", "positive": "e1", "negative": "c1"},
        {"anchor": "p1", "positive": "e2", "negative": "c1"},
    ]
    assert counts == {"pairs": 6, "triplets": 2, "skipped_labels": 1, "no_negative": 1}


def test_errors():
    with pytest.raises(DataError, match="premise .*hypothesis .*label"):
        nli_to_triplets([{"text": "x"}])
    with pytest.raises(DataError, match="no triplet"):
        nli_to_triplets(ROWS[:2])


@pytest.mark.parametrize("out_name", ["t.jsonl", "t.tsv"])
def test_file_round_trip_with_cli(tmp_path, out_name, cli):
    from simsent.data.triplets import read_triplets

    src = tmp_path / "nli.tsv"
    src.write_text(
        "sentence1\tsentence2\tlabel\n"
        + "".join(f"{r['premise']}\t{r['hypothesis']}\t{r['label']}\n" for r in ROWS),
        encoding="utf-8",
    )
    out = tmp_path / out_name
    assert cli("data", "nli-to-triplets", src, out).code == 0
    assert read_triplets(out)[0] == {"anchor": "p1", "positive": "e1", "negative": "c1"}
    assert convert_nli_file(str(src), str(tmp_path / "again.jsonl"))["triplets"] == 2
    assert json.loads((tmp_path / "again.jsonl").read_text().splitlines()[1])["positive"] == "e2"
