"""Micro-batching: concurrent requests share forward passes and each gets its own rows, in order."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from simsent.serve.batching import MicroBatcher, QueueFull


class Recorder:
    """An encoder whose vector for a text is [len(text), hash] and that records its batches."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[str]] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, texts):
        with self.lock:
            self.batches.append(list(texts))
        time.sleep(self.delay)
        return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32)


def expected(texts):
    return np.array([[len(t), sum(map(ord, t))] for t in texts], dtype=np.float32)


def test_concurrent_requests_are_coalesced_and_split_back_in_order():
    rec = Recorder(delay=0.01)

    async def main():
        batcher = MicroBatcher(rec, max_batch_texts=16, max_wait_ms=20)
        requests = [[f"请求{i}-{j}" * (1 + (i + j) % 3) for j in range(1 + i % 3)] for i in range(30)]
        results = await asyncio.gather(*(batcher.encode(r) for r in requests))
        await batcher.close()
        return requests, results

    requests, results = asyncio.run(main())
    for req, res in zip(requests, results, strict=True):
        np.testing.assert_array_equal(res, expected(req))  # each request gets exactly its rows
    assert len(rec.batches) < len(requests)  # shared passes
    assert all(len(b) <= 16 for b in rec.batches)
    assert sorted(t for b in rec.batches for t in b) == sorted(t for r in requests for t in r)


def test_one_text_per_pass_when_batching_is_off():
    rec = Recorder()

    async def main():
        batcher = MicroBatcher(rec, max_batch_texts=1, max_wait_ms=0)
        out = await asyncio.gather(*(batcher.encode([f"t{i}"]) for i in range(5)))
        await batcher.close()
        return out

    out = asyncio.run(main())
    assert len(rec.batches) == 5 and all(len(b) == 1 for b in rec.batches)
    assert [o[0, 0] for o in out] == [2.0] * 5


def test_a_lone_client_does_not_wait_for_company():
    rec = Recorder()

    async def main():
        batcher = MicroBatcher(rec, max_batch_texts=64, max_wait_ms=200)
        t0 = time.perf_counter()
        for i in range(3):  # one request after another: nobody to wait for
            await batcher.encode([f"t{i}"])
        alone = time.perf_counter() - t0
        together = await asyncio.gather(*(batcher.encode([f"u{i}"]) for i in range(4)))
        await batcher.close()
        return alone, together

    alone, together = asyncio.run(main())
    assert alone < 0.4  # three passes that did not each wait 200 ms
    assert len(together) == 4 and [len(b) for b in rec.batches[:3]] == [1, 1, 1]
    assert len(rec.batches) == 4 and len(rec.batches[3]) == 4  # concurrent requests still share


def test_the_pass_starts_once_the_previous_company_is_back():
    rec = Recorder()

    async def main():
        batcher = MicroBatcher(rec, max_batch_texts=64, max_wait_ms=300)
        await asyncio.gather(*(batcher.encode([f"a{i}"]) for i in range(3)))  # a pass shared by three

        async def late(i):
            await asyncio.sleep(0.02 * i)
            return await batcher.encode([f"b{i}"])

        t0 = time.perf_counter()
        await asyncio.gather(*(late(i) for i in range(3)))
        took = time.perf_counter() - t0
        await batcher.close()
        return took

    took = asyncio.run(main())
    assert [len(b) for b in rec.batches] == [3, 3]  # the three stragglers still share a pass
    assert took < 0.25  # which started when the third came (~40 ms), not after the 300 ms wait


def test_a_full_queue_refuses_instead_of_waiting():
    rec = Recorder(delay=0.2)

    async def main():
        batcher = MicroBatcher(rec, max_batch_texts=2, max_wait_ms=0, max_queue_texts=4)
        first = asyncio.ensure_future(batcher.encode(["a", "b"]))
        await asyncio.sleep(0.05)  # the first batch is being encoded
        waiting = asyncio.ensure_future(batcher.encode(["c", "d", "e"]))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull):
            await batcher.encode(["f", "g"])
        await asyncio.gather(first, waiting)
        await batcher.close()

    asyncio.run(main())


def test_an_encoder_error_reaches_every_request_of_the_batch():
    def broken(texts):
        raise RuntimeError("boom")

    async def main():
        batcher = MicroBatcher(broken, max_batch_texts=8, max_wait_ms=10)
        results = await asyncio.gather(batcher.encode(["a"]), batcher.encode(["b"]), return_exceptions=True)
        await batcher.close()
        return results

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(main()))


def test_service_batches_and_reports_metrics(tiny_bert):
    pytest.importorskip("fastapi")
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    model = SentenceEncoder.load(tiny_bert)
    texts = [f"今天天气{i}" for i in range(24)]
    with TestClient(create_app(model, max_batch_texts=32, max_wait_ms=30)) as c:
        with ThreadPoolExecutor(8) as pool:
            rs = list(pool.map(lambda t: c.post("/embed", json={"texts": [t]}), texts))
        got = np.array([r.json()["embeddings"][0] for r in rs])
        np.testing.assert_allclose(got, model.encode(texts, normalize_embeddings=True), atol=1e-5)
        health = c.get("/health").json()
        assert health["backend"] == "torch" and health["queue"]["batches"] < len(texts)
        text = c.get("/metrics").text
        assert 'simsent_requests_total{path="/embed",status="200"} 24' in text
        assert "simsent_request_seconds_bucket" in text and "simsent_batches_total" in text
