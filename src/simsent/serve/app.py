"""FastAPI app factory: POST /embed, /similarity, /search and GET /health, /metrics.

Requests are validated by pydantic (:mod:`simsent.serve.schemas`: empty or blank text, too many texts,
too long text, wrong types, unknown fields): the answer is 422 with
``{"detail": "<field>: <message>", "errors": [...]}``; a body over the limit is 413 before parsing.
Concurrent requests are encoded together by a micro-batcher (:mod:`simsent.serve.batching`) in a worker
thread, so the event loop keeps answering; a full queue is 503. ``/metrics`` is Prometheus
(:mod:`simsent.serve.metrics`). Routes: :mod:`simsent.serve.routes`. The OpenAPI schema is at
``/openapi.json`` and the docs at ``/docs``.

Example:
    >>> from simsent import SentenceEncoder
    >>> from simsent.serve import create_app
    >>> app = create_app(SentenceEncoder.load("runs/lcqmc"), max_texts=64)     # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)           # doctest: +SKIP

    $ curl -s localhost:8000/similarity -H 'content-type: application/json' \\
        -d '{"sentences1": ["花呗怎么还款"], "sentences2": ["花呗如何还钱"]}'
    {"scores": [0.91], "threshold": 0.83, "same": [true]}
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from simsent.errors import ConfigError
from simsent.serve.batching import MicroBatcher
from simsent.serve.metrics import MeasureRequests, Metrics
from simsent.serve.openai_api import add_openai_routes
from simsent.serve.routes import Service, add_error_handlers, add_routes
from simsent.serve.schemas import Limits, request_models

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

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

    async def _reject(self, scope: Any, send: Any, status: int = 413, detail: str | None = None) -> None:
        from simsent.serve.openai_api import OPENAI_PREFIX, openai_error_body

        detail = detail or f"request body over {self.max_bytes} bytes (--max-body-bytes)"
        openai = str(scope.get("path", "")).startswith(OPENAI_PREFIX)  # OpenAI clients read OpenAI's shape
        body = json.dumps(openai_error_body(detail) if openai else {"detail": detail}).encode()
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
                await self._reject(scope, send, 400, "invalid Content-Length")
                return
            if too_big:
                await self._reject(scope, send)
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
                    await self._reject(scope, send)
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


def create_app(
    model: Embedder,
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
    reranker: Any = None,
    model_dir: str | None = None,
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
        reranker: an optional :class:`~simsent.modeling.cross_encoder.CrossEncoder` for ``POST /rerank``.
        model_dir: the model's folder, whose card and leaderboard plot the page at ``GET /`` shows
            (default: ``model_path`` when it is a folder).
    """
    _import_serve()
    from fastapi import FastAPI

    from simsent import __version__
    from simsent.serve.usage import TokenTally

    if index is not None:
        index.check_model(model)
    if model_path is None:
        model_path = getattr(model, "extra_config", {}).get("base_model") or (
            (index.model_info or {}).get("path") if index is not None else None
        )
    tally = TokenTally(model)  # /v1/embeddings usage from the tokenisation encode does anyway
    batcher = MicroBatcher(
        lambda texts: tally.encode(
            texts, batch_size=batch_size, normalize_embeddings=False, show_progress_bar=False
        ),
        max_batch_texts=max_batch_texts,
        max_wait_ms=max_wait_ms,
        max_queue_texts=max_queue_texts,
    )
    limits = Limits(max_texts, max_chars, max_k, max_body_bytes)
    service = Service(model, index, batcher, Metrics(batcher), limits, model_path)
    app = FastAPI(
        title="simsent",
        version=__version__,
        description="Sentence embeddings, similarity and vector search (SimCSE-style models).",
        docs_url=None,  # served by add_offline_docs, from a package rather than a CDN
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(MeasureRequests, metrics=service.metrics)  # outermost: sees 413s too
    add_error_handlers(app)
    add_routes(app, service, request_models(limits))
    add_openai_routes(app, service, limits)
    if reranker is not None:
        from simsent.serve.rerank_api import add_rerank_route, reranker_batcher

        batcher_limits = {"max_batch_texts": max_batch_texts, "max_wait_ms": max_wait_ms,
                          "max_queue_texts": max_queue_texts}
        add_rerank_route(app, reranker_batcher(reranker, batch_size, **batcher_limits), limits)
    from simsent.serve.page import add_offline_docs, add_page_routes

    add_offline_docs(app)
    add_page_routes(app, service, model_dir or model_path, reranker)
    return app
