"""Usage tokens come from the tokenisation encode does: each text tokenised once, counted as the model
sees it (its default prompt included), the same figures as tokenising the texts apart."""

from __future__ import annotations

import asyncio

import numpy as np

from simsent.serve.batching import MicroBatcher
from simsent.serve.usage import TokenTally

TEXTS = ["今天天气不错", "花呗怎么还款呢我想知道", "你好"]


def test_each_text_is_tokenised_once_and_counted_as_the_model_sees_it(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.load(tiny_bert)
    want = model.tokenize(TEXTS)["attention_mask"].sum(1).tolist()
    seen: list[str] = []
    tokenize = model.tokenize
    model.tokenize = lambda texts: seen.extend(texts) or tokenize(texts)
    tally = TokenTally(model)
    vectors, tokens = tally.encode(TEXTS, batch_size=2, show_progress_bar=False)
    assert tokens.tolist() == want and sorted(seen) == sorted(TEXTS)  # one tokenisation, no second pass
    np.testing.assert_allclose(vectors, model.encode(TEXTS, show_progress_bar=False), atol=1e-6)
    model.prompts, model.default_prompt_name = {"query": "query: "}, "query"
    _, prompted = tally.encode(TEXTS[:1], show_progress_bar=False)
    assert prompted[0] == tokenize(["query: " + TEXTS[0]])["attention_mask"].sum().item()


def test_the_batcher_gives_each_request_its_own_counts():
    async def run() -> list:
        batcher = MicroBatcher(lambda texts: (np.ones((len(texts), 2)), np.array([len(t) for t in texts])),
                               max_batch_texts=8, max_wait_ms=50)
        try:
            return await asyncio.gather(batcher.encode(["a", "bb"]), batcher.encode(["ccc"]))
        finally:
            await batcher.close()

    (v1, n1), (v2, n2) = asyncio.run(run())
    assert v1.shape == (2, 2) and n1.tolist() == [1, 2] and n2.tolist() == [3]


def test_an_onnx_model_is_counted_from_its_own_tokenisation(tiny_bert, tmp_path):
    import pytest

    pytest.importorskip("onnxruntime")
    from simsent.modeling.onnx import OnnxSentenceEncoder, export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    torch_model = SentenceEncoder.from_pretrained(tiny_bert, max_len=16)
    export_onnx(torch_model, str(tmp_path / "m"))
    model = OnnxSentenceEncoder(str(tmp_path / "m"))
    want = torch_model.tokenize(TEXTS)["attention_mask"].sum(1).tolist()
    vectors, tokens = TokenTally(model).encode(TEXTS, show_progress_bar=False)
    assert tokens.tolist() == want and vectors.shape[0] == len(TEXTS)
