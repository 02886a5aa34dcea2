"""The demo data shipped in simsent/resources/demo loads and is well formed."""

from importlib.resources import files

from simsent.data.demo import demo_pairs, demo_sentences


def test_demo_sentences_load():
    sents = demo_sentences()
    assert 350 <= len(sents) <= 500
    assert len(set(sents)) == len(sents)
    assert all(s == s.strip() and s for s in sents)


def test_demo_pairs_load():
    rows = demo_pairs()
    assert 180 <= len(rows) <= 250
    assert all(set(r) == {"sentence1", "sentence2", "score"} for r in rows)
    scores = [r["score"] for r in rows]
    assert all(0.0 <= s <= 5.0 and s == int(s) for s in scores)
    assert len(set(scores)) >= 4
    assert len({(r["sentence1"], r["sentence2"]) for r in rows}) == len(rows)


def test_demo_pairs_file_has_three_fields_per_line():
    text = (files("simsent") / "resources" / "demo" / "pairs.tsv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines
    assert all(len(line.split("\t")) == 3 for line in lines)
