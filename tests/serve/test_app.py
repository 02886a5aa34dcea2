"""The service over real HTTP: a uvicorn server on 127.0.0.1 in a thread, httpx as the client."""

from __future__ import annotations

import pytest

httpx = pytest.importorskip("httpx")

#: the texts of the served index (conftest's)
TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改"]


def test_health_and_openapi(server):
    h = server.get("/health").json()
    assert h["status"] == "ok" and h["dim"] == 32 and h["index"] == {"rows": 5, "backend": "exact"}
    assert h["threshold"] == 0.5 and h["limits"]["max_texts"] == 4
    paths = server.get("/openapi.json").json()["paths"]
    assert {"/embed", "/similarity", "/search", "/health"} <= set(paths)


def test_embed(server):
    r = server.post("/embed", json={"texts": TEXTS[:2]})
    assert r.status_code == 200
    body = r.json()
    assert body["dim"] == 32 and len(body["embeddings"]) == 2 and len(body["embeddings"][0]) == 32
    assert sum(x * x for x in body["embeddings"][0]) == pytest.approx(1, abs=1e-4)


def test_similarity(server):
    r = server.post(
        "/similarity", json={"sentences1": [TEXTS[0], TEXTS[0]], "sentences2": [TEXTS[0], TEXTS[3]]}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["scores"][0] == pytest.approx(1, abs=1e-4) and body["threshold"] == 0.5
    assert body["same"][0] is True and len(body["same"]) == 2


def test_search(server):
    r = server.post("/search", json={"queries": [TEXTS[3]], "k": 2})
    assert r.status_code == 200
    hits = r.json()["results"][0]
    assert len(hits) == 2 and hits[0]["id"] == "q3" and hits[0]["payload"] == {"n": 3}


@pytest.mark.parametrize(
    "path,payload,fragment",
    [
        ("/embed", {"texts": []}, "texts"),  # empty list
        ("/embed", {"texts": [""]}, "texts.0"),  # empty text
        ("/embed", {"texts": ["   "]}, "blank"),  # blank text
        ("/embed", {"texts": ["\u200b\u200d\ufeff"]}, "blank"),  # zero-width / format characters only
        ("/embed", {"texts": ["今天"], "normalize": "yes"}, "normalize"),  # booleans are strict
        ("/embed", {"texts": ["今天"], "normalize": 1}, "normalize"),
        ("/embed", {"texts": ["a"] * 5}, "at most 4"),  # too many texts
        ("/embed", {"texts": ["长" * 21]}, "at most 20"),  # too long text
        ("/embed", {"texts": [1, 2]}, "string"),  # wrong type
        ("/embed", {"texts": "今天"}, "list"),  # not a list
        ("/embed", {"text": ["今天"]}, "texts"),  # wrong field
        ("/similarity", {"sentences1": ["a"], "sentences2": ["a", "b"]}, "same length"),
        ("/search", {"queries": ["a"], "k": 0}, "k"),
        ("/search", {"queries": ["a"], "k": 4}, "k"),
        ("/search", {"queries": ["a"], "k": "3"}, "k"),
    ],
)
def test_bad_input_is_422_with_message(server, path, payload, fragment):
    r = server.post(path, json=payload)
    assert r.status_code == 422, r.text
    assert fragment in r.json()["detail"] or fragment in str(r.json()["errors"])


def test_malformed_json_and_unknown_route(server):
    r = server.post("/embed", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert server.get("/nope").status_code == 404


def test_search_without_index_is_404(tiny_bert):
    from fastapi.testclient import TestClient

    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    with TestClient(create_app(SentenceEncoder.load(tiny_bert))) as c:
        r = c.post("/search", json={"queries": ["今天"]})
        assert r.status_code == 404 and "--index" in r.json()["detail"]
        assert c.post("/similarity", json={"sentences1": ["a"], "sentences2": ["b"]}).json()["same"] is None


def test_request_bodies_over_the_limit_are_413_before_parsing(tiny_bert):
    from fastapi.testclient import TestClient

    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    with TestClient(create_app(SentenceEncoder.load(tiny_bert), max_body_bytes=200)) as c:
        assert c.post("/embed", json={"texts": ["今天"]}).status_code == 200
        big = b'{"texts": ["' + b"a" * 300 + b'"]}'
        r = c.post("/embed", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "200 bytes" in r.json()["detail"]

        def chunks():  # no Content-Length: counted while it streams in
            yield b'{"texts": ["'
            yield b"a" * 300
            yield b'"]}'

        r = c.post("/embed", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.get("/health").json()["limits"]["max_body_bytes"] == 200
