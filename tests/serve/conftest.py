"""A simsent service over real HTTP for the serve tests: uvicorn on 127.0.0.1 in a thread, httpx as
the client (module-scoped: one server per test module)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

TEXTS = ["今天天气不错", "今天天气很好", "我想去北京", "花呗怎么还款", "银行卡密码修改"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def model_dir(tiny_bert):
    return tiny_bert


@pytest.fixture(scope="module")
def server(model_dir):
    pytest.importorskip("fastapi")
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.search import VectorIndex
    from simsent.serve import create_app

    model = SentenceEncoder.load(model_dir)
    model.extra_config["threshold"] = {"value": 0.5, "metric": "f1"}
    index = VectorIndex.build(
        model,
        [{"id": f"q{i}", "text": t, "payload": {"n": i}} for i, t in enumerate(TEXTS)],
        show_progress_bar=False,
    )
    app = create_app(model, index=index, max_texts=4, max_chars=20, max_k=3)
    yield from running(app)


def running(app):
    """Serve ``app`` with uvicorn on a free local port in a thread; yield an httpx client, then stop."""
    httpx = pytest.importorskip("httpx")
    uvicorn = pytest.importorskip("uvicorn")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "server did not start"
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client
    srv.should_exit = True
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def rerank_server(model_dir, tmp_path_factory):
    """A service with a cross-encoder (an untrained head on the tiny BERT) for /rerank; yields (client,
    reranker)."""
    pytest.importorskip("fastapi")
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    reranker = CrossEncoder.from_pretrained(model_dir, max_len=32, seed=1)
    app = create_app(SentenceEncoder.load(model_dir), max_texts=4, max_chars=20, reranker=reranker)
    for client in running(app):
        yield client, reranker


@pytest.fixture()
def serve_app():
    """``serve_app(app)``: :func:`running` for a test's own app (iterate it to get the client)."""
    return running


@pytest.fixture()
def index_texts():
    """The texts the ``server`` fixture's index holds."""
    return list(TEXTS)
