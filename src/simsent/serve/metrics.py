"""The service's Prometheus metrics, through ``prometheus_client``.

Requests are counted and timed by route template (``/embed``; a path no route matches is
``<unmatched>``, so scanning for random URLs cannot grow the series without bound); the micro-batcher's
queue depth and batch counts are read at scrape time; the standard process metrics (memory, CPU,
open files) come with them. Each app has its own registry.

Example:
    >>> from simsent.serve.batching import MicroBatcher
    >>> metrics = Metrics(MicroBatcher(lambda texts: texts))
    >>> metrics.observe("/embed", 200, 0.01)
    >>> 'simsent_requests_total{path="/embed",status="200"} 1.0' in metrics.render().decode()
    True
"""

from __future__ import annotations

import time
from typing import Any

from simsent.serve.batching import MicroBatcher

UNMATCHED = "<unmatched>"


class _BatcherCollector:
    """Queue depth and batching counters of a :class:`MicroBatcher`, read when Prometheus scrapes."""

    def __init__(self, batcher: MicroBatcher) -> None:
        self.batcher = batcher

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        waiting = self.batcher.waiting_texts
        yield GaugeMetricFamily("simsent_queue_texts", "Texts waiting to be encoded.", waiting)
        yield CounterMetricFamily("simsent_batches", "Encoder passes.", self.batcher.batches)
        yield CounterMetricFamily("simsent_batched_texts", "Texts encoded.", self.batcher.batched_texts)


class Metrics:
    """A registry with the request counter and latency histogram, the batcher's figures and the
    process metrics."""

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

    def __init__(self, batcher: MicroBatcher) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

        self.registry = CollectorRegistry()
        self.requests = Counter("simsent_requests", "Requests by route and status.", ["path", "status"],
                                registry=self.registry)
        self.latency = Histogram("simsent_request_seconds", "Request latency by route.", ["path"],
                                 buckets=self.BUCKETS, registry=self.registry)
        self.registry.register(_BatcherCollector(batcher))
        ProcessCollector(registry=self.registry)

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


class MeasureRequests:
    """ASGI middleware: records every HTTP request's route template, status and latency in a
    :class:`Metrics` (a plain ASGI layer: Starlette's ``BaseHTTPMiddleware`` costs a task per request)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(route, status, time.perf_counter() - start)
