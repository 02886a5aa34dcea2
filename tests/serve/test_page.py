"""The page at GET / and the offline /docs, over real HTTP; and the page as a person sees it: headless
Chromium (Debian's package) renders it against a running service and the rendered DOM shows the hits."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest


def _no_outside_urls(html: str) -> bool:
    return not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)


def test_the_page_and_the_docs_need_nothing_from_outside(server, index_texts):
    page = server.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="search-form"' in page.text and 'id="sim-form"' in page.text and _no_outside_urls(page.text)
    info = server.get("/page/info").json()
    assert info["index_rows"] == len(index_texts) and info["reranker"] is False and info["dim"] > 0
    docs = server.get("/docs")
    assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
    assert "cdn.jsdelivr" not in docs.text and _no_outside_urls(docs.text)
    asset = server.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert server.get("/openapi.json").json()["paths"].keys() >= {"/embed", "/search", "/similarity"}
    assert "/" not in server.get("/openapi.json").json()["paths"]  # the page is not part of the API


def test_the_page_shows_a_fit_folders_card_and_plot(model_dir, tmp_path, serve_app):
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.serve import create_app

    folder = tmp_path / "fitted"
    shutil.copytree(model_dir, folder)
    card = "# simsent fit model\n\nChosen by `simsent fit`: **mnrl**.\n"
    (folder / "README.md").write_text(card, encoding="utf-8")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(1, 1))
    plt.savefig(folder / "leaderboard.png")
    plt.close("all")
    app = create_app(SentenceEncoder.load(str(folder)), model_path=str(folder))
    for client in serve_app(app):
        info = client.get("/page/info").json()
        assert info["card"] and info["plot"] and info["index_rows"] is None
        assert "Chosen by `simsent fit`" in client.get("/page/card").text
        plot = client.get("/page/leaderboard.png")
        assert plot.status_code == 200 and plot.headers["content-type"] == "image/png"
    app = create_app(SentenceEncoder.load(str(folder)), model_path="a-hub-id")
    for client in serve_app(app):
        assert client.get("/page/info").json()["card"] is False
        assert client.get("/page/card").status_code == 404


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _dump_dom(browser: str, url: str) -> subprocess.CompletedProcess:
    """The DOM headless Chromium renders at ``url`` once its scripts have run."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--virtual-time-budget=15000", "--dump-dom"]
    return subprocess.run([browser, *flags, url], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": os.getcwd()})


def test_chromium_renders_the_hits_of_a_shared_search_link(server, index_texts):
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): the "
                    "page was checked over HTTP only")
    out = _dump_dom(browser, f"{server.base_url}/?q={index_texts[3]}")
    dom = out.stdout
    rows = re.findall(r'<tr class="hit">(.*?)</tr>', dom, flags=re.S)
    assert rows, (out.stderr[-2000:], dom[-2000:])
    assert any(index_texts[3] in r for r in rows) and all(re.search(r"\d\.\d{4}", r) for r in rows)
    assert f'value="{index_texts[3]}"' in dom or index_texts[3] in dom  # the query box holds the shared query


@pytest.mark.parametrize("blend", [0.0, 0.5])
def test_chromium_orders_the_hits_as_a_search_with_the_reranker_does(model_dir, index_texts, serve_app,
                                                                     blend):
    from simsent.modeling.cross_encoder import FIRST_STAGE_BLEND, CrossEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.search import VectorIndex
    from simsent.search.rerank import rerank_results
    from simsent.serve import create_app

    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    model = SentenceEncoder.load(model_dir)
    index = VectorIndex.build(model, index_texts, show_progress_bar=False)
    reranker = CrossEncoder.from_pretrained(model_dir, max_len=32, seed=3)
    reranker.extra_config[FIRST_STAGE_BLEND] = blend
    query = index_texts[3]
    first = index.search([query], k=len(index_texts), model=model)
    want = rerank_results(first, [query], reranker, k=len(index_texts)).texts[0]
    app = create_app(model, index=index, reranker=reranker, max_k=len(index_texts))
    for client in serve_app(app):
        assert client.get("/page/info").json()["blend"] == blend
        out = _dump_dom(browser, f"{client.base_url}/?q={query}")
        rows = re.findall(r'<tr class="hit">(.*?)</tr>', out.stdout, flags=re.S)
        shown = [re.findall(r"<td[^>]*>(.*?)</td>", r)[1] for r in rows]
        assert shown == want, (out.stderr[-2000:], shown)
