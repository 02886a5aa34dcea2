"""``simsent serve``: the HTTP service (embed, similarity, search, health).

Example:
    $ simsent serve runs/lcqmc --index runs/faq-index --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import typer

from simsent.cli.common import load_reranker, ready_model
from simsent.cli.options import backend_option, device_option, precision_option


def serve(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    index_dir: str | None = typer.Option(None, "--index", help="Index folder for /search."),
    reranker: str | None = typer.Option(None, "--reranker", help="Cross-encoder folder for POST /rerank "
                                        "(from `simsent rerank train` or sentence-transformers)."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8000, min=0, max=65535),
    max_texts: int = typer.Option(64, min=1, help="Most texts per request."),
    max_chars: int = typer.Option(512, min=1, help="Most characters per text."),
    batch_size: int = typer.Option(32, min=1),
    max_batch_texts: int = typer.Option(
        64, min=1, help="Concurrent requests share one forward pass of up to N texts (1: no batching)."
    ),
    max_wait_ms: float = typer.Option(
        5.0, min=0.0, help="How long a request waits for others to share its pass."
    ),
    max_queue_texts: int = typer.Option(4096, min=1, help="Texts allowed to wait; beyond, 503."),
    max_body_bytes: int = typer.Option(1 << 20, min=1, help="Largest request body; bigger ones get 413."),
    device: str = device_option(),
    precision: str = precision_option(),
    backend: str = backend_option(),
    reranker_backend: str = typer.Option("torch", "--reranker-backend", help="torch, or onnx: the "
                                         "reranker's graph `simsent export` wrote (int8 when quantised)."),
) -> None:
    """Serve POST /embed, /similarity, /search (and /rerank with --reranker), GET /health, a search page at
    GET / and the API docs at /docs (both work offline)."""
    from simsent.errors import ConfigError
    from simsent.search import VectorIndex
    from simsent.serve import create_app

    try:
        import uvicorn
    except ImportError as exc:
        raise ConfigError("the service needs FastAPI and uvicorn: pip install simsent[serve]") from exc
    check_port_free(host, port)
    enc = ready_model(model, device, precision, backend)
    index = VectorIndex.load(index_dir, model=enc) if index_dir else None
    rerank_model = load_reranker(reranker, "--reranker", device, reranker_backend) if reranker else None
    app = create_app(
        enc,
        index=index,
        max_texts=max_texts,
        max_chars=max_chars,
        batch_size=batch_size,
        model_path=model,
        max_body_bytes=max_body_bytes,
        max_batch_texts=max_batch_texts,
        max_wait_ms=max_wait_ms,
        max_queue_texts=max_queue_texts,
        reranker=rerank_model,
    )
    import gc

    # the model, tokenizer and libraries are loaded for good: move them out of the collector's view,
    # or each full collection scans them all and stalls requests (results/defaults.md)
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info")


def check_port_free(host: str, port: int) -> None:
    """A one-line error when ``host:port`` cannot be bound (in use, or not an address of this machine)."""
    import socket

    from simsent.errors import ConfigError

    if port == 0:
        return
    try:
        with socket.create_server((host, port), reuse_port=False):
            pass
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pass another --port"
        ) from exc

