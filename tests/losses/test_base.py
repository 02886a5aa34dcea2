"""The Objective base class: chunked encoder calls give the whole batch's embeddings and gradients."""

import pytest
import torch

from simsent.losses.simcse import UnsupervisedSimCSELoss
from simsent.model import SentenceEncoder


@pytest.mark.parametrize("chunk", [1, 3, 4, 100])
def test_chunked_embed_equals_one_call(tiny_bert, chunk):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling="mean", max_len=16)
    model.eval()  # no dropout, so the two paths must agree exactly
    texts = ["今天天气不错", "你好", "花呗怎么还款呢", "再见"]
    features = model.tokenize(texts + texts)
    whole, chunked = UnsupervisedSimCSELoss(model), UnsupervisedSimCSELoss(model)
    chunked.forward_chunk_size = chunk

    loss_whole = whole([dict(features)], None)
    grads_whole = torch.autograd.grad(loss_whole, list(model.parameters()), allow_unused=True)
    loss_chunked = chunked([dict(features)], None)
    grads_chunked = torch.autograd.grad(loss_chunked, list(model.parameters()), allow_unused=True)

    assert whole.embed(dict(features)).shape == chunked.embed(dict(features)).shape == (8, 32)
    torch.testing.assert_close(loss_chunked, loss_whole, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_whole, grads_chunked, strict=True):
        if a is not None:
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-6)
