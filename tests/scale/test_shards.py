"""A corpus encoded into resumable shards, and an index built from them shard by shard."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from simsent.errors import DataError
from simsent.modeling.sentence_encoder import model_fingerprint
from simsent.scale.index_build import index_from_shards
from simsent.scale.shards import encode_to_shards, iter_shards
from simsent.search import VectorIndex

TEXTS = [f"{a}{b}" for a in "今天我想北京花呗银行" for b in ["天气不错", "去吃饭", "还款了"]]  # 30 rows


@pytest.fixture(scope="module")
def model(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.load(tiny_bert)


def _corpus(tmp_path, texts=TEXTS):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return str(path)


def test_shards_hold_every_row_in_order(model, tmp_path):
    manifest = encode_to_shards(model, _corpus(tmp_path), str(tmp_path / "v"), shard_rows=8,
                                show_progress_bar=False)
    assert [s["rows"] for s in manifest["shards"]] == [8, 8, 8, 6] and manifest["rows"] == 30
    starts, parts = zip(*iter_shards(str(tmp_path / "v")), strict=True)
    assert starts == (0, 8, 16, 24)
    want = model.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(np.concatenate(parts), want, atol=1e-5)


def test_a_rerun_redoes_only_missing_or_changed_shards(model, tmp_path, monkeypatch):
    folder = tmp_path / "v"
    encode_to_shards(model, _corpus(tmp_path), str(folder), shard_rows=8, show_progress_bar=False)
    before = np.load(folder / "shard-00001.npy")
    (folder / "shard-00001.npy").write_bytes(b"broken")
    (folder / "shard-00002.npy").unlink()
    calls = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda texts, **kw: calls.append(len(texts)) or encode(texts, **kw))
    encode_to_shards(model, _corpus(tmp_path), str(folder), shard_rows=8, show_progress_bar=False)
    assert calls == [8, 8]  # shards 0 and 3 were intact and kept
    np.testing.assert_allclose(np.load(folder / "shard-00001.npy"), before, atol=1e-6)


def test_shards_of_another_input_or_setting_are_refused(model, tmp_path):
    folder = str(tmp_path / "v")
    encode_to_shards(model, _corpus(tmp_path), folder, shard_rows=8, show_progress_bar=False)
    with pytest.raises(DataError, match="another --shard-rows"):
        encode_to_shards(model, _corpus(tmp_path), folder, shard_rows=4, show_progress_bar=False)
    changed = _corpus(tmp_path, TEXTS[:-1])
    with pytest.raises(DataError, match="another input"):
        encode_to_shards(model, changed, folder, shard_rows=8, show_progress_bar=False)
    with pytest.raises(DataError, match="missing or changed"):
        index_from_shards(folder)


@pytest.mark.parametrize("precision", ["float32", "int8"])
def test_an_index_from_shards_finds_what_the_built_index_finds(model, tmp_path, precision):
    corpus = _corpus(tmp_path)
    encode_to_shards(model, corpus, str(tmp_path / "v"), shard_rows=5, precision=precision,
                     show_progress_bar=False)
    index = index_from_shards(str(tmp_path / "v"))
    built = VectorIndex.build(model, corpus, show_progress_bar=False)
    assert index.ids == built.ids and index.texts == built.texts and index.model_info == built.model_info
    got, want = index.search(TEXTS[:6], k=3, model=model), built.search(TEXTS[:6], k=3, model=model)
    assert [r[0] for r in got.ids] == [r[0] for r in want.ids]


def test_encode_and_index_build_through_the_cli(tiny_bert, tmp_path, cli):
    corpus = _corpus(tmp_path)
    r = cli("encode", tiny_bert, "--input", corpus, "--output", tmp_path / "v", "--shard-rows", "10")
    assert r.code == 0 and "30 vectors in 3 shard(s)" in r.out, r.err
    manifest = json.loads((tmp_path / "v" / "shards.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["input"]["path"] == corpus
    r = cli("index", "build", tiny_bert, "--from-vectors", tmp_path / "v", "--output", tmp_path / "ix")
    assert r.code == 0 and "indexed 30 rows" in r.out, r.err
    both = cli("index", "build", tiny_bert, "--from-vectors", tmp_path / "v", "--corpus", corpus,
               "--output", tmp_path / "ix2")
    assert both.code == 2 and "exactly one of --corpus" in both.err


def test_ray_workers_write_the_shards_of_one_process(model, tiny_bert, tmp_path):
    pytest.importorskip("ray")
    from simsent.scale.ray_encode import ray_encoder

    corpus = _corpus(tmp_path)
    alone = encode_to_shards(model, corpus, str(tmp_path / "one"), shard_rows=7, show_progress_bar=False)
    on_ray = ray_encoder(tiny_bert, workers=2)
    try:
        spread = encode_to_shards(model, corpus, str(tmp_path / "ray"), shard_rows=7, precision="float32",
                                  show_progress_bar=False, encode_shards=on_ray)
    finally:
        import ray

        ray.shutdown()
    ranges = [[(s["start"], s["rows"]) for s in m["shards"]] for m in (alone, spread)]
    assert ranges[0] == ranges[1]
    a = np.concatenate([v for _, v in iter_shards(str(tmp_path / "one"))])
    b = np.concatenate([v for _, v in iter_shards(str(tmp_path / "ray"))])
    np.testing.assert_allclose(b, a, atol=1e-5)


def test_index_build_encodes_on_ray_workers_and_builds_in_one_command(model, tiny_bert, tmp_path, cli,
                                                                       monkeypatch):
    pytest.importorskip("ray")
    import ray

    from simsent.modeling import loading

    def not_here(*args, **kwargs):
        raise AssertionError("the driver loaded the model; only the Ray workers should")

    monkeypatch.setattr(loading, "ready_model", not_here)  # the workers are other processes
    corpus = _corpus(tmp_path)
    try:
        r = cli("index", "build", tiny_bert, "--corpus", corpus, "--output", tmp_path / "ix",
                "--workers", "2", "--shard-rows", "8")
    finally:
        ray.shutdown()
    assert r.code == 0 and "indexed 30 rows" in r.out, r.err
    manifest = json.loads((tmp_path / "ix.shards" / "shards.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["model"]["fingerprint"] == model_fingerprint(model)
    assert manifest["model"]["path"] == os.path.abspath(tiny_bert)
    monkeypatch.undo()
    got = VectorIndex.load(tmp_path / "ix").search(TEXTS[:6], k=3, model=model)
    want = VectorIndex.build(model, corpus, show_progress_bar=False).search(TEXTS[:6], k=3, model=model)
    assert got.ids == want.ids
    np.testing.assert_allclose(got.scores, want.scores, atol=1e-5)
    both = cli("index", "build", tiny_bert, "--from-vectors", tmp_path / "ix.shards", "--output",
               tmp_path / "ix2", "--workers", "2")
    assert both.code == 2 and "encoded already" in both.err


def test_a_missing_ray_or_a_dead_address_is_one_line(tiny_bert, tmp_path, cli, monkeypatch):
    import builtins

    corpus = _corpus(tmp_path)
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    r = cli("encode", tiny_bert, "--input", corpus, "--output", tmp_path / "v", "--workers", "2")
    assert r.code == 2 and "simsent[ray]" in r.err and len(r.err.strip().splitlines()) == 1
    monkeypatch.setattr(builtins, "__import__", real_import)
    pytest.importorskip("ray")
    r = cli("encode", tiny_bert, "--input", corpus, "--output", tmp_path / "v", "--ray", "127.0.0.1:1")
    assert r.code == 2 and "cannot reach the Ray cluster at 127.0.0.1:1" in r.err
    assert not (tmp_path / "v" / "shard-00000.npy").exists()


class _Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not even ``except Exception``)."""


def test_a_rerun_killed_after_one_shard_never_leaves_a_complete_manifest(model, tiny_bert, tmp_path, cli):
    folder = tmp_path / "v"
    corpus = _corpus(tmp_path)
    encode_to_shards(model, corpus, str(folder), shard_rows=8, show_progress_bar=False)
    for i in (1, 2, 3):
        (folder / f"shard-{i:05d}.npy").unlink()

    def killed_after_one(jobs):
        from simsent.scale.shards import local_encoder

        for i, vecs in local_encoder(model, show_progress_bar=False)(jobs):
            yield i, vecs
            raise _Killed  # after shard 1 is rewritten and recorded

    with pytest.raises(_Killed):
        encode_to_shards(model, corpus, str(folder), shard_rows=8, show_progress_bar=False,
                         encode_shards=killed_after_one)
    manifest = json.loads((folder / "shards.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False and [s["index"] for s in manifest["shards"]] == [0, 1]
    r = cli("index", "build", tiny_bert, "--from-vectors", folder, "--output", tmp_path / "ix")
    assert r.code == 2 and "incomplete" in r.err
    assert not (tmp_path / "ix").exists()


def test_a_manifest_that_claims_more_than_its_shards_is_refused_naming_the_rows(model, tiny_bert, tmp_path,
                                                                                     cli):
    folder = tmp_path / "v"
    encode_to_shards(model, _corpus(tmp_path), str(folder), shard_rows=8, show_progress_bar=False)
    path = folder / "shards.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    gap = {**manifest, "shards": [s for s in manifest["shards"] if s["index"] != 1]}
    path.write_text(json.dumps(gap), encoding="utf-8")
    r = cli("index", "build", tiny_bert, "--from-vectors", folder, "--output", tmp_path / "ix")
    assert r.code == 2 and "rows 8-15 have no shard" in r.err, r.err
    # a manifest of an older simsent (no input_rows) that lost its last shard: the input tells
    tail = {k: v for k, v in manifest.items() if k != "input_rows"}
    tail["shards"] = manifest["shards"][:-1]
    tail["rows"] = 24
    path.write_text(json.dumps(tail), encoding="utf-8")
    r = cli("index", "build", tiny_bert, "--from-vectors", folder, "--output", tmp_path / "ix")
    assert r.code == 2 and "rows 24-29" in r.err and "have no shard" in r.err, r.err
    assert not (tmp_path / "ix").exists()
