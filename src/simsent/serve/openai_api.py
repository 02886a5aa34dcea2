"""An OpenAI-compatible ``POST /v1/embeddings``: any OpenAI client (the ``openai`` package, LangChain's
``OpenAIEmbeddings``, LlamaIndex) can use a simsent server.

Same micro-batching, limits and metrics as ``/embed``; unit vectors as OpenAI returns them.
``input`` is a string or a list of strings; ``encoding_format`` ``float`` or ``base64`` (little-endian
float32, as OpenAI); ``dimensions`` keeps the first ``d`` components and re-normalises them (meaningful
for models trained for truncation, e.g. Matryoshka; any model accepts it). Usage counts the model's
tokens. Errors have OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``, status 400.

Example:
    >>> from openai import OpenAI                                                    # doctest: +SKIP
    >>> client = OpenAI(base_url="http://localhost:8000/v1", api_key="unused")       # doctest: +SKIP
    >>> client.embeddings.create(model="simsent", input=["花呗还款"]).data[0].embedding[:2]  # doctest: +SKIP
"""

# no `from __future__ import annotations`: FastAPI reads the request model from the endpoint's annotation
import base64
from typing import Annotated, Any, Literal

import numpy as np

from simsent.modeling.inputs import prefix_rows
from simsent.serve.schemas import Limits, _not_blank

OPENAI_PREFIX = "/v1/"


def openai_request_model(limits: Limits) -> Any:
    """The body of ``POST /v1/embeddings`` with ``limits`` (extra fields such as ``user`` are ignored)."""
    from pydantic import (
        AfterValidator,
        BaseModel,
        BeforeValidator,
        ConfigDict,
        Field,
        StrictStr,
        StringConstraints,
        WithJsonSchema,
    )

    Text = Annotated[
        StrictStr, StringConstraints(min_length=1, max_length=limits.max_chars), AfterValidator(_not_blank)
    ]
    text_schema = {"type": "string", "minLength": 1, "maxLength": limits.max_chars}
    # one text is a list of one, so that every error is about the list or one of its items (validated as a
    # union, an empty list was answered "Input should be a valid string", the error of the other branch)
    Texts = Annotated[
        list[Text],
        Field(min_length=1, max_length=limits.max_texts),
        BeforeValidator(lambda value: [value] if isinstance(value, str) else value),
        WithJsonSchema({"anyOf": [text_schema, {"type": "array", "items": text_schema, "minItems": 1,
                                                "maxItems": limits.max_texts}]}),
    ]

    class EmbeddingsRequest(BaseModel):
        """OpenAI's embeddings request."""

        model_config = ConfigDict(
            extra="ignore", json_schema_extra={"example": {"model": "simsent", "input": ["今天天气不错"]}}
        )
        input: Texts
        model: StrictStr = "simsent"
        encoding_format: Literal["float", "base64"] = "float"
        dimensions: int | None = Field(None, ge=1, strict=True)

    return EmbeddingsRequest


def encode_item(vec: np.ndarray, encoding_format: str) -> Any:
    """A vector as OpenAI sends it: a list of floats, or base64 of its little-endian float32 bytes."""
    if encoding_format == "base64":
        return base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode("ascii")
    return [float(x) for x in vec]


def openai_error_body(message: str, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape.

    Example:
        >>> openai_error_body("input: blank", "input")["error"]["type"]
        'invalid_request_error'
    """
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}


def openai_error(message: str, param: str | None = None, status: int = 400) -> Any:
    """A JSON response with OpenAI's error shape."""
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content=openai_error_body(message, param))


def add_openai_routes(app: Any, service: Any, limits: Limits) -> None:
    """``POST /v1/embeddings`` over ``service`` (a :class:`~simsent.serve.routes.Service`)."""
    Request = openai_request_model(limits)

    @app.post("/v1/embeddings")
    async def embeddings(req: Request) -> Any:  # type: ignore[valid-type]
        """OpenAI-compatible embeddings (unit vectors; ``dimensions`` truncates and re-normalises)."""
        texts = list(req.input)
        if req.dimensions is not None and req.dimensions > service.dim:
            return openai_error(
                f"dimensions {req.dimensions} is more than the model's {service.dim}", "dimensions"
            )
        vecs, tokens = await service.encode_counted(texts, True)
        vecs = prefix_rows(vecs, req.dimensions)
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": encode_item(v, req.encoding_format)}
                for i, v in enumerate(vecs)
            ],
            "model": req.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
