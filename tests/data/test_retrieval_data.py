"""Retrieval-shaped data: query<TAB>positive files (header or not, scored or not), FlagEmbedding JSONL,
a corpus, and every row that cannot be used counted or refused in one line."""

from __future__ import annotations

import json
import logging

import pytest

from simsent.data.retrieval import QueryRow, read_queries, retrieval_data
from simsent.errors import DataError


def _write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.mark.parametrize(
    "name,text,encoding",
    [
        ("q.tsv", "怎么还款\t如何还款\n额度多少\t花呗额度\n", "utf-8"),
        ("q.tsv", "query\tpositive\n怎么还款\t如何还款\n额度多少\t花呗额度\n", "utf-8"),
        ("q.csv", "query,pos\n怎么还款,如何还款\n额度多少,花呗额度\n", "utf-8-sig"),
        ("q.txt", "怎么还款\t如何还款\n额度多少\t花呗额度\n", "gb18030"),
        ("q.jsonl", '{"query": "怎么还款", "pos": ["如何还款"]}\n{"query": "额度多少", "pos": "花呗额度"}\n',
         "utf-8"),
    ],
    ids=["tsv", "tsv-header", "csv-bom", "gbk", "jsonl"],
)
def test_every_shape_reads_to_the_same_rows(tmp_path, name, text, encoding):
    rows = read_queries(_write(tmp_path, name, text, encoding))
    assert [(r.query, r.positives) for r in rows] == [("怎么还款", ["如何还款"]), ("额度多少", ["花呗额度"])]


def test_scored_pairs_give_positives_and_negatives(tmp_path):
    rows = read_queries(_write(tmp_path, "p.data", "怎么还款\t如何还款\t1\n怎么还款\t今天天气\t0\n"))
    data = retrieval_data(rows)
    assert data.queries == ["怎么还款"] and [data.corpus[g] for g in data.gold[0]] == ["如何还款"]
    assert sorted(data.corpus.values()) == sorted(["怎么还款", "如何还款", "今天天气"])


def test_jsonl_negatives_and_the_corpus(tmp_path, caplog):
    path = _write(tmp_path, "q.jsonl", json.dumps({"query": "q1", "pos": ["p1", "p9"], "neg": ["n1"]}) + "\n")
    with caplog.at_level(logging.WARNING):
        data = retrieval_data(read_queries(path), corpus=["p1", "x", "y"])
    assert {data.corpus[g] for g in data.gold[0]} == {"p1", "p9"}
    assert "1 positives missing from the corpus added to it" in caplog.text
    assert len(data.corpus) == 4  # n1 is not added: the corpus is the user's


def test_what_cannot_be_used_is_counted(caplog):
    rows = [QueryRow("q1", ["q1"]), QueryRow("q2", ["p2"]), QueryRow("q2", ["p3"]), QueryRow("q3", []),
            QueryRow(" ", ["p4"])]
    with caplog.at_level(logging.WARNING):
        data = retrieval_data(rows, source="faq.tsv")
    assert data.queries == ["q2"] and len(data.gold[0]) == 2
    for words in ("1 positives equal to their query dropped", "1 duplicate queries merged",
                  "2 queries without a positive skipped", "1 blank queries"):
        assert f"faq.tsv: {words}" in caplog.text


@pytest.mark.parametrize(
    "name,text,words",
    [
        ("one.tsv", "只有一列\n", "one column"),
        ("score.tsv", "a\tb\tmaybe\n", "is not a score"),
        ("nan.tsv", "a\tb\tnan\n", "not a finite number"),
        ("empty.tsv", "\n\n", "holds no query"),
        ("noquery.jsonl", '{"text": "a", "pos": ["b"]}\n', "no query field"),
    ],
)
def test_files_that_are_not_queries_are_one_line(tmp_path, name, text, words):
    with pytest.raises(DataError, match=words) as info:
        read_queries(_write(tmp_path, name, text))
    assert "\n" not in str(info.value)


def test_no_usable_query_or_an_empty_corpus_is_refused():
    with pytest.raises(DataError, match="no query with a positive"):
        retrieval_data([QueryRow("q", ["q"])])
    with pytest.raises(DataError, match="corpus .* holds no text"):
        retrieval_data([QueryRow("q", ["p"])], corpus=["  "])
