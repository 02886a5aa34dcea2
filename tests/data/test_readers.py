import logging

import pytest

from simsent.data.columns import rows_for_columns, sentences_of
from simsent.data.readers import (
    read_any,
    read_jsonl,
    read_sentences,
    read_senteval,
    read_table,
)
from simsent.errors import DataError


def test_senteval_reports_malformed_lines_with_file_and_line(tmp_path, caplog):
    f = tmp_path / "X.valid.data"
    f.write_text("今天\t明天\t1\nbad line\n你好\t您好\tnotanumber\n\n北京\t上海\t0\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        rows = read_senteval(f)
    assert rows == [
        {"sentence1": "今天", "sentence2": "明天", "score": 1.0},
        {"sentence1": "北京", "sentence2": "上海", "score": 0.0},
    ]
    assert f"{f}:2" in caplog.text and f"{f}:3" in caplog.text
    assert "skipped 2 malformed line(s)" in caplog.text


def test_empty_and_missing_files_are_clear_errors(tmp_path):
    (tmp_path / "e.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match="no usable line"):
        read_sentences(tmp_path / "e.txt")
    with pytest.raises(DataError, match="file not found"):
        read_any(str(tmp_path / "nope.data"))


def test_table_jsonl_and_dataset(tmp_path):
    (tmp_path / "a.csv").write_text("text_a,text_b,label\n你好,您好,1\n", encoding="utf-8")
    (tmp_path / "a.tsv").write_text("sentence\n你好\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"text": "你好"}\nnot json\n', encoding="utf-8")
    assert read_table(tmp_path / "a.csv") == [{"text_a": "你好", "text_b": "您好", "label": "1"}]
    assert read_any(str(tmp_path / "a.tsv")) == [{"sentence": "你好"}]
    assert read_jsonl(tmp_path / "a.jsonl") == [{"text": "你好"}]
    from datasets import Dataset

    ds = Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"], "score": [3.0]})
    assert read_any(ds) == [{"sentence1": "a", "sentence2": "b", "score": 3.0}]


def test_rows_for_columns_aliases_and_errors():
    rows = rows_for_columns(
        [{"text_a": "a", "text_b": "b", "label": "1"}], ("sentence1", "sentence2"), "score"
    )
    assert rows == [{"sentence1": "a", "sentence2": "b", "score": 1.0}]
    assert rows_for_columns(["x", "y"], ("sentence",)) == [{"sentence": "x"}, {"sentence": "y"}]
    assert rows_for_columns([{"sentence1": "a", "sentence2": "b", "score": 1}], ("sentence",)) == [
        {"sentence": "a"},
        {"sentence": "b"},
    ]
    with pytest.raises(DataError, match="expects columns sentence1, sentence2, score"):
        rows_for_columns(["only text"], ("sentence1", "sentence2"), "score")


def test_sentences_of():
    assert sentences_of([{"sentence1": "a", "sentence2": "b"}, "c"]) == ["a", "b", "c"]


@pytest.mark.parametrize("label", ["nan", "inf", "-inf", "NaN"])
def test_non_finite_labels_are_skipped_with_file_and_line(tmp_path, caplog, label):
    f = tmp_path / "p.data"
    f.write_text(f"今天\t明天\t1\n你好\t您好\t{label}\n北京\t上海\t0\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        rows = read_senteval(f)
    assert [r["score"] for r in rows] == [1.0, 0.0]
    assert f"{f}:2" in caplog.text and "not a finite number" in caplog.text


@pytest.mark.parametrize("label", [None, float("nan"), "inf", True])
def test_null_and_non_finite_labels_in_rows_are_errors(label):
    rows = [{"text_a": "a", "text_b": "b", "label": 1}, {"text_a": "c", "text_b": "d", "label": label}]
    with pytest.raises(DataError, match="row 2: label"):
        rows_for_columns(rows, ["sentence1", "sentence2"], "score", source="x.jsonl")


def test_many_malformed_lines_log_a_few_and_a_count(tmp_path, caplog):
    f = tmp_path / "p.data"
    f.write_text("今天\t明天\t1\n" + "bad\n" * 20_000, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        read_senteval(f)
    assert len(caplog.records) <= 6
    assert "skipped 20000 malformed line(s) (logged: lines 2, 3, 4, 5, 6; the rest counted)" in caplog.text
