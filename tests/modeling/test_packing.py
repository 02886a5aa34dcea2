"""Packed forward: the same embeddings, loss and gradients as the padded batch (CPU is enough)."""

from __future__ import annotations

import pytest
import torch

from simsent.modeling.packing import pack_plan
from simsent.modeling.sentence_encoder import SentenceEncoder

TEXTS = ["今天天气不错", "你好", "我想去北京吃饭可以吗", "花呗怎么还款", "银行卡密码修改了吗", "好"] * 3


def test_the_plan_places_every_sentence_once_within_its_row():
    lengths = [5, 3, 9, 1, 7, 2, 2, 8]
    plan = pack_plan(lengths, row_tokens=10)
    taken: set[tuple[int, int]] = set()
    for length, (row, offset) in zip(lengths, plan.starts, strict=True):
        slots = {(row, offset + j) for j in range(length)}
        assert not slots & taken and offset + length <= plan.width
        taken |= slots
    assert plan.rows < len(lengths) and plan.width == 10
    assert pack_plan([70], row_tokens=16).width == 70  # a row is never narrower than a sentence


def _features(model, texts):
    feats = model.tokenize(texts)
    feats["row_lengths"] = feats["attention_mask"].sum(dim=1).tolist()
    return feats


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("pooling", ["cls", "mean", "first_last_avg"])
def test_packed_embeddings_equal_the_padded_ones(tiny_bert, pooling, attention):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling=pooling, max_len=16).eval()
    model.encoder.model.set_attn_implementation(attention)
    feats = _features(model, TEXTS)
    with torch.no_grad():
        padded = model.forward_batch(dict(feats))
        model.forward_pack_tokens = 24  # several sentences per row, several rows
        assert model.can_pack()
        packed = model.forward_batch(dict(feats))
    torch.testing.assert_close(packed, padded, atol=1e-5, rtol=1e-4)


def test_packed_simcse_loss_and_gradients_equal_the_padded_ones(tiny_bert):
    from simsent.losses import objective_class

    def loss_and_grads(pack):
        torch.manual_seed(0)
        model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.0, max_len=16)  # no dropout: same maths
        model.forward_pack_tokens = pack
        assert model.can_pack() == bool(pack)
        objective = objective_class("simcse")(model)
        feats = _features(model, TEXTS)
        feats = {k: (torch.cat([v, v]) if torch.is_tensor(v) else v + v) for k, v in feats.items()}
        loss = objective([feats], None)
        loss.backward()
        return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    loss_padded, grads_padded = loss_and_grads(None)
    loss_packed, grads_packed = loss_and_grads(32)
    torch.testing.assert_close(loss_packed, loss_padded, atol=1e-5, rtol=1e-5)
    assert grads_packed.keys() == grads_padded.keys() and grads_padded
    for name, grad in grads_padded.items():
        torch.testing.assert_close(grads_packed[name], grad, atol=1e-5, rtol=1e-4, msg=name)


def test_pooler_pooling_is_not_packed(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="pooler", max_len=16)
    model.forward_pack_tokens = 32
    assert not model.can_pack()


def test_training_with_packing_gives_the_padded_weights(tiny_bert, tmp_path):
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    def train(out, pack):
        model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.0, max_len=16)
        args = TrainingArguments(
            output_dir=str(tmp_path / out),
            batch_size=6,
            eval_steps=0,
            checkpoint_steps=0,
            show_progress_bar=False,
            pack_tokens=pack,
            device="cpu",
        )
        Trainer(model, args, TEXTS).train()
        assert model.forward_pack_tokens == pack
        return model.state_dict()

    padded, packed = train("padded", None), train("packed", 32)
    for name, value in padded.items():
        torch.testing.assert_close(packed[name], value, atol=1e-5, rtol=1e-4, msg=name)
