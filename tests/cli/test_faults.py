"""Real faults: kill -9 and Ctrl-C during training and pretraining, then resume (same weights as an
uninterrupted run); two concurrent index writers (no lost row); a malicious checkpoint (nothing runs)."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

SENTS = [f"{a}{b}{c}" for a in "今天我想北京花呗银行" for b in "天气吃饭额度还款密码" for c in "不错很好了吗"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def _train_argv(model: str, corpus: Path, out: Path) -> list[str]:
    return [
        "train",
        "--model",
        model,
        "--train-file",
        str(corpus),
        "--output",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "3",
        "--max-len",
        "16",
        "--dropout",
        "0.1",
        "--lr",
        "1e-3",
        "--device",
        "cpu",
    ]


def _pretrain_argv(corpus: Path, out: Path) -> list[str]:
    return [
        "pretrain",
        "--corpus",
        str(corpus),
        "--output",
        str(out),
        "--layers",
        "1",
        "--hidden",
        "16",
        "--heads",
        "2",
        "--batch-size",
        "4",
        "--max-steps",
        "60",
        "--checkpoint-steps",
        "3",
        "--no-progress",
        "--device",
        "cpu",
    ]


def _interrupt(argv: list[str], checkpoint: Path, how: int) -> int:
    """Start ``simsent argv`` in its own process, send ``how`` once ``checkpoint`` exists; its exit code."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simsent.cli.main", *argv],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not checkpoint.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted: " + proc.stderr.read()[-500:]
    proc.send_signal(how)
    proc.communicate(timeout=120)
    assert checkpoint.exists()
    return proc.returncode


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(folder / "model.safetensors"))


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=0, msg=k)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "sents.txt"
    path.write_text("\n".join(SENTS) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_training_resumes_to_the_uninterrupted_weights(tiny_bert, corpus, tmp_path, cli, how):
    full = tmp_path / "full"
    assert cli(*_train_argv(tiny_bert, corpus, full)).code == 0
    cut = tmp_path / "cut"
    code = _interrupt(_train_argv(tiny_bert, corpus, cut), cut / "checkpoint-last" / "state.pt", how)
    assert code == (130 if how == signal.SIGINT else -signal.SIGKILL)
    assert not (cut / "model.safetensors").exists()  # it really stopped before the end
    r = cli(*_train_argv(tiny_bert, corpus, cut))
    assert r.code == 0, r.err
    _assert_same(_weights(full), _weights(cut))


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_pretraining_resumes_to_the_uninterrupted_weights(corpus, tmp_path, cli, how):
    from simsent.pretrain.mlm import CHECKPOINT_FILE

    full = tmp_path / "full"
    assert cli(*_pretrain_argv(corpus, full)).code == 0
    cut = tmp_path / "cut"
    code = _interrupt(_pretrain_argv(corpus, cut), cut / CHECKPOINT_FILE, how)
    assert code == (130 if how == signal.SIGINT else -signal.SIGKILL)
    r = cli(*_pretrain_argv(corpus, cut))
    assert r.code == 0, r.err
    _assert_same(_weights(full), _weights(cut))


def test_a_checkpoint_of_other_settings_is_refused(tiny_bert, corpus, tmp_path, cli):
    cut = tmp_path / "cut"
    _interrupt(_train_argv(tiny_bert, corpus, cut), cut / "checkpoint-last" / "state.pt", signal.SIGKILL)
    r = cli(*_train_argv(tiny_bert, corpus, cut), "--batch-size", "8")
    assert r.code == 2 and "batch_size 4 -> 8" in r.err and "--no-resume" in r.err
    assert cli(*_train_argv(tiny_bert, corpus, cut), "--batch-size", "8", "--no-resume").code == 0


@pytest.mark.parametrize("streamed", [False, True], ids=["in-memory", "streamed"])
def test_a_checkpoint_of_another_dropout_is_refused(tiny_bert, corpus, tmp_path, cli, streamed):
    cut = tmp_path / "cut"
    stream = ["--streaming"] if streamed else []
    _interrupt([*_train_argv(tiny_bert, corpus, cut), *stream], cut / "checkpoint-last" / "state.pt",
               signal.SIGKILL)
    r = cli(*_train_argv(tiny_bert, corpus, cut), *stream, "--dropout", "0.3")
    assert r.code == 2 and "dropout 0.1 -> 0.3" in r.err and "--no-resume" in r.err, r.err
    r = cli(*_train_argv(tiny_bert, corpus, cut), *stream, "--forward-chunk-size", "2")
    assert r.code == 2 and "forward_chunk_size None -> 2" in r.err, r.err
    r = cli(*_train_argv(tiny_bert, corpus, cut), *stream, "--eval-steps", "5")  # does not change the run
    assert r.code == 0, r.err


class _Exploit:
    """Unpickling this calls ``Path.touch`` on a marker: it proves whether a loader ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_malicious_checkpoint_runs_nothing(tiny_bert, corpus, tmp_path, cli):
    from simsent.pretrain.mlm import CHECKPOINT_FILE

    marker = tmp_path / "pwned"
    payload = {"global_step": 1, "exploit": _Exploit(marker)}
    train_out, pretrain_out = tmp_path / "t", tmp_path / "p"
    (train_out / "checkpoint-last").mkdir(parents=True)
    pretrain_out.mkdir()
    for path in (train_out / "checkpoint-last" / "state.pt", pretrain_out / CHECKPOINT_FILE):
        torch.save(payload, path)  # a real torch checkpoint whose pickle would call Path.touch
    with open(tmp_path / "plain.pkl", "wb") as f:
        pickle.dump(payload, f)
    r = cli(*_train_argv(tiny_bert, corpus, train_out))
    assert r.code == 2 and "checkpoint" in r.err and "--no-resume" in r.err
    r = cli(*_pretrain_argv(corpus, pretrain_out))
    assert r.code == 2 and "checkpoint" in r.err
    assert not marker.exists()
    with open(tmp_path / "plain.pkl", "rb") as f:
        pickle.load(f)  # the payload is live: plain unpickling does run its code
    assert marker.exists()


def test_two_concurrent_index_writers_lose_no_row(tiny_bert, tmp_path, cli):
    model = tmp_path / "model"
    from simsent.modeling.sentence_encoder import SentenceEncoder

    SentenceEncoder.from_pretrained(tiny_bert, max_len=16).save(str(model))
    seed = tmp_path / "seed.txt"
    seed.write_text("种子\n", encoding="utf-8")
    index = tmp_path / "index"
    assert cli("index", "build", model, "--corpus", seed, "--output", index).code == 0
    parts = []
    for w in range(2):
        part = tmp_path / f"part{w}.txt"
        part.write_text("".join(f"writer{w} 第{i}条\n" for i in range(200)), encoding="utf-8")
        parts.append(part)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simsent.cli.main",
                "-q",
                "index",
                "add",
                str(index),
                "--corpus",
                str(p),
                "--chunk-size",
                "50",
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in parts
    ]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    from simsent.search import VectorIndex

    assert len(VectorIndex.load(str(index))) == 1 + 400


def test_max_len_is_clamped_to_the_position_table(make_tiny_bert, tmp_path, cli):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    base = make_tiny_bert(str(tmp_path / "base"), max_positions=24)
    short = SentenceEncoder.from_pretrained(base, max_len=64)
    assert short.encoder.max_len == 24  # clamped, with a warning
    short.save(str(tmp_path / "short"))
    corpus = tmp_path / "long.txt"
    corpus.write_text("\n".join("今天天气不错" * 20 + str(i) for i in range(12)) + "\n", encoding="utf-8")
    r = cli(
        "train",
        "--model",
        tmp_path / "short",
        "--train-file",
        corpus,
        "--output",
        tmp_path / "out",
        "--max-len",
        "128",
        "--batch-size",
        "4",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
    )
    assert r.code == 0, r.err
    trained = SentenceEncoder.load(str(tmp_path / "out"))
    assert trained.encoder.max_len == 24  # the saved model records the clamped value
    assert trained.encode(["今天" * 400]).shape == (1, 32)


def _small_disk_works() -> bool:
    try:
        probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _run_out_of_space(argv: list[str], folder: Path, fault: str) -> subprocess.CompletedProcess:
    """``simsent argv`` writing into ``folder``, a 64 KiB file system of its own (``enospc``: a tmpfs in a
    private mount namespace), or with files capped at 64 KiB (``efbig``: ulimit -f)."""
    import resource

    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "simsent.cli.main", *argv]
    if fault == "enospc":
        if not _small_disk_works():
            pytest.skip("unshare cannot mount a small tmpfs here (no user namespaces); the efbig case runs")
        cmd = ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"',
               str(folder), *cmd]

    def limit() -> None:
        if fault == "efbig":
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))

    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300, preexec_fn=limit)


def _disk_full_cases(tiny_bert: str, corpus: Path, out: Path) -> dict[str, list[str]]:
    return {
        "train": _train_argv(tiny_bert, corpus, out / "model"),
        "export": ["export", tiny_bert, "--output", str(out / "model"), "--quantize", "int8"],
        "encode npy": ["encode", tiny_bert, "--input", str(corpus), "--output", str(out / "v.npy")],
        "encode shards": ["encode", tiny_bert, "--input", str(corpus), "--output", str(out / "model"),
                          "--shard-rows", "600"],
        "index build": ["index", "build", tiny_bert, "--corpus", str(corpus), "--output", str(out / "model"),
                        "--index-backend", "binary"],
    }


@pytest.mark.parametrize("fault", ["enospc", "efbig"])
@pytest.mark.parametrize("command", ["train", "export", "encode npy", "encode shards", "index build"])
def test_a_full_disk_is_one_line_and_leaves_nothing_behind(tiny_bert, tmp_path, command, fault):
    big = tmp_path / "big.txt"  # 3,000 rows: 384 KB of vectors (96 KB as int8), more than the 64 KiB allowed
    big.write_text("".join(f"{SENTS[i % len(SENTS)]}{i}\n" for i in range(3000)), encoding="utf-8")
    out = tmp_path / "disk"
    r = _run_out_of_space(_disk_full_cases(tiny_bert, big, out)[command], out, fault)
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert len(errors) == 1 and f"cannot write {out}/" in errors[0], r.stderr[-600:]
    words = {"enospc": "no space left on device", "efbig": "file too large"}[fault]
    assert words in errors[0] or "cut short" in errors[0], errors[0]
    if fault == "efbig":  # the tmpfs is gone with its namespace; a capped write leaves what it left here
        left = [p.name for p in out.iterdir()]
        assert not [n for n in left if n.endswith(".lock") or n.startswith(".")], left
        assert command.startswith("encode shards") or not left, left


def test_a_full_disk_keeps_the_previous_model(tiny_bert, corpus, tmp_path, cli):
    out = tmp_path / "disk"
    argv = _train_argv(tiny_bert, corpus, out / "model")
    assert cli(*argv, "--no-resume").code == 0
    before = _weights(out / "model")
    r = _run_out_of_space([*argv, "--no-resume", "--lr", "1e-2"], out, "efbig")
    assert r.returncode == 2 and ("file too large" in r.stderr or "cut short" in r.stderr), r.stderr[-600:]
    _assert_same(before, _weights(out / "model"))
    assert sorted(p.name for p in out.iterdir()) == ["model"]
