"""The forward policy: length-sorted chunked encoder calls give the whole batch's embeddings and
gradients."""

import pytest
import torch

from simsent.data.collator import TextBatchCollator
from simsent.losses.simcse import UnsupervisedSimCSELoss
from simsent.modeling.encoders.textcnn import build_textcnn_model
from simsent.modeling.sentence_encoder import SentenceEncoder, chunked_forward

TEXTS = ["今天天气不错", "你好", "花呗怎么还款呢我想知道", "再见", "银行卡"]


def _model(kind, tiny_bert):
    if kind == "transformer":
        return SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    return build_textcnn_model(TEXTS, emb_dim=8, filters=4, seed=0)


@pytest.mark.parametrize("kind", ["transformer", "textcnn"])
@pytest.mark.parametrize("chunk", [1, 3, 4, 100])
def test_chunked_embed_equals_one_call(tiny_bert, kind, chunk):
    model = _model(kind, tiny_bert)
    model.eval()  # no dropout, so the two paths must agree
    features = model.tokenize(TEXTS + TEXTS)
    assert (features["attention_mask"] == 0).any()  # padding is there to be trimmed
    loss = UnsupervisedSimCSELoss(model)

    def run(chunk_size):
        model.forward_chunk_size = chunk_size
        emb = loss.embed(dict(features))
        value = loss([dict(features)], None)
        return emb, value, torch.autograd.grad(value, params, allow_unused=True)

    params = [p for p in model.parameters() if p.requires_grad]
    emb_whole, loss_whole, grads_whole = run(None)
    emb_chunked, loss_chunked, grads_chunked = run(chunk)
    assert emb_chunked.shape == emb_whole.shape == (10, emb_whole.shape[1])
    torch.testing.assert_close(emb_chunked, emb_whole, rtol=1e-5, atol=1e-6)  # same rows, same order
    torch.testing.assert_close(loss_chunked, loss_whole, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_whole, grads_chunked, strict=True):
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)


def test_chunks_are_length_sorted_and_trimmed(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    widths = []
    model.encoder.register_forward_pre_hook(lambda _m, args: widths.append(args[0]["input_ids"].shape[1]))
    model.forward_chunk_size = 2
    features = model.tokenize(TEXTS + TEXTS)
    UnsupervisedSimCSELoss(model).embed(dict(features))
    lengths = sorted(features["attention_mask"].sum(1).tolist(), reverse=True)
    assert widths == [int(lengths[i]) for i in range(0, 10, 2)]  # each chunk as wide as its longest row


def test_a_chunk_of_empty_rows_keeps_its_width():
    class Probe(torch.nn.Module):
        def forward(self, features):
            return features["input_ids"].float().sum(1, keepdim=True) + features["input_ids"].shape[1]

    ids = torch.tensor([[5, 6, 0], [7, 0, 0], [0, 0, 0], [0, 0, 0]])
    out = chunked_forward(Probe(), {"input_ids": ids, "attention_mask": (ids > 0).long()}, 2)
    # row widths: 2 for the first chunk (longest row has 2 tokens), 3 (untrimmed) for the empty chunk
    assert out.squeeze(1).tolist() == [11 + 2, 7 + 2, 0 + 3, 0 + 3]


@pytest.mark.parametrize("budget", [8, 20, 1000])
def test_token_budget_chunks_give_the_whole_batch_loss_and_gradients(tiny_bert, budget):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    model.eval()
    collate = TextBatchCollator(model.tokenize, ("sentence",), views=2)
    features = collate([{"sentence": t} for t in TEXTS])["features"][0]
    assert features["row_lengths"] == features["attention_mask"].sum(1).tolist()
    loss = UnsupervisedSimCSELoss(model)
    params = [p for p in model.parameters() if p.requires_grad]

    def run(token_budget):
        model.forward_token_budget = token_budget
        value = loss([dict(features)], None)
        return value, torch.autograd.grad(value, params, allow_unused=True)

    whole, grads_whole = run(None)
    widths = []
    handle = model.encoder.register_forward_pre_hook(lambda _m, a: widths.append(a[0]["input_ids"].shape))
    chunked, grads_chunked = run(budget)
    handle.remove()
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_whole, grads_chunked, strict=True):
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)
    assert sum(rows for rows, _ in widths) == 2 * len(TEXTS)
    assert all(rows == 1 or rows * width <= budget for rows, width in widths)  # the budget holds
