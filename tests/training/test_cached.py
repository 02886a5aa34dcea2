"""Cached contrastive steps (GradCache): the same loss, gradients and trained weights as the plain step,
and the second pass sees the first pass's dropout masks."""

from __future__ import annotations

import pytest
import torch

from simsent.errors import ConfigError
from simsent.losses.simcse import UnsupervisedSimCSELoss
from simsent.losses.supervised_simcse import SupervisedSimCSELoss
from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.cached import cached_step
from simsent.training.trainer import Trainer

SENTS = [f"{a}{b}" for a in "今天我想北京花呗银行手机" for b in ["天气不错", "去吃饭", "额度", "还款了"]]


def _features(model, texts, views=1):
    batch = model.tokenize(texts * views)
    batch["row_lengths"] = batch["attention_mask"].sum(dim=1).tolist()
    return batch


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _model(tiny_bert, dropout):
    torch.manual_seed(0)
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", dropout=dropout)
    model.train()
    model.forward_chunk_size = 4  # the forward policy's own chunks inside each cached chunk
    return model


@pytest.mark.parametrize(
    "make, views, columns",
    [
        (lambda m: UnsupervisedSimCSELoss(m, variant="paper"), 2, 1),
        (lambda m: UnsupervisedSimCSELoss(m, variant="symmetric"), 2, 1),
        (lambda m: SupervisedSimCSELoss(m, hard_negative_weight=0.5), 1, 3),
    ],
)
@pytest.mark.parametrize("chunk", [1, 3, 7, 100])
def test_loss_and_every_gradient_equal_the_plain_step(tiny_bert, make, views, columns, chunk):
    model = _model(tiny_bert, dropout=0.0)
    objective = make(model)
    texts = SENTS[:10]
    features = [_features(model, texts[i:] + texts[:i], views) for i in range(columns)]
    plain = objective(features, None)
    plain.backward()
    expected = _grads(model)
    model.zero_grad()
    cached = cached_step(objective, features, None, chunk)
    torch.testing.assert_close(cached, plain.detach(), rtol=1e-6, atol=1e-7)
    got = _grads(model)
    assert got.keys() == expected.keys()
    # 1e-6 relative in norm; a gradient that is float noise (e.g. attention key biases, ~1e-11) is
    # compared against 1e-7 of the largest gradient instead
    scale = max(g.abs().max().item() for g in expected.values())
    for name, grad in expected.items():
        error = (got[name] - grad).norm().item()
        assert error <= 1e-6 * grad.norm().item() + 1e-7 * scale, (name, error, grad.norm().item())


def test_the_second_pass_reproduces_the_first_pass_dropout(tiny_bert):
    model = _model(tiny_bert, dropout=0.3)
    objective = UnsupervisedSimCSELoss(model)
    seen: list[torch.Tensor] = []
    embed = objective.embed

    def recording_embed(features):
        out = embed(features)
        seen.append(out.detach().clone())
        return out

    objective.embed = recording_embed
    features = [_features(model, SENTS[:9], views=2)]  # 18 rows in chunks of 4: 5 chunks
    cached_step(objective, features, None, chunk=4)
    first, second = seen[:5], seen[5:]
    assert len(second) == 5
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(first[0][:4], first[2][:4])  # and the masks do differ between views


def test_trained_weights_equal_the_plain_runs(tiny_bert, tmp_path):
    weights = []
    for cache_chunk in (None, 3):
        model = _model(tiny_bert, dropout=0.0)
        args = TrainingArguments(
            output_dir=str(tmp_path / f"out-{cache_chunk}"),
            batch_size=8,
            epochs=1,
            eval_steps=0,
            checkpoint_steps=0,
            show_progress_bar=False,
            cache_chunk=cache_chunk,
            device="cpu",
        )
        Trainer(model, args, SENTS).train()
        weights.append({n: p.detach().clone() for n, p in model.named_parameters()})
    for name, w in weights[0].items():
        torch.testing.assert_close(weights[1][name], w, rtol=1e-4, atol=1e-6, msg=name)


def test_an_objective_without_in_batch_negatives_cannot_cache(tiny_bert, tmp_path):
    args = TrainingArguments(output_dir=str(tmp_path / "o"), objective="cosent", cache_chunk=4)
    pairs = zip(SENTS, SENTS[1:], strict=False)
    rows = [{"sentence1": a, "sentence2": b, "score": i % 2} for i, (a, b) in enumerate(pairs)]
    with pytest.raises(ConfigError, match="--cache-chunk needs an objective with in-batch negatives"):
        Trainer(SentenceEncoder.from_pretrained(tiny_bert), args, rows)


def test_cli_trains_with_cached_steps_and_refuses_them_for_cosent(tiny_bert, tmp_path, cli):
    (tmp_path / "s.txt").write_text("\n".join(SENTS), encoding="utf-8")
    base = [
        "train",
        "--model",
        tiny_bert,
        "--train-file",
        tmp_path / "s.txt",
        "--batch-size",
        "16",
        "--eval-steps",
        "0",
        "--checkpoint-steps",
        "0",
        "--cache-chunk",
        "4",
    ]
    r = cli(*base, "--output", tmp_path / "a")
    assert r.code == 0 and "trained 3 steps" in r.out, r.err
    (tmp_path / "p.data").write_text(
        "".join(f"{a}\t{b}\t{i % 2}\n" for i, (a, b) in enumerate(zip(SENTS, SENTS[1:], strict=False))),
        encoding="utf-8",
    )
    r = cli(
        *base[:3],
        "--train-file",
        tmp_path / "p.data",
        *base[5:],
        "--objective",
        "cosent",
        "--output",
        tmp_path / "b",
    )
    assert r.code == 2 and "--cache-chunk needs an objective with in-batch negatives" in r.err, r.err
