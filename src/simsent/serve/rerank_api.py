"""``POST /rerank``: a cross-encoder scores a query against texts, in the shape text-embeddings-inference
uses (``query``, ``texts``, ``top_n``, ``return_text``; infinity's ``documents`` is accepted for
``texts``): a list of ``{"index", "score"}`` (+ ``"text"``), best first. The pairs go through their own
micro-batcher (concurrent requests share a pass), under the same body limits, metrics and error shape
as the other routes.

Example:
    >>> body = {"query": "花呗怎么还款", "texts": ["如何还花呗", "花呗额度"], "top_n": 1}
    >>> httpx.post("http://127.0.0.1:8000/rerank", json=body).json()    # doctest: +SKIP
    [{'index': 0, 'score': 0.97}]
"""

# no `from __future__ import annotations`: pydantic must resolve the annotations of the model built here
from typing import Any

import numpy as np

from simsent.serve.batching import MicroBatcher
from simsent.serve.schemas import Limits, text_types


def rerank_request_model(limits: Limits) -> Any:
    """The ``/rerank`` request with ``limits``: one query, 1 to ``max_texts`` texts (or documents)."""
    from pydantic import BaseModel, ConfigDict, Field, model_validator

    Text, Texts = text_types(limits)

    class RerankRequest(BaseModel):
        """A query and the texts to order for it."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={
            "example": {"query": "花呗怎么还款", "texts": ["如何还花呗", "花呗额度怎么提升"], "top_n": 1}})
        query: Text
        texts: Texts | None = None
        documents: Texts | None = Field(None, description="infinity's name for texts")
        top_n: int | None = Field(None, ge=1, strict=True)
        return_text: bool = Field(False, strict=True)

        @model_validator(mode="after")
        def one_list(self) -> "RerankRequest":
            if (self.texts is None) == (self.documents is None):
                raise ValueError("give the candidates as texts (or documents), not both")
            return self

    return RerankRequest


def reranker_batcher(reranker: Any, batch_size: int, **limits: Any) -> MicroBatcher:
    """A micro-batcher of joined (query, text) pairs for ``reranker``."""
    from simsent.modeling.cross_encoder import PAIR_SEP

    def score(joined: list[str]) -> np.ndarray:
        return reranker.predict([p.split(PAIR_SEP, 1) for p in joined], batch_size=batch_size,
                                show_progress_bar=False)

    return MicroBatcher(score, **limits)


def add_rerank_route(app: Any, batcher: MicroBatcher, limits: Limits) -> None:
    """``POST /rerank`` over ``batcher`` (503 when its queue is full, as for the other routes)."""
    from fastapi import HTTPException

    from simsent.modeling.cross_encoder import join_pair
    from simsent.serve.batching import QueueFull

    Request = rerank_request_model(limits)

    @app.post("/rerank")
    async def rerank(req: Request) -> Any:  # type: ignore[valid-type]
        """Score every text against the query with the cross-encoder; best first (``top_n`` of them)."""
        texts = list(req.texts if req.texts is not None else req.documents)
        try:
            scores = await batcher.encode([join_pair(req.query, t) for t in texts])
        except QueueFull as exc:
            raise HTTPException(status_code=503, detail=f"busy: {exc}; retry shortly") from exc
        order = np.argsort(-np.asarray(scores), kind="stable")[: req.top_n or len(texts)]
        return [{"index": int(i), "score": float(scores[i]),
                 **({"text": texts[i]} if req.return_text else {})} for i in order]
