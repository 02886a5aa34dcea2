"""Training launched as two processes (torchrun, gloo on the CPU) trains the same model as one process
with the same global batches: in-batch negatives gathered across processes, the gradient scaled back;
cached steps and streamed files too."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

#: ``python -m simsent.cli.main`` launched as two processes by torchrun (gloo on the CPU)
TWO_PROCESSES = [
    sys.executable,
    "-m",
    "torch.distributed.run",
    "--standalone",
    "--nproc_per_node",
    "2",
    "-m",
    "simsent.cli.main",
]
SENTS = [f"{a}{b}" for a in "今天我想北京花呗银行手机" for b in ["天气不错", "去吃饭", "额度", "还款了"]]


def _train(argv: list[str], env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)


def _weights(path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(os.path.join(path, "model.safetensors"))


@pytest.mark.parametrize(
    "extra",
    [[], ["--cache-chunk", "3"], ["--streaming", "--shuffle-buffer", "16"]],
    ids=["plain", "cached", "streaming"],
)
def test_two_processes_train_the_one_process_model(tiny_bert, tmp_path, extra):
    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    (tmp_path / "s.txt").write_text("\n".join(SENTS), encoding="utf-8")
    args = [
        "train",
        "--model",
        tiny_bert,
        "--train-file",
        str(tmp_path / "s.txt"),
        "--batch-size",
        "8",
        "--epochs",
        "1",
        "--dropout",
        "0",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
        "--device",
        "cpu",
        "--seed",
        "3",
        *extra,
    ]
    one = _train([sys.executable, "-m", "simsent.cli.main", *args, "--output", str(tmp_path / "one")])
    assert one.returncode == 0, one.stderr[-2000:]
    two = _train([*TWO_PROCESSES, *args, "--output", str(tmp_path / "two")])
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("trained 6 steps") == 1  # the first process reports; 48 sentences / 8
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5, msg=name)
    start = _weights(tiny_bert)
    moved = max((a[n] - start[n]).abs().max().item() for n in a if n in start)
    assert moved > 1e-4  # the runs did train


def test_a_checkpoint_of_another_process_count_is_refused(tiny_bert, tmp_path, monkeypatch):
    from simsent.errors import ConfigError
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    monkeypatch.setenv("WORLD_SIZE", "1")
    args = TrainingArguments(output_dir=str(tmp_path / "o"), batch_size=8, show_progress_bar=False)
    trainer = Trainer(SentenceEncoder.from_pretrained(tiny_bert), args, SENTS)
    trainer._check_resume_key(dict(trainer._resume_key()))  # the same run resumes
    with pytest.raises(ConfigError, match="world_size 2 -> 1"):
        trainer._check_resume_key({**trainer._resume_key(), "world_size": 2})


def test_a_killed_two_process_run_resumes_to_the_same_weights(tiny_bert, tmp_path):
    import signal
    import time

    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    corpus = tmp_path / "s.txt"
    corpus.write_text("\n".join(SENTS * 4), encoding="utf-8")  # 192 rows, 24 steps an epoch
    launch = [
        *TWO_PROCESSES,
        "train",
        "--model",
        tiny_bert,
        "--train-file",
        str(corpus),
        "--batch-size",
        "8",
        "--epochs",
        "2",
        "--dropout",
        "0",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "4",
        "--device",
        "cpu",
        "--seed",
        "3",
        "--no-dedup",
    ]
    full = _train([*launch, "--output", str(tmp_path / "full")])
    assert full.returncode == 0, full.stderr[-2000:]
    cut = tmp_path / "cut"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [*launch, "--output", str(cut)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    state = cut / "checkpoint-last" / "state.pt"
    deadline = time.time() + 300
    while not state.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    time.sleep(0.3)  # into the steps after the checkpoint
    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both workers, at once
    proc.wait(timeout=60)
    assert state.exists() and not (cut / "model.safetensors").exists()
    resumed = _train([*launch, "--output", str(cut)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = _weights(tmp_path / "full"), _weights(cut)
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-5, atol=1e-6, msg=name)


def test_another_process_count_resumes_when_allowed(tiny_bert, tmp_path, monkeypatch):
    from simsent.errors import ConfigError
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.checkpoint import load_checkpoint, save_checkpoint
    from simsent.training.trainer import CHECKPOINT, CHECKPOINT_STATE, Trainer

    monkeypatch.setenv("WORLD_SIZE", "1")

    def trainer(**kw):
        args = TrainingArguments(output_dir=str(tmp_path / "o"), batch_size=8, show_progress_bar=False,
                                 checkpoint_steps=2, eval_steps=0, **kw)
        return Trainer(SentenceEncoder.from_pretrained(tiny_bert), args, SENTS)

    first = trainer()
    save = first._save_checkpoint

    def save_then_stop(acc, epoch, step, **kw):
        save(acc, epoch, step, **kw)
        raise KeyboardInterrupt

    first._save_checkpoint = save_then_stop
    with pytest.raises(KeyboardInterrupt):
        first.train()
    path = tmp_path / "o" / CHECKPOINT / CHECKPOINT_STATE
    state = load_checkpoint(str(path))
    state["resume_key"]["world_size"] = 2  # as if written by two processes
    save_checkpoint(str(path), state)
    with pytest.raises(ConfigError, match="world_size 2 -> 1"):
        trainer().train()
    assert trainer(allow_world_size_change=True).train()["global_step"] == len(SENTS) // 8


def test_a_batch_that_does_not_split_over_the_processes_is_one_line_from_the_first_process(
    tiny_bert, tmp_path, cli, monkeypatch
):
    (tmp_path / "s.txt").write_text("\n".join(SENTS), encoding="utf-8")
    argv = ["train", "--model", tiny_bert, "--train-file", tmp_path / "s.txt", "--output", tmp_path / "o",
            "--batch-size", "9"]
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    first = cli(*argv)
    assert first.code == 2 and first.err.strip().splitlines() == [
        "error: --batch-size 9 does not split over the 2 launched processes; give a multiple of the "
        "process count"
    ]
    monkeypatch.setenv("RANK", "1")
    other = cli(*argv)
    assert other.code == 2 and other.err.strip() == ""
    assert not (tmp_path / "o").exists()
