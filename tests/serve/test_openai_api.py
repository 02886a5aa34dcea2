"""``POST /v1/embeddings``: what an OpenAI client sends and reads, over real HTTP."""

from __future__ import annotations

import base64

import numpy as np
import pytest

TEXTS = ["今天天气不错", "花呗怎么还款"]


def _vectors(server, texts):
    return np.asarray(server.post("/embed", json={"texts": texts}).json()["embeddings"])


def test_a_string_or_a_list_gives_the_embed_vectors_in_openai_shape(server):
    body = server.post("/v1/embeddings", json={"model": "m", "input": TEXTS}).json()
    assert body["object"] == "list" and body["model"] == "m"
    assert [d["index"] for d in body["data"]] == [0, 1] and body["data"][0]["object"] == "embedding"
    got = np.asarray([d["embedding"] for d in body["data"]])
    np.testing.assert_allclose(got, _vectors(server, TEXTS), atol=1e-6)
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > len(TEXTS)
    one = server.post("/v1/embeddings", json={"model": "m", "input": TEXTS[0]}).json()
    np.testing.assert_allclose(one["data"][0]["embedding"], got[0], atol=1e-6)


def test_base64_and_dimensions(server):
    body = server.post(
        "/v1/embeddings", json={"model": "m", "input": TEXTS, "encoding_format": "base64", "dimensions": 8}
    ).json()
    got = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in body["data"]])
    full = _vectors(server, TEXTS)[:, :8]
    np.testing.assert_allclose(got, full / np.linalg.norm(full, axis=1, keepdims=True), atol=1e-6)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "input": []}, "input"),
        ({"model": "m", "input": ["a"] * 5}, "input"),  # the server's limit is 4
        ({"model": "m", "input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"model": "m", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "m", "input": "x", "dimensions": 999}, "dimensions"),
        ({"model": "m", "input": [1, 2, 3]}, "input"),
    ],
)
def test_bad_requests_get_openai_errors(server, body, param):
    r = server.post("/v1/embeddings", json=body)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == param and err["message"]


def test_the_openai_client_gets_the_vectors_of_simsent_encode(server, model_dir):
    openai = pytest.importorskip("openai")
    from simsent.modeling.sentence_encoder import SentenceEncoder

    client = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0)
    for kwargs in ({}, {"encoding_format": "float"}):  # by default the client asks for base64 and decodes it
        res = client.embeddings.create(model="simsent", input=TEXTS, **kwargs)
        got = np.asarray([d.embedding for d in res.data])
        want = SentenceEncoder.load(model_dir).encode(TEXTS, normalize_embeddings=True)
        np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(openai.BadRequestError, match="dimensions"):
        client.embeddings.create(model="simsent", input=TEXTS, dimensions=999)


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ([], "at least 1 item"),
        (["a"] * 5, "at most 4 items"),
        (["今天", "  "], "input.1: text is blank"),
        ("   ", "input.0: text is blank"),
        (["x" * 21], "at most 20 characters"),
    ],
    ids=["empty", "too-many", "blank-in-list", "blank-string", "too-long"],
)
def test_each_bad_input_is_named_by_what_is_wrong_with_it(server, inputs, words):
    r = server.post("/v1/embeddings", json={"model": "m", "input": inputs})
    message = r.json()["error"]["message"]
    assert r.status_code == 400 and words in message and "valid string" not in message, message


def test_a_body_over_the_limit_gets_openai_s_error_shape(server):
    r = server.post("/v1/embeddings", content=b"{" + b" " * (2 << 20) + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and "request body over" in err["message"]
    assert server.post("/embed", content=b" " * (2 << 20)).json()["detail"].startswith("request body over")
