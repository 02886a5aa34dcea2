"""The request and response bodies of the service (pydantic), built for the limits it was started with.

Example:
    >>> api = request_models(Limits(max_texts=2, max_chars=10, max_k=5, max_body_bytes=1024))
    >>> api.EmbedRequest(texts=["今天天气不错"]).normalize
    True
"""

# no `from __future__ import annotations`: pydantic must resolve the annotations of the models built here
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Any


@dataclass(frozen=True)
class Limits:
    """What one request may hold: texts (or queries, or pairs), characters per text, ``k``, body bytes."""

    max_texts: int = 64
    max_chars: int = 512
    max_k: int = 100
    max_body_bytes: int = 1 << 20


def _not_blank(s: str) -> str:
    from simsent.data.readers import is_blank

    if is_blank(s):
        raise ValueError("text is blank (whitespace or zero-width characters only)")
    return s


def text_types(limits: Limits) -> tuple[Any, Any]:
    """``(Text, Texts)``: a non-blank string of at most ``max_chars``, and 1 to ``max_texts`` of them."""
    from pydantic import AfterValidator, Field, StrictStr, StringConstraints

    Text = Annotated[
        StrictStr, StringConstraints(min_length=1, max_length=limits.max_chars), AfterValidator(_not_blank)
    ]
    return Text, Annotated[list[Text], Field(min_length=1, max_length=limits.max_texts)]


def request_models(limits: Limits) -> SimpleNamespace:
    """``EmbedRequest``, ``SimilarityRequest``, ``SearchRequest`` and the responses, with ``limits``."""
    from pydantic import BaseModel, ConfigDict, Field, model_validator

    Text, Texts = text_types(limits)

    class EmbedRequest(BaseModel):
        """Texts to embed."""

        model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"texts": ["今天天气不错"]}})
        texts: Texts
        normalize: bool = Field(True, strict=True, description="L2-normalise the vectors (true or false)")

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

    class SearchRequest(BaseModel):
        """Queries to look up in the index."""

        model_config = ConfigDict(
            extra="forbid", json_schema_extra={"example": {"queries": ["怎么开通花呗"], "k": 5}}
        )
        queries: Texts
        k: int = Field(5, ge=1, le=limits.max_k, strict=True)

    return SimpleNamespace(
        EmbedRequest=EmbedRequest, SimilarityRequest=SimilarityRequest, SearchRequest=SearchRequest,
        **response_models(),
    )


def response_models() -> dict[str, Any]:
    """The response bodies (the same whatever the limits)."""
    from pydantic import BaseModel, Field

    class EmbedResponse(BaseModel):
        embeddings: list[list[float]]
        dim: int

    class SimilarityResponse(BaseModel):
        scores: list[float]
        threshold: float | None = Field(None, description="calibrated threshold of the model, if any")
        same: list[bool] | None = Field(None, description="score >= threshold, when a threshold is set")

    class Hit(BaseModel):
        id: str
        text: str | None
        score: float
        payload: dict[str, Any]

    class SearchResponse(BaseModel):
        results: list[list[Hit]]

    return {
        "EmbedResponse": EmbedResponse,
        "SimilarityResponse": SimilarityResponse,
        "SearchResponse": SearchResponse,
    }
