"""Round 3 of the bad-input matrix: shard folders that claim more than they hold, a resume under another
setting, writes that fail (a file-size limit: ``ulimit -f``), codecs, model families and weights that
cannot be read, labels that teach nothing, results with undefined figures. Cases are built by
``round3_cases`` and added to the matrix by ``bad_input_cases.build_cases``; a case with
``file_size_limit`` runs as a fresh process under that limit (``run_console``), in the test and the bench.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

OK, ERROR = "ok", "error"
#: the file-size limit of the write-fault cases: less than a model, an index or 3,000 vectors
LIMIT = 64 << 10


def run_console(argv: list[str], file_size_limit: int | None = None, timeout: float = 600):
    """``simsent argv`` as a fresh process with no standard input (files capped at ``file_size_limit``
    bytes, the write then failing with EFBIG); ``(exit code, stdout, stderr)``."""
    import resource

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    exe = shutil.which("simsent")
    cmd = [exe] if exe else [sys.executable, "-m", "simsent.cli.main"]

    def limit() -> None:
        if file_size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    proc = subprocess.run([*cmd, *argv], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                          timeout=timeout, preexec_fn=limit)
    return proc.returncode, proc.stdout, proc.stderr


def _expect_in(where: str, words: str) -> Callable[[str, str], None]:
    def check(out: str, err: str) -> None:
        text = {"out": out, "err": err}[where]
        assert words in text, f"{words!r} not in std{where}: {text.strip()[-200:]}"

    return check


def _no_root_logger_lines(_out: str, err: str) -> None:
    lines = [line for line in err.splitlines() if " root: " in line]
    assert not lines, f"the root logger spoke: {lines[:2]}"


def _strict_json(path: str) -> Callable[[str, str], None]:
    def check(_out: str, _err: str) -> None:
        text = Path(path).read_text(encoding="utf-8")
        assert "NaN" not in text, "NaN in a JSON result"
        json.loads(text)

    return check


def _models(work: Path, good_model: str) -> dict[str, str]:
    """Folders a loader must refuse in one line: an encoder-decoder config, weights that are a pickle
    needing code, an ONNX graph without torch weights."""
    import numpy as np
    import torch
    from safetensors.torch import load_file

    m: dict[str, str] = {}
    t5 = work / "t5_config"
    if not t5.exists():
        shutil.copytree(good_model, t5)
        cfg = json.loads((t5 / "config.json").read_text(encoding="utf-8"))
        cfg.update(model_type="t5", architectures=["T5Model"])
        (t5 / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    m["t5_config"] = str(t5)
    pickled = work / "pickled_weights"
    if not pickled.exists():
        shutil.copytree(good_model, pickled)
        weights = load_file(str(pickled / "model.safetensors"))
        torch.save({**weights, "extra": np.array([1.0])}, pickled / "pytorch_model.bin")  # needs numpy's code
        (pickled / "model.safetensors").unlink()
    m["pickled_weights"] = str(pickled)
    onnx_only = work / "onnx_only"
    if not onnx_only.exists():
        from simsent.modeling.onnx import export_onnx
        from simsent.modeling.sentence_encoder import SentenceEncoder

        export_onnx(SentenceEncoder.load(good_model), str(onnx_only))
        for weights in onnx_only.rglob("model.safetensors"):
            weights.unlink()
    m["onnx_only"] = str(onnx_only)
    return m


def _inputs(work: Path, sents: list[str]) -> dict[str, str]:
    f: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        (work / name).write_bytes(data)
        f[name] = str(work / name)

    put("utf16_no_bom.txt", "\n".join(sents).encode("utf-16-le"))
    equal = "".join(f"{a}\t{b}\t1\n" for a, b in zip(sents, sents[1:], strict=False))
    put("pairs_equal.data", equal.encode())
    put("identical.txt", ((sents[0] + "\n") * 30).encode())
    put("big.txt", "".join(f"{sents[i % len(sents)]}{i}\n" for i in range(3000)).encode())
    return f


def _shards_with_a_gap(work: Path, good_model: str, corpus: str) -> str:
    """A shard folder whose manifest says complete while shard 1 is gone from it (rows 8-15)."""
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.scale.shards import encode_to_shards

    folder = work / "shards_gap"
    if not folder.exists():
        encode_to_shards(SentenceEncoder.load(good_model), corpus, str(folder), shard_rows=8,
                         show_progress_bar=False)
        manifest = json.loads((folder / "shards.json").read_text(encoding="utf-8"))
        manifest["shards"] = [s for s in manifest["shards"] if s["index"] != 1]
        (folder / "shards.json").write_text(json.dumps(manifest), encoding="utf-8")
        (folder / "shard-00001.npy").unlink()
    return str(folder)


def _killed_training(argv: list[str], checkpoint: Path) -> None:
    """Run ``simsent argv`` and kill it (SIGKILL) once ``checkpoint`` is written."""
    if checkpoint.exists():
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "simsent.cli.main", *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert checkpoint.exists(), "the training to interrupt ended before its first checkpoint"


def round3_cases(
    work: Path, f: dict[str, str], good_model: str, sents: list[str], fast: list[str], port: int | None
) -> list[tuple]:
    """(name, argv, expect, check, file_size_limit) of round 3 (``fast``: the short-training options;
    ``f`` holds ``data_dir_constant``, a data dir whose STS-B labels are all one value)."""
    work.mkdir(parents=True, exist_ok=True)
    f = {**f, **_inputs(work, sents)}
    m = _models(work, good_model)
    out = str(work / "out3")
    cases: list[tuple] = []

    def add(name, argv, expect, check=None, limit=None):
        cases.append((name, [str(a) for a in argv], expect, check, limit))

    encode = ["encode", good_model, "--input"]
    add("--encoding utf-16 on a file without a BOM",
        ["--encoding", "utf-16", *encode, f["utf16_no_bom.txt"], "--output", f"{out}/u16.npy"], ERROR)
    for name in ("t5_config", "pickled_weights", "onnx_only"):
        add(f"encode {name}", ["encode", m[name], "--input", f["good.txt"], "--output", f"{out}/{name}.npy"],
            ERROR)
    add("train from an ONNX-only folder",
        ["train", "--model", m["onnx_only"], "--train-file", f["good.txt"], "--output", f"{out}/t", *fast],
        ERROR)
    train = ["train", "--model", good_model, "--train-file"]
    add("train --dev-task with constant labels",
        [*train, f["good.txt"], "--output", f"{out}/dev", "--dev-task", "STS-B", "--data-dir",
         f["data_dir_constant"], *fast], ERROR)
    add("train --max-steps beyond the data says so",
        [*train, f["good.txt"], "--output", f"{out}/steps", *fast, "--max-steps", "1000"], OK,
        _expect_in("out", "--max-steps 1000 was not reached"))
    for objective in ("cosent", "angle", "sbert_softmax"):
        add(f"train {objective} on equal labels",
            [*train, f["pairs_equal.data"], "--objective", objective, "--output", f"{out}/{objective}",
             *fast], ERROR)
    add("train angle on equal labels, streamed",
        [*train, f["pairs_equal.data"], "--objective", "angle", "--streaming", "--output", f"{out}/angle_s",
         *fast], ERROR)
    add("whiten identical lines", ["whiten", good_model, "--corpus", f["identical.txt"], "--output",
                                   f"{out}/wh"], ERROR)
    add("index build --from-vectors with a shard missing",
        ["index", "build", good_model, "--from-vectors", _shards_with_a_gap(work, good_model, f["big.txt"]),
         "--output", f"{out}/ix_gap"], ERROR)
    resume = [*train, f["good.txt"], "--output", f"{out}/resume", "--epochs", "1", "--batch-size", "2",
              "--eval-steps", "0", "--checkpoint-steps", "1", "--dropout", "0.1"]
    _killed_training(resume, Path(out, "resume", "checkpoint-last", "state.pt"))
    add("train resumes a checkpoint under another --dropout", [*resume, "--dropout", "0.3"], ERROR)
    if port is not None:
        add("encode --ray at an address that is not Ray",
            [*encode, f["good.txt"], "--output", f"{out}/ray", "--ray", f"127.0.0.1:{port}"], ERROR)
    rerank = ["rerank", "train", "--model", good_model, "--epochs", "1", "--batch-size", "2", "--output"]
    for name, data, loss in [("bce on equal labels", f["pairs_equal.data"], "bce"),
                             ("listwise on pairs without negatives", f["pairs.data"], "listwise"),
                             ("on an empty file", f["empty.txt"], "bce"), ("on a folder", f["a_dir"], "bce")]:
        add(f"rerank train {name}", [*rerank, f"{out}/rr", "--train-file", data, "--loss", loss], ERROR)
    for name in ("t5_config", "onnx_only"):
        add(f"rerank train from {name}", ["rerank", "train", "--model", m[name], "--train-file",
                                          f["pairs.data"], "--output", f"{out}/rr_{name}"], ERROR)
    add("rerank score with a bi-encoder",
        ["rerank", "score", good_model, "-q", "x", "--texts", f["good.txt"]], ERROR)
    add("rerank score of an empty texts file", ["rerank", "score", _reranker(work, good_model), "-q", "x",
                                                "--texts", f["empty.txt"]], ERROR)
    add("eval --output JSON with an undefined Spearman is strict JSON",
        ["eval", good_model, "--tasks", "STS-B", "--data-dir", f["data_dir_constant"], "--output",
         f"{out}/eval.json"], OK, _strict_json(f"{out}/eval.json"))
    add("export --quantize int8 says nothing through the root logger",
        ["export", good_model, "--output", f"{out}/exported", "--quantize", "int8"], OK,
        _no_root_logger_lines)
    full = f"{out}/full"
    for name, argv in {
        "train": [*train, f["good.txt"], "--output", f"{full}/train", *fast],
        "export": ["export", good_model, "--output", f"{full}/export"],
        "encode .npy": [*encode, f["big.txt"], "--output", f"{full}/v.npy"],
        "encode shards": [*encode, f["big.txt"], "--output", f"{full}/shards", "--shard-rows", "1000"],
        "index build binary": ["index", "build", good_model, "--corpus", f["big.txt"], "--output",
                               f"{full}/ix", "--index-backend", "binary"],
    }.items():
        add(f"{name} over the file-size limit", argv, ERROR, None, LIMIT)
    return cases


def _reranker(work: Path, good_model: str) -> str:
    """A cross-encoder folder (untrained head) for the score cases."""
    from simsent.modeling.cross_encoder import CrossEncoder

    path = work / "reranker"
    if not path.exists():
        CrossEncoder.from_pretrained(good_model, max_len=16, seed=0).save(str(path))
    return str(path)
