"""Streamed training data: the seeded shuffle buffer, the scan, and batches that do not depend on the
number of workers or processes."""

from __future__ import annotations

import logging

import pytest
import torch

from simsent.data.streaming import StreamingRows, shuffled
from simsent.errors import ConfigError, DataError

ROWS = [f"第{i}句话" for i in range(50)]


def _prepare(rows):
    return [{"sentence": r} for r in rows]


def _collate(rows):
    return [r["sentence"] for r in rows]


def _stream(tmp_path, lines=ROWS, name="s.txt", **kw) -> StreamingRows:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = StreamingRows(str(path), **{"buffer_size": 8, "workers": 0, **kw})
    rows.scan(_prepare)
    return rows


def test_shuffled_is_a_seeded_permutation_that_holds_at_most_the_buffer():
    held = {"max": 0}
    taken = []

    def source():
        for i in range(100):
            taken.append(i)
            yield i

    out = []
    for x in shuffled(source(), buffer_size=10, seed=3):
        out.append(x)
        held["max"] = max(held["max"], len(taken) - len(out))
    assert sorted(out) == list(range(100)) and out != list(range(100))
    assert held["max"] <= 10
    assert list(shuffled(range(100), 10, seed=3)) == out
    assert list(shuffled(range(100), 10, seed=4)) != out


def test_scan_counts_rows_and_reports_bad_lines_with_their_number(tmp_path, caplog):
    path = tmp_path / "p.data"
    path.write_text("a\tb\t1\nbroken line\nc\td\t0\n", encoding="utf-8")
    rows = StreamingRows(str(path), workers=0)
    with caplog.at_level(logging.WARNING):
        rows.scan(lambda block: block)
    assert len(rows) == 2
    assert f"{path}:2: malformed line skipped" in caplog.text


def test_scan_reads_gbk_files(tmp_path):
    lines = [f"{a}{b}" for a in "今天我想北京花呗银行手机" for b in ["天气不错", "去吃饭", "额度", "还款了"]]
    path = tmp_path / "gbk.txt"
    path.write_bytes("\n".join(lines).encode("gb18030"))
    rows = StreamingRows(str(path), workers=0)
    rows.scan(_prepare)
    assert [r["sentence"] for r in rows.rows()] == lines


def test_scan_refuses_more_samples_than_rows_and_a_single_distinct_row(tmp_path):
    with pytest.raises(ConfigError, match="--max-train-samples 60 is more than the 50 rows"):
        _stream(tmp_path, max_rows=60)
    with pytest.raises(DataError, match="1 distinct row"):
        _stream(tmp_path, ["同一句"] * 5, name="one.txt")
    assert len(_stream(tmp_path, max_rows=20)) == 20


def _epoch(rows, epoch=0, skip=0, workers=0, rank=0, world=1, batch_size=10):
    loader = rows.loader(_collate, batch_size, seed=7, rank=rank, world=world)
    loader.workers = workers
    loader.set_epoch(epoch)
    loader.skip_first(skip)
    return list(loader)


def test_an_epoch_is_every_row_once_in_a_seeded_order_that_changes_by_epoch(tmp_path):
    rows = _stream(tmp_path)
    first, second = _epoch(rows, 0), _epoch(rows, 1)
    assert len(first) == 5 == len(rows.loader(_collate, 10, 7))
    assert sorted(s for b in first for s in b) == sorted(ROWS)
    assert first != second and first == _epoch(rows, 0)


def test_worker_count_does_not_change_the_batches_and_skipping_resumes_mid_epoch(tmp_path):
    rows = _stream(tmp_path)
    alone = _epoch(rows, 1)
    assert _epoch(rows, 1, workers=2) == alone
    assert _epoch(rows, 1, skip=3, workers=2) == alone[3:]


def test_processes_take_their_shard_of_each_global_batch(tmp_path):
    rows = _stream(tmp_path)
    whole = _epoch(rows, 0)
    shards = [_epoch(rows, 0, rank=r, world=2) for r in range(2)]
    assert [a + b for a, b in zip(*shards, strict=True)] == whole


def test_the_last_incomplete_batch_is_dropped_unless_it_is_the_only_one(tmp_path):
    rows = _stream(tmp_path, max_rows=25)
    assert [len(b) for b in _epoch(rows)] == [10, 10]
    small = _stream(tmp_path, max_rows=7)
    assert [len(b) for b in _epoch(small)] == [7]


def test_trainer_streams_and_resumes_a_stopped_run_to_the_same_weights(tiny_bert, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(ROWS), encoding="utf-8")

    def run(out, stop_at=None):
        args = TrainingArguments(output_dir=str(tmp_path / out), batch_size=8, epochs=2, eval_steps=0,
                                 checkpoint_steps=2, show_progress_bar=False, seed=5)
        model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
        trainer = Trainer(model, args, StreamingRows(str(corpus), buffer_size=16, workers=1))
        if stop_at:
            save = trainer._save_checkpoint

            def save_then_stop(acc, epoch, step, **kw):
                save(acc, epoch, step, **kw)
                if trainer.global_step == stop_at:
                    raise KeyboardInterrupt

            trainer._save_checkpoint = save_then_stop
        return model, trainer.train

    full, train = run("full")
    assert train()["global_step"] == 12  # 50 rows // 8 = 6 steps an epoch
    _, train = run("cut", stop_at=8)  # stops in the second epoch, 2 batches into it
    with pytest.raises(KeyboardInterrupt):
        train()
    resumed, train = run("cut")
    assert train()["global_step"] == 12
    for (name, p), (_, q) in zip(full.named_parameters(), resumed.named_parameters(), strict=True):
        torch.testing.assert_close(q, p, atol=1e-6, rtol=1e-5, msg=name)


def test_streaming_refuses_what_needs_every_row_in_memory(tiny_bert, tmp_path, cli):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(ROWS), encoding="utf-8")
    base = ["train", "--model", tiny_bert, "--train-file", corpus, "--output", tmp_path / "o", "--streaming"]
    cases = {
        "--dedup": ("--dedup",),
        "supervised_simcse": ("--objective", "supervised_simcse"),
        "more than the 50 rows": ("--max-train-samples", "80"),
    }
    for expected, extra in cases.items():
        result = cli(*base, *extra)
        assert result.code == 2, (extra, result.err)
        assert expected in result.err and len(result.err.strip().splitlines()) == 1
    textcnn = cli(*base[:2], "textcnn", *base[3:])
    assert textcnn.code == 2 and "TextCNN" in textcnn.err
    assert not (tmp_path / "o").exists()


def test_a_file_over_the_size_limit_is_streamed_unless_told_not_to(
    tiny_bert, tmp_path, cli, monkeypatch, caplog
):
    import simsent._constants

    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(ROWS), encoding="utf-8")
    monkeypatch.setattr(simsent._constants, "STREAMING_AUTO_BYTES", 100)
    base = ["train", "--model", tiny_bert, "--train-file", corpus, "--batch-size", "8", "--max-steps", "2",
            "--eval-steps", "0", "--data-workers", "0"]
    with caplog.at_level(logging.INFO):
        r = cli(*base, "--output", tmp_path / "a")
    assert r.code == 0, r.err
    assert "is over 1 GiB: streamed" in caplog.text and "trained 2 steps" in r.out
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert cli(*base, "--output", tmp_path / "b", "--no-streaming").code == 0
    assert "streamed" not in caplog.text
