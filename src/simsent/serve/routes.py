"""The service's routes and error handlers, over a :class:`Service` (model, index, micro-batcher).

Example:
    >>> app = FastAPI()                                               # doctest: +SKIP
    >>> add_routes(app, Service(model), request_models(Limits()))    # doctest: +SKIP
"""

# no `from __future__ import annotations`: FastAPI reads the request models from the endpoints' annotations
from dataclasses import dataclass
from typing import Any

import numpy as np

from simsent.errors import SimsentError
from simsent.modeling.inputs import Embedder, unit_rows
from simsent.serve.batching import MicroBatcher, QueueFull
from simsent.serve.metrics import Metrics
from simsent.serve.schemas import Limits


@dataclass
class Service:
    """What the routes serve: the model, an optional index, the micro-batcher and the metrics."""

    model: Embedder
    index: Any
    batcher: MicroBatcher
    metrics: Metrics
    limits: Limits
    model_path: str | None = None

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    async def encode(self, texts: list[str], normalize: bool = True) -> np.ndarray:
        """Vectors of ``texts`` through the micro-batcher; 503 when its queue is full."""
        return (await self.encode_counted(texts, normalize))[0]

    async def encode_counted(self, texts: list[str], normalize: bool = True) -> tuple[np.ndarray, int]:
        """Vectors of ``texts`` and their token count, from the batcher's one tokenisation."""
        from fastapi import HTTPException

        try:
            vecs, tokens = await self.batcher.encode(texts)
        except QueueFull as exc:
            raise HTTPException(status_code=503, detail=f"busy: {exc}; retry shortly") from exc
        if normalize:
            vecs = unit_rows(vecs)
        return vecs, int(np.sum(tokens))

    def health(self) -> dict[str, Any]:
        """Liveness and what is loaded."""
        from simsent.modeling.sentence_encoder import model_threshold

        index, limits = self.index, self.limits
        return {
            "status": "ok",
            "model": self.model_path,
            "backend": getattr(self.model, "backend", "torch"),
            "precision": getattr(self.model, "precision", "fp32"),
            "queue": {"waiting_texts": self.batcher.waiting_texts, "batches": self.batcher.batches},
            "dim": self.dim,
            "threshold": model_threshold(self.model),
            "index": None if index is None else {"rows": len(index), "backend": index.backend},
            "limits": {"max_texts": limits.max_texts, "max_chars": limits.max_chars, "max_k": limits.max_k,
                       "max_body_bytes": limits.max_body_bytes},
        }


def add_error_handlers(app: Any) -> None:
    """422 with ``{"detail": "<field>: <message>", "errors": [...]}`` for invalid bodies; 400 for a
    user error raised inside a route."""
    from fastapi import Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    from simsent.serve.openai_api import OPENAI_PREFIX, openai_error

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": _plain(str(e.get("msg", ""))),
             "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        loc = ".".join(p for p in first["loc"] if p != "body")
        detail = f"{loc}: {first['msg']}" if loc else first["msg"]
        if request.url.path.startswith(OPENAI_PREFIX):  # OpenAI clients read OpenAI's error shape
            return openai_error(detail, loc.split(".")[0] or None)
        return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})

    @app.exception_handler(SimsentError)
    async def _user_error(request: Request, exc: SimsentError) -> JSONResponse:
        if request.url.path.startswith(OPENAI_PREFIX):
            return openai_error(str(exc))
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if request.url.path.startswith(OPENAI_PREFIX):
            return openai_error(str(exc.detail), status=exc.status_code)
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail},
                            headers=getattr(exc, "headers", None))


def _plain(message: str) -> str:
    """pydantic's message without its ``Value error, `` prefix (the reason is the validator's own words).

    Example:
        >>> _plain("Value error, text is blank")
        'text is blank'
    """
    return message.removeprefix("Value error, ")


def add_routes(app: Any, service: Service, api: Any) -> None:
    """GET /health and /metrics; POST /embed, /similarity and /search (request models from ``api``)."""
    from fastapi.responses import Response

    @app.get("/metrics")
    async def prometheus() -> Any:
        """Request counts and latencies by route, queue depth and batching, process metrics (Prometheus)."""
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness and what is loaded."""
        return service.health()

    @app.post("/embed", response_model=api.EmbedResponse)
    async def embed(req: api.EmbedRequest) -> dict[str, Any]:
        """Embed up to ``max_texts`` texts."""
        vecs = await service.encode(req.texts, req.normalize)
        return {"embeddings": vecs.tolist(), "dim": service.dim}

    add_pair_routes(app, service, api)


def add_pair_routes(app: Any, service: Service, api: Any) -> None:
    """POST /similarity and /search."""
    from fastapi import HTTPException
    from starlette.concurrency import run_in_threadpool

    from simsent.modeling.sentence_encoder import model_threshold

    @app.post("/similarity", response_model=api.SimilarityResponse)
    async def similarity(req: api.SimilarityRequest) -> dict[str, Any]:
        """Cosine similarity of each pair; ``same`` when the model has a calibrated threshold."""
        n = len(req.sentences1)
        vecs = await service.encode(req.sentences1 + req.sentences2, True)
        scores = (vecs[:n] * vecs[n:]).sum(axis=1)
        thr = model_threshold(service.model)
        return {
            "scores": [float(s) for s in scores],
            "threshold": thr,
            "same": None if thr is None else [bool(s >= thr) for s in scores],
        }

    @app.post("/search", response_model=api.SearchResponse)
    async def search(req: api.SearchRequest) -> dict[str, Any]:
        """Top-k hits of each query in the index."""
        if service.index is None:
            raise HTTPException(status_code=404, detail="no index loaded: start the service with --index DIR")
        vecs = await service.encode(req.queries, True)
        res = await run_in_threadpool(service.index.search, vecs, k=req.k)
        return {"results": [res.hits(i) for i in range(len(res))]}
