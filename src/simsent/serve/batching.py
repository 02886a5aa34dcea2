"""Dynamic micro-batching: concurrent requests share one forward pass.

Requests put their texts in a queue; one worker takes what is waiting (up to ``max_batch_texts`` texts,
waiting at most ``max_wait_ms`` after the first) and encodes it in one call off the event loop, then
hands every request its own rows back. The worker waits for company only while the traffic has been
concurrent, and only for as many requests as shared the previous pass: a lone client is answered at
once, and when the clients of the last pass are back the pass starts without sitting out the rest of
``max_wait_ms`` (which matters for a fast model such as an int8 graph). The queue is bounded: past
``max_queue_texts`` waiting texts a request is refused at once (:class:`QueueFull`, a 503 in the
service) instead of waiting without end.

Example:
    >>> batcher = MicroBatcher(model.encode, max_batch_texts=64, max_wait_ms=5)   # doctest: +SKIP
    >>> vectors = await batcher.encode(["今天天气不错", "你好"])                    # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class QueueFull(Exception):
    """More texts are waiting than the service accepts; try again later."""


@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future
    queued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Coalesce concurrent :meth:`encode` calls into batched calls of ``encode_fn``.

    Args:
        encode_fn: ``texts -> (len(texts), dim) array``, or a tuple of arrays with a row per text
            (blocking; run in a worker thread); each request gets its own rows.
        max_batch_texts: most texts per forward pass (1: one request per pass, no batching).
        max_wait_ms: how long the first waiting request may wait for company.
        max_queue_texts: most texts waiting; beyond, :class:`QueueFull`.
    """

    def __init__(
        self,
        encode_fn: Callable[[list[str]], Any],
        max_batch_texts: int = 64,
        max_wait_ms: float = 5.0,
        max_queue_texts: int = 4096,
    ) -> None:
        self.encode_fn = encode_fn
        self.max_batch_texts = max(1, int(max_batch_texts))
        self.max_wait = max(0.0, float(max_wait_ms)) / 1000.0
        self.max_queue_texts = int(max_queue_texts)
        self.waiting_texts = 0
        self.batches = 0
        self.batched_texts = 0
        self._last_jobs = 1  # requests that shared the previous pass
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task | None = None

    def _start(self) -> asyncio.Queue[_Job]:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run())
        return self._queue

    async def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (in order), computed together with whatever else is waiting."""
        queue = self._start()
        if self.waiting_texts + len(texts) > self.max_queue_texts:
            raise QueueFull(f"{self.waiting_texts} texts are waiting (limit {self.max_queue_texts})")
        job = _Job(list(texts), asyncio.get_running_loop().create_future())
        self.waiting_texts += len(job.texts)
        await queue.put(job)
        return await job.future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            jobs, count = [first], len(first.texts)
            expected = self._last_jobs
            deadline = first.queued + self.max_wait
            while count < self.max_batch_texts:
                if len(jobs) >= expected and self._queue.empty():
                    break  # everyone we were waiting for is here (a lone client never waits)
                timeout = deadline - time.perf_counter()
                try:
                    job = (
                        self._queue.get_nowait()
                        if timeout <= 0
                        else await asyncio.wait_for(self._queue.get(), timeout)
                    )
                except (asyncio.QueueEmpty, asyncio.TimeoutError):
                    break
                if count + len(job.texts) > self.max_batch_texts and count:
                    await self._run_batch(jobs)  # this one starts the next batch
                    jobs, count, deadline = [job], len(job.texts), job.queued + self.max_wait
                    continue
                jobs.append(job)
                count += len(job.texts)
            await self._run_batch(jobs)

    async def _run_batch(self, jobs: list[_Job]) -> None:
        texts = [t for job in jobs for t in job.texts]
        self._last_jobs = len(jobs)
        self.waiting_texts -= len(texts)
        self.batches += 1
        self.batched_texts += len(texts)
        try:
            vectors = await asyncio.get_running_loop().run_in_executor(None, self.encode_fn, texts)
        except Exception as exc:  # every request of the batch gets the error
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        start = 0
        for job in jobs:
            end = start + len(job.texts)
            parts = vectors if isinstance(vectors, tuple) else (vectors,)
            rows = tuple(p[start:end] for p in parts) if isinstance(vectors, tuple) else parts[0][start:end]
            start = end
            if not job.future.done():
                job.future.set_result(rows)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
            self._queue = None
