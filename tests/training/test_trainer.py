import json
import os
from pathlib import Path

import pytest

from simsent.errors import DataError
from simsent.evaluation.sts import STSEvaluator
from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.checkpoint import load_checkpoint
from simsent.training.trainer import CHECKPOINT, CHECKPOINT_STATE, Trainer

SENTS = [
    f"{a}{b}"
    for a in "今天我想北京花呗银行手机"
    for b in ["天气不错", "去吃饭", "额度", "还款了", "号码修改"]
]
PAIRS = [
    {"sentence1": "今天天气不错", "sentence2": "今天天气很好", "score": 5},
    {"sentence1": "我想去北京", "sentence2": "花呗额度", "score": 0},
    {"sentence1": "怎么修改密码", "sentence2": "密码怎么修改", "score": 4},
    {"sentence1": "银行卡还款", "sentence2": "手机号码", "score": 1},
]


def _args(tmp_path, **kw):
    base = dict(
        output_dir=str(tmp_path / "out"),
        batch_size=8,
        epochs=2,
        eval_steps=3,
        checkpoint_steps=2,
        show_progress_bar=False,
    )
    base.update(kw)
    return TrainingArguments(**base)


def test_training_lowers_loss_and_saves_best(tiny_bert, tmp_path):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", dropout=0.05)
    args = _args(tmp_path, epochs=3, lr=1e-3, logging_steps=1)
    result = Trainer(model, args, SENTS, evaluator=STSEvaluator(PAIRS, "toy")).train()
    out = args.output_dir
    assert result["global_step"] == 3 * (len(SENTS) // 8)
    assert os.path.isfile(os.path.join(out, "modules.json"))
    saved = json.loads(Path(out, "training_args.json").read_text())
    assert saved["batch_size"] == 8 and saved["lr"] == 1e-3
    assert not os.path.exists(os.path.join(out, CHECKPOINT))
    card = Path(out, "README.md").read_text(encoding="utf-8")
    assert "Training arguments" in card and "spearman" in card
    losses = [v for _, v in result["loss_history"]]
    assert sum(losses[-5:]) < sum(losses[:5]) - 1.0  # 21 steps: about 1.95 -> 1.45 on average
    assert os.path.isfile(os.path.join(out, "training_curve.png"))
    best = max(h["spearman"] for h in result["history"])
    assert result["best_score"] == pytest.approx(best)


def test_interrupted_training_keeps_checkpoint_and_resumes(tiny_bert, tmp_path):
    class Boom(Exception):
        pass

    calls = {"n": 0}

    class Crashing(STSEvaluator):
        def __call__(self, model):
            calls["n"] += 1
            if calls["n"] == 2:  # first call is before training, second at step 3
                raise Boom()
            return super().__call__(model)

    args = _args(tmp_path)
    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    with pytest.raises(Boom):
        Trainer(model, args, SENTS, evaluator=Crashing(PAIRS, "toy")).train()
    state = load_checkpoint(str(Path(args.output_dir, CHECKPOINT, CHECKPOINT_STATE)))
    assert state["global_step"] == 3
    model2 = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    result = Trainer(model2, args, SENTS, evaluator=STSEvaluator(PAIRS, "toy")).train()
    assert result["global_step"] == 2 * (len(SENTS) // 8)
    assert result["history"][0]["step"] == 0  # history restored from the checkpoint


def test_resume_gives_same_weights_as_uninterrupted(tiny_bert, tmp_path):
    import torch

    full = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    Trainer(full, _args(tmp_path / "a", eval_steps=0, checkpoint_steps=0), SENTS).train()

    class Stop(Exception):
        pass

    part = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    args = _args(tmp_path / "b", eval_steps=0, checkpoint_steps=2)
    trainer = Trainer(part, args, SENTS)
    orig = trainer._save_checkpoint

    def save_then_stop(acc, epoch, step, **kw):
        orig(acc, epoch, step, **kw)
        if trainer.global_step == 4:
            raise Stop()

    trainer._save_checkpoint = save_then_stop
    with pytest.raises(Stop):
        trainer.train()
    resumed = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
    Trainer(resumed, args, SENTS).train()
    for (n, p), (_, q) in zip(full.named_parameters(), resumed.named_parameters(), strict=False):
        torch.testing.assert_close(p, q, atol=1e-5, rtol=1e-4, msg=n)


def test_no_training_rows_is_an_error(tiny_bert, tmp_path):
    with pytest.raises(DataError):
        Trainer(SentenceEncoder.from_pretrained(tiny_bert), _args(tmp_path), [])


def test_saving_the_best_model_keeps_the_checkpoint_beside_it(tiny_bert, tmp_path):
    """A best-model save replaces the model files atomically but must not delete checkpoint-last."""
    args = _args(tmp_path, eval_steps=3, checkpoint_steps=2, epochs=1)
    trainer = Trainer(
        SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1),
        args,
        SENTS,
        evaluator=STSEvaluator(PAIRS, "toy"),
    )
    original, seen = trainer._save_model, []

    def save_and_look(metrics):
        original(metrics)
        seen.append(os.path.isfile(os.path.join(args.output_dir, CHECKPOINT, CHECKPOINT_STATE)))

    trainer._save_model = save_and_look
    trainer.train()
    assert seen and seen[0] is True  # the step-2 checkpoint survived the step-3 best-model save


@pytest.mark.parametrize("setting,cpu,gpu", [(None, 16, None), (0, None, None), (5, 5, 5)])
def test_forward_chunk_size_defaults_to_small_chunks_on_cpu(tiny_bert, tmp_path, setting, cpu, gpu):
    import torch

    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    trainer = Trainer(model, _args(tmp_path, forward_chunk_size=setting), SENTS)
    assert trainer._chunk_size(torch.device("cpu")) == cpu
    assert trainer._chunk_size(torch.device("cuda")) == gpu


def test_a_lower_is_better_metric_keeps_the_lowest(tiny_bert, tmp_path):
    class Loss:
        name, primary_metric, greater_is_better = "toy", "loss", False

        def __init__(self):
            self.values = iter([5.0, 3.0, 4.0, 2.5] + [9.0] * 100)

        def __call__(self, model):
            return {"loss": next(self.values)}

    args = _args(tmp_path, eval_steps=1, checkpoint_steps=0, epochs=1)
    result = Trainer(SentenceEncoder.from_pretrained(tiny_bert), args, SENTS, evaluator=Loss()).train()
    assert result["best_score"] == 2.5 == min(h["loss"] for h in result["history"])


def test_texts_are_tokenised_once_and_train_as_per_batch_tokenising(tiny_bert, tmp_path, monkeypatch):
    import torch

    from simsent.data import pretokenized as pretokenized_module

    calls: list[int] = []

    def trained(cache: bool) -> SentenceEncoder:
        model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)
        encoder_tokenize = model.encoder.tokenize
        model.encoder.tokenize = lambda texts: calls.append(len(texts)) or encoder_tokenize(texts)
        if not cache:  # the old way: the collator tokenises every batch
            monkeypatch.setattr(pretokenized_module, "PretokenizedTexts",
                                lambda tokenize, texts, **kw: tokenize)
        calls.clear()
        args = _args(tmp_path / str(cache), eval_steps=0, checkpoint_steps=0, device="cpu")  # bit-exact
        Trainer(model, args, SENTS).train()
        return model

    once = trained(cache=True)
    assert calls == [len(SENTS)]  # one call for every text of both epochs
    per_batch = trained(cache=False)
    assert len(calls) == 2 * (len(SENTS) // 8)
    for (n, p), (_, q) in zip(once.named_parameters(), per_batch.named_parameters(), strict=True):
        assert torch.equal(p, q), n


def test_one_distinct_sentence_cannot_train(tiny_bert, tmp_path):
    with pytest.raises(DataError, match="nothing to learn from: the training data holds 1 distinct"):
        Trainer(SentenceEncoder.from_pretrained(tiny_bert), _args(tmp_path), ["同一句话"] * 10)
    assert not (tmp_path / "out").exists()


def test_a_failed_run_leaves_no_empty_output_folder(tiny_bert, tmp_path, monkeypatch):
    trainer = Trainer(SentenceEncoder.from_pretrained(tiny_bert), _args(tmp_path), SENTS)
    monkeypatch.setattr(trainer, "_loader", lambda *a, **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        trainer.train()
    assert not (tmp_path / "out").exists()


def test_two_runs_into_one_output_refuse_the_second(tiny_bert, tmp_path, cli):
    from simsent._io import folder_lock

    (tmp_path / "s.txt").write_text("\n".join(SENTS), encoding="utf-8")
    with folder_lock(tmp_path / "o", "train"):
        r = cli("train", "--model", tiny_bert, "--train-file", tmp_path / "s.txt", "--output", tmp_path / "o")
    assert r.code == 2 and "in use by another train run" in r.err


def test_a_full_disk_during_save_keeps_the_old_model_and_no_temp_folder(tiny_bert, tmp_path, monkeypatch):
    import errno

    import simsent.modeling.dense as dense_module

    model = SentenceEncoder.from_pretrained(tiny_bert)
    model.save(str(tmp_path / "m"))
    before = sorted(os.listdir(tmp_path / "m"))
    model.dense.append(dense_module.DenseLayer(32, 8))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(dense_module, "save_file", full)
    with pytest.raises(DataError, match=r"cannot write .*m: no space left on device .* needed\)"):
        model.save(str(tmp_path / "m"))
    assert sorted(os.listdir(tmp_path / "m")) == before
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_max_steps_stops_the_run_and_the_schedule_spans_them(tiny_bert, tmp_path):
    args = _args(tmp_path, eval_steps=0, checkpoint_steps=0, epochs=3, max_steps=5)
    trainer = Trainer(SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1), args, SENTS)
    result = trainer.train()
    assert result["global_step"] == 5  # 60 rows / 8: 7 steps an epoch, 21 in all without the cap
    assert trainer._prepared["scheduler"].get_last_lr()[0] == 0.0  # decayed to zero at step 5
