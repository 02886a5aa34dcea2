"""The service's Prometheus metrics: by route template, bounded, with process metrics."""

from __future__ import annotations

import pytest


def test_metrics_are_by_route_template_and_unknown_paths_share_one_series(tiny_bert):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    with TestClient(create_app(SentenceEncoder.load(tiny_bert))) as c:
        assert c.post("/embed", json={"texts": ["今天天气"]}).status_code == 200
        for i in range(20):
            assert c.get(f"/no-such-page-{i}").status_code == 404
        text = c.get("/metrics").text
    assert 'simsent_requests_total{path="/embed",status="200"} 1.0' in text
    assert 'simsent_requests_total{path="<unmatched>",status="404"} 20.0' in text
    assert "no-such-page" not in text
    assert 'simsent_request_seconds_bucket{le="0.005",path="/embed"}' in text
    assert "process_resident_memory_bytes" in text and "simsent_queue_texts" in text
