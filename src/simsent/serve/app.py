"""FastAPI app factory: POST /embed, /similarity, /search and GET /health.

Requests are validated by pydantic (empty or blank text, too many texts, too long text, wrong
types, unknown fields): the answer is 422 with ``{"detail": "<field>: <message>", "errors": [...]}``.
Encoding runs in a worker thread (``run_in_threadpool``), one batch at a time, so the event loop
keeps answering. The OpenAPI schema is at ``/openapi.json`` and the docs at ``/docs``.

Example:
    >>> from simsent import SentenceEncoder
    >>> from simsent.serve import create_app
    >>> app = create_app(SentenceEncoder.load("runs/lcqmc"), max_texts=64)     # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)           # doctest: +SKIP

    $ curl -s localhost:8000/similarity -H 'content-type: application/json' \\
        -d '{"sentences1": ["花呗怎么还款"], "sentences2": ["花呗如何还钱"]}'
    {"scores": [0.91], "threshold": 0.83, "same": [true]}
"""

# no `from __future__ import annotations`: FastAPI must resolve the request models defined in
# create_app from the endpoint annotations
import json
import logging
import time
from typing import Annotated, Any

import numpy as np

from simsent.errors import ConfigError, SimsentError
from simsent.serve.batching import MicroBatcher, QueueFull

logger = logging.getLogger(__name__)


def _import_serve() -> None:
    try:
        import fastapi  # noqa: F401
        import pydantic  # noqa: F401
    except ImportError as exc:
        raise ConfigError("the service needs FastAPI and uvicorn: pip install simsent[serve]") from exc


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 before the app parses it
    (from ``Content-Length`` when given, else while the body streams in)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def _reject(self, send: Any, status: int = 413, detail: str | None = None) -> None:
        body = json.dumps({"detail": detail or f"request body over {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                await self._reject(send, 400, "invalid Content-Length")
                return
            if too_big:
                await self._reject(send)
                return
        if length is None:  # streamed (chunked) body: read it here, up to the limit, then replay it
            body, more = b"", True
            while more:
                message = await receive()
                if message.get("type") != "http.request":
                    break
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_bytes:
                    await self._reject(send)
                    return
            sent = False

            async def replay() -> Any:
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        await self.app(scope, receive, send)


class MeasureRequests:
    """ASGI middleware: records every HTTP request's path, status and latency in a :class:`Metrics`
    (a plain ASGI layer: Starlette's ``BaseHTTPMiddleware`` costs a task per request)."""

    def __init__(self, app: Any, metrics: "Metrics") -> None:
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
            self.metrics.observe(scope.get("path", ""), status, time.perf_counter() - start)


class Metrics:
    """Counters and latency histograms per route, rendered in the Prometheus text format."""

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # per path: bucket counts + [sum, count]

    def observe(self, path: str, status: int, seconds: float) -> None:
        self.counts[(path, status)] = self.counts.get((path, status), 0) + 1
        row = self.latency.setdefault(path, [0.0] * (len(self.BUCKETS) + 2))
        for i, bound in enumerate(self.BUCKETS):
            if seconds <= bound:
                row[i] += 1
        row[-2] += seconds
        row[-1] += 1

    def render(self, batcher: MicroBatcher) -> str:
        lines = [
            "# HELP simsent_requests_total Requests by path and status.",
            "# TYPE simsent_requests_total counter",
        ]
        lines += [
            f'simsent_requests_total{{path="{p}",status="{s}"}} {n}'
            for (p, s), n in sorted(self.counts.items())
        ]
        lines += [
            "# HELP simsent_request_seconds Request latency.",
            "# TYPE simsent_request_seconds histogram",
        ]
        for path, row in sorted(self.latency.items()):
            for bound, n in zip(self.BUCKETS, row, strict=False):
                lines.append(f'simsent_request_seconds_bucket{{path="{path}",le="{bound}"}} {int(n)}')
            lines.append(f'simsent_request_seconds_bucket{{path="{path}",le="+Inf"}} {int(row[-1])}')
            lines.append(f'simsent_request_seconds_sum{{path="{path}"}} {row[-2]:.6f}')
            lines.append(f'simsent_request_seconds_count{{path="{path}"}} {int(row[-1])}')
        lines += [
            "# TYPE simsent_queue_texts gauge",
            f"simsent_queue_texts {batcher.waiting_texts}",
            "# TYPE simsent_batches_total counter",
            f"simsent_batches_total {batcher.batches}",
            "# TYPE simsent_batched_texts_total counter",
            f"simsent_batched_texts_total {batcher.batched_texts}",
        ]
        return "\n".join(lines) + "\n"


def create_app(
    model: Any,
    index: Any = None,
    max_texts: int = 64,
    max_chars: int = 512,
    max_k: int = 100,
    batch_size: int = 32,
    model_path: str | None = None,
    max_body_bytes: int = 1 << 20,
    max_batch_texts: int = 64,
    max_wait_ms: float = 5.0,
    max_queue_texts: int = 4096,
) -> Any:
    """Build the FastAPI app.

    Args:
        model: a :class:`~simsent.SentenceEncoder` (anything with ``encode``).
        index: an optional :class:`~simsent.search.VectorIndex` built by ``model`` (checked here).
        max_texts: most texts (or queries, or pairs) per request.
        max_chars: most characters per text.
        max_k: largest ``k`` for /search.
        batch_size: encode batch size.
        model_path: shown by /health (default: where the model was loaded from).
        max_body_bytes: larger request bodies are answered 413 before any parsing.
        max_batch_texts: concurrent requests are encoded together, up to this many texts per pass
            (1: one request per pass); see :class:`~simsent.serve.batching.MicroBatcher`.
        max_wait_ms: how long a request may wait for others to share its pass.
        max_queue_texts: texts allowed to wait; beyond, requests get 503.
    """
    _import_serve()
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import (
        AfterValidator,
        BaseModel,
        ConfigDict,
        Field,
        StrictStr,
        StringConstraints,
        model_validator,
    )
    from starlette.concurrency import run_in_threadpool

    from simsent import __version__
    from simsent.data.readers import is_blank
    from simsent.modeling.sentence_encoder import model_threshold

    if index is not None:
        index.check_model(model)
    dim = int(model.get_sentence_embedding_dimension())
    if model_path is None:
        model_path = getattr(model, "extra_config", {}).get("base_model") or (
            (index.model_info or {}).get("path") if index is not None else None
        )
    batcher = MicroBatcher(
        lambda texts: model.encode(
            texts, batch_size=batch_size, normalize_embeddings=False, show_progress_bar=False
        ),
        max_batch_texts=max_batch_texts,
        max_wait_ms=max_wait_ms,
        max_queue_texts=max_queue_texts,
    )
    metrics = Metrics()

    def not_blank(s: str) -> str:
        if is_blank(s):
            raise ValueError("text is blank (whitespace or zero-width characters only)")
        return s

    Text = Annotated[
        StrictStr, StringConstraints(min_length=1, max_length=max_chars), AfterValidator(not_blank)
    ]
    Texts = Annotated[list[Text], Field(min_length=1, max_length=max_texts)]

    class EmbedRequest(BaseModel):
        """Texts to embed."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"texts": ["今天天气不错"]}})
        texts: Texts
        normalize: bool = Field(True, strict=True, description="L2-normalise the vectors (true or false)")

    class EmbedResponse(BaseModel):
        embeddings: list[list[float]]
        dim: int

    class SimilarityRequest(BaseModel):
        """Pairs ``(sentences1[i], sentences2[i])`` to score."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={"example": {"sentences1": ["花呗怎么还款"], "sentences2": ["花呗如何还钱"]}},
        )
        sentences1: Texts
        sentences2: Texts

        @model_validator(mode="after")
        def same_length(self) -> "SimilarityRequest":
            if len(self.sentences1) != len(self.sentences2):
                raise ValueError("sentences1 and sentences2 must have the same length")
            return self

    class SimilarityResponse(BaseModel):
        scores: list[float]
        threshold: float | None = Field(None, description="calibrated threshold of the model, if any")
        same: list[bool] | None = Field(None, description="score >= threshold, when a threshold is set")

    class SearchRequest(BaseModel):
        """Queries to look up in the index."""

        model_config = ConfigDict(
            extra="forbid", json_schema_extra={"example": {"queries": ["怎么开通花呗"], "k": 5}}
        )
        queries: Texts
        k: int = Field(5, ge=1, le=max_k, strict=True)

    class Hit(BaseModel):
        id: str
        text: str | None
        score: float
        payload: dict[str, Any]

    class SearchResponse(BaseModel):
        results: list[list[Hit]]

    app = FastAPI(
        title="simsent",
        version=__version__,
        description="Sentence embeddings, similarity and vector search (SimCSE-style models).",
    )

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(MeasureRequests, metrics=metrics)  # outermost: sees 413s too

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        loc = ".".join(p for p in first["loc"] if p != "body")
        return JSONResponse(
            status_code=422,
            content={"detail": f"{loc}: {first['msg']}" if loc else first["msg"], "errors": errors},
        )

    @app.exception_handler(SimsentError)
    async def _user_error(request: Request, exc: SimsentError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    async def encode(texts: list[str], normalize: bool = True) -> Any:
        try:
            vecs = await batcher.encode(texts)
        except QueueFull as exc:
            raise HTTPException(status_code=503, detail=f"busy: {exc}; retry shortly") from exc
        if normalize:
            vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
        return vecs

    @app.get("/metrics")
    async def prometheus() -> Any:
        """Request counts and latencies, queue depth and batching, in the Prometheus text format."""
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse(metrics.render(batcher), media_type="text/plain; version=0.0.4")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness and what is loaded."""
        return {
            "status": "ok",
            "model": model_path,
            "backend": getattr(model, "backend", "torch"),
            "precision": getattr(model, "precision", "fp32"),
            "queue": {"waiting_texts": batcher.waiting_texts, "batches": batcher.batches},
            "dim": dim,
            "threshold": model_threshold(model),
            "index": None if index is None else {"rows": len(index), "backend": index.backend},
            "limits": {
                "max_texts": max_texts,
                "max_chars": max_chars,
                "max_k": max_k,
                "max_body_bytes": max_body_bytes,
            },
        }

    @app.post("/embed", response_model=EmbedResponse)
    async def embed(req: EmbedRequest) -> dict[str, Any]:
        """Embed up to ``max_texts`` texts."""
        vecs = await encode(req.texts, req.normalize)
        return {"embeddings": vecs.tolist(), "dim": dim}

    @app.post("/similarity", response_model=SimilarityResponse)
    async def similarity(req: SimilarityRequest) -> dict[str, Any]:
        """Cosine similarity of each pair; ``same`` when the model has a calibrated threshold."""
        n = len(req.sentences1)
        vecs = await encode(req.sentences1 + req.sentences2, True)
        scores = (vecs[:n] * vecs[n:]).sum(axis=1)
        thr = model_threshold(model)
        return {
            "scores": [float(s) for s in scores],
            "threshold": thr,
            "same": None if thr is None else [bool(s >= thr) for s in scores],
        }

    @app.post("/search", response_model=SearchResponse)
    async def search(req: SearchRequest) -> dict[str, Any]:
        """Top-k hits of each query in the index."""
        if index is None:
            raise HTTPException(status_code=404, detail="no index loaded: start the service with --index DIR")
        vecs = await encode(req.queries, True)

        def run() -> Any:
            return index.search(vecs, k=req.k)

        res = await run_in_threadpool(run)
        return {"results": [res.hits(i) for i in range(len(res))]}

    return app
