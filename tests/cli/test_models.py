"""``simsent models``: the known start models and where each is on this machine."""

from __future__ import annotations

import json


def test_models_lists_the_built_in_and_well_known_models_and_where_they_are(cli, simsent_cache):
    r = cli("models")
    assert r.code == 0, r.err
    for name in ("e5-small-zh", "BAAI/bge-small-zh-v1.5", "moka-ai/m3e-base",
                 "shibing624/text2vec-base-chinese", "intfloat/multilingual-e5-small", "all-MiniLM-L6-v2"):
        assert name in r.out
    rows = [json.loads(line) for line in cli("models", "--json").out.splitlines()]
    by_name = {row["name"]: row for row in rows}
    here = by_name["e5-small-zh"]["here"]
    assert here.startswith(simsent_cache) or here.startswith(("buildable", "needs pip install"))
    assert by_name["BAAI/bge-small-zh-v1.5"]["here"] == "not here (downloads from the hub)"
    assert {"params", "dim", "licence", "languages", "pooling", "prompts"} <= set(rows[0])
