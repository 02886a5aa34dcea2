"""What a person sees in a browser: ``GET /`` (a search box over the index with the hits' scores, and the
reranker's when there is one; two sentences' similarity with the calibrated verdict; the model's card and
fit's leaderboard plot), and ``/docs`` served from the ``swagger-ui-bundle`` package instead of a CDN, so
both work on a machine with no internet. No build step: one HTML file of simsent's own.

``/?q=...`` opens with that search done, so a link can be shared.

Example:
    >>> add_page_routes(app, service, model_dir="runs/faq", reranker=cross_encoder)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

#: where the Swagger UI's script and styles are served from
DOCS_ASSETS = "/docs-assets"


def add_page_routes(app: Any, service: Any, model_dir: str | None, reranker: Any = None) -> None:
    """``GET /`` and its helpers (``/page/info``, ``/page/card``, ``/page/leaderboard.png``); with a
    ``reranker`` the page orders hits by it, blended with their cosine at the weight it was saved with,
    as a search does (:func:`simsent.search.rerank.blended_scores`)."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse

    from simsent.modeling.cross_encoder import first_stage_blend

    blend = first_stage_blend(reranker)  # 0 without one
    folder = model_dir if model_dir and os.path.isdir(model_dir) else None
    card = os.path.join(folder, "README.md") if folder else None
    plot = os.path.join(folder, "leaderboard.png") if folder else None

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> Any:
        return HTMLResponse(_page_html())

    @app.get("/page/info", include_in_schema=False)
    async def info() -> dict[str, Any]:
        index = service.index
        return {"model": service.model_path, "dim": service.dim, "reranker": reranker is not None,
                "blend": blend,
                "index_rows": None if index is None else len(index), "k": min(10, service.limits.max_k),
                "max_texts": service.limits.max_texts,
                "card": bool(card and os.path.isfile(card)), "plot": bool(plot and os.path.isfile(plot))}

    @app.get("/page/card", include_in_schema=False)
    async def model_card() -> Any:
        if not (card and os.path.isfile(card)):
            raise HTTPException(status_code=404, detail="the model folder has no README.md")
        with open(card, encoding="utf-8", errors="replace") as f:
            return PlainTextResponse(f.read())

    @app.get("/page/leaderboard.png", include_in_schema=False)
    async def leaderboard_plot() -> Any:
        if not (plot and os.path.isfile(plot)):
            raise HTTPException(status_code=404, detail="the model folder has no leaderboard.png")
        return FileResponse(plot, media_type="image/png")


def _page_html() -> str:
    from importlib.resources import files

    return (files("simsent") / "resources" / "page" / "index.html").read_text(encoding="utf-8")


def add_offline_docs(app: Any) -> None:
    """``/docs`` with the Swagger UI's files from the ``swagger-ui-bundle`` package (no CDN); without the
    package, FastAPI's own page (which loads them from a CDN), with a warning."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        logger.warning("/docs loads its script from a CDN (pip install swagger-ui-bundle serves it locally)")
        swagger_ui_path = None

    if swagger_ui_path:
        app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    assets = {"swagger_js_url": f"{DOCS_ASSETS}/swagger-ui-bundle.js",
              "swagger_css_url": f"{DOCS_ASSETS}/swagger-ui.css",
              "swagger_favicon_url": f"{DOCS_ASSETS}/favicon-32x32.png"} if swagger_ui_path else {}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Any:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API", **assets)
