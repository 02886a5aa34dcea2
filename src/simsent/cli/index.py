"""``simsent index build|add|search``: a vector index of a corpus.

Example:
    $ simsent index build runs/lcqmc --corpus faq.jsonl --output runs/faq-index --index-backend hnsw
    $ simsent index add runs/faq-index --corpus more.txt
    $ simsent index search runs/faq-index "花呗怎么还款" -k 5
"""

from __future__ import annotations

import json

import typer

from simsent.cli.common import index_model, load_reranker, output_dir, ready_model, require_file
from simsent.cli.options import (
    chosen_index_backend,
    device_option,
    gpus_per_worker_option,
    index_backend_option,
    model_backend_option,
    old_index_backend_option,
    precision_option,
    ray_option,
    shard_rows_option,
    workers_option,
)

index_app = typer.Typer(help="Build, extend and query a vector index of a corpus.", no_args_is_help=True)


@index_app.command("build")
def index_build(
    model: str = typer.Argument(..., help="Model folder or hub id that encodes the corpus."),
    corpus: str | None = typer.Option(
        None, "--corpus", "-c", help="One text per line, or .jsonl/.csv with id, text, payload."
    ),
    from_vectors: str | None = typer.Option(
        None,
        "--from-vectors",
        help="A folder of shards from `simsent encode --shard-rows` (instead of --corpus): added shard by "
        "shard, memory bounded by one shard plus the index.",
    ),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the index (written atomically)."),
    index_backend: str = index_backend_option(),
    old_backend: str | None = old_index_backend_option(),
    engine: str = typer.Option("auto", help="auto (faiss when installed) | faiss | numpy (exact only)."),
    batch_size: int = typer.Option(64, min=1, help="Encode batch size."),
    chunk_size: int = typer.Option(4096, min=1, help="Texts read and encoded per chunk."),
    hnsw_m: int = typer.Option(32, min=2, help="HNSW graph degree."),
    ef_construction: int = typer.Option(200, min=1, help="HNSW build beam width."),
    ef_search: int = typer.Option(
        64, min=1, help="HNSW search beam width (64: recall@10 0.99 at p50 0.7 ms on 1M clustered vectors)."
    ),
    nlist: int | None = typer.Option(None, min=1, help="IVF cells (default 4*sqrt(rows))."),
    pq_m: int | None = typer.Option(None, min=1, help="PQ sub-quantisers (must divide the dimension)."),
    nprobe: int = typer.Option(16, min=1, help="IVF cells visited per query."),
    refine: int = typer.Option(0, min=0, help="IVF-PQ: re-rank refine*k candidates exactly (0: off)."),
    rescore: int = typer.Option(
        10, min=1, help="binary: re-rank rescore*k Hamming candidates (10: recall@10 0.97 of exact float32)."
    ),
    rescore_with: str = typer.Option(
        "int8", help="binary: re-rank with int8 (1 byte/dim on disk) or float32 vectors (4 bytes/dim; exact "
        "cosines); either memory-mapped."
    ),
    binary_threshold: str = typer.Option(
        "mean", help="binary: a bit is 1 above the corpus mean of its dimension (mean; calibrated on the "
        "first 10,000 vectors) or above 0 (zero: plain signs)."
    ),
    workers: int | None = workers_option(),
    ray: str | None = ray_option(),
    gpus_per_worker: float = gpus_per_worker_option(),
    shards: str | None = typer.Option(
        None, "--shards", help="With --workers/--ray: the shard folder (default OUTPUT.shards; kept, so a "
        "rerun resumes)."
    ),
    shard_rows: int = shard_rows_option(100_000),
    dim: int | None = typer.Option(None, "--dim", min=1, help="Index the first D dimensions of each vector "
                                   "(renormalised; queries are cut alike): a model trained with "
                                   "--matryoshka-dims keeps most of its quality at a fraction of the bytes."),
    device: str = device_option(),
    precision: str = precision_option(),
    model_backend: str = model_backend_option(),
) -> None:
    """Encode a corpus with MODEL in streamed chunks (or take its shards) and save a vector index.

    With --workers/--ray the corpus is encoded into shards on Ray workers first, then indexed from them.
    """
    from simsent.scale.pipeline import Spread

    spread = Spread(workers or 0, ray, gpus_per_worker)
    _check_build_inputs(corpus, from_vectors, spread, dim)
    output_dir(output)
    if spread.on_ray:
        from simsent.scale.pipeline import shard_corpus

        from_vectors = shards or f"{output.rstrip('/')}.shards"
        _, enc = shard_corpus(model, corpus, from_vectors, shard_rows=shard_rows, batch_size=batch_size,
                              device=device, precision=precision, backend=model_backend, spread=spread)
    else:
        enc = ready_model(model, device, precision, model_backend)
    params = {"engine": engine, "hnsw_m": hnsw_m, "ef_construction": ef_construction, "ef_search": ef_search,
              "nlist": nlist, "pq_m": pq_m, "nprobe": nprobe, "refine": refine, "rescore": rescore,
              "rescore_with": rescore_with, "binary_threshold": binary_threshold}
    backend = chosen_index_backend(index_backend, old_backend)
    params["spool_dir"] = _parent(output)  # a full disk is the output's, and says so
    if dim is not None:
        params["dim"] = dim
    _build_and_save(enc, model, corpus, from_vectors, output, backend, params, batch_size, chunk_size)


def _check_build_inputs(corpus: str | None, from_vectors: str | None, spread, dim: int | None) -> None:
    """One input (a corpus file, or shards that are not encoded again), ``--dim`` only with a corpus
    encoded here."""
    from simsent.errors import ConfigError

    if (corpus is None) == (from_vectors is None):
        raise ConfigError("give exactly one of --corpus FILE or --from-vectors SHARD_FOLDER")
    if from_vectors is not None and spread.on_ray:
        raise ConfigError("--workers/--ray encode --corpus; --from-vectors folders are encoded already")
    if corpus is not None:
        require_file(corpus, "--corpus")
    if dim is not None and (from_vectors is not None or spread.on_ray):
        raise ConfigError("--dim takes --corpus encoded here (not shards or Ray workers yet)")


def _build_and_save(enc, model: str, corpus: str | None, from_vectors: str | None, output: str, backend: str,
                    params: dict, batch_size: int, chunk_size: int) -> None:
    """The index of ``corpus`` (encoded here) or of the shards in ``from_vectors``, saved under its lock."""
    from simsent.search import VectorIndex
    from simsent.search.index import index_lock

    if from_vectors is not None:
        from simsent.scale.index_build import index_from_shards

        index = index_from_shards(from_vectors, backend=backend, **params)
        if enc is not None:  # None: encoded just now on Ray workers, which reported the model's identity
            index.check_model(enc)  # the shards' model must be the one that will encode the queries
    else:
        index = VectorIndex.build(enc, corpus, backend=backend, model_path=model, batch_size=batch_size,
                                  chunk_size=chunk_size, **params)
    with index_lock(output):
        index.save(output)
    typer.echo(f"indexed {len(index)} rows ({index.backend}, {index.dim} dims) -> {output}")


@index_app.command("add")
def index_add(
    index_dir: str = typer.Argument(..., help="Index folder."),
    corpus: str = typer.Option(..., "--corpus", "-c", help="Texts to add (same formats as build)."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model (default: the one recorded in the index)."
    ),
    batch_size: int = typer.Option(64, min=1),
    chunk_size: int = typer.Option(4096, min=1),
    model_backend: str = model_backend_option(),
) -> None:
    """Encode more texts and add them to an index (saved atomically; concurrent writers wait in turn)."""
    from simsent.search import VectorIndex
    from simsent.search.index import index_lock

    require_file(corpus, "--corpus")
    with index_lock(index_dir):  # load-add-save as one step: two writers never lose each other's rows
        index = VectorIndex.load(index_dir, spool_dir=_parent(index_dir))
        enc = index_model(index, model, model_backend)
        added = index.add_texts(enc, corpus, batch_size=batch_size, chunk_size=chunk_size)
        index.save(index_dir)
    typer.echo(f"added {added} rows; {len(index)} in total -> {index_dir}")


@index_app.command("search")
def index_search(
    index_dir: str = typer.Argument(..., help="Index folder."),
    queries: list[str] = typer.Argument(..., help="One or more query texts."),
    k: int = typer.Option(5, "-k", "--top-k", min=1, help="Hits per query."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model (default: the one recorded in the index)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per query."),
    rerank: str | None = typer.Option(None, "--rerank", help="A cross-encoder folder that re-orders the "
                                      "first --rerank-top hits (scores are then the reranker's)."),
    rerank_top: int = typer.Option(50, "--rerank-top", min=1, help="First-stage hits the reranker reads."),
    rerank_blend: float | None = typer.Option(
        None, "--rerank-blend", min=0.0, max=1.0, help="How much of the first stage's cosine to blend into "
        "the reranker's order (0: the reranker alone, 1: the first stage's order; default: what fit chose "
        "for this reranker, else 0)."),
    rerank_backend: str = typer.Option("torch", "--rerank-backend", help="torch, or onnx: the reranker's "
                                       "graph `simsent export` wrote."),
    model_backend: str = model_backend_option(),
) -> None:
    """Print the top-k hits (rank, score, id, text) of each query (reranked with --rerank)."""
    from simsent.data.readers import is_blank
    from simsent.errors import DataError
    from simsent.search import VectorIndex

    if any(is_blank(q) for q in queries):
        raise DataError("a query is empty (whitespace or zero-width characters alone are blank)")
    index = VectorIndex.load(index_dir)
    enc = index_model(index, model, model_backend)
    reranker = load_reranker(rerank, "--rerank", backend=rerank_backend) if rerank else None
    res = index.search(queries, k=max(k, rerank_top) if reranker else k, model=enc, check_model=False)
    if reranker is not None:
        from simsent.search.rerank import rerank_results

        res = rerank_results(res, queries, reranker, k, blend=rerank_blend)
    for i, q in enumerate(queries):
        hits = res.hits(i)
        if as_json:
            typer.echo(json.dumps({"query": q, "hits": hits}, ensure_ascii=False))
            continue
        typer.echo(f"query: {q}")
        for rank, h in enumerate(hits, 1):
            extra = f"\t{json.dumps(h['payload'], ensure_ascii=False)}" if h["payload"] else ""
            typer.echo(f"{rank}\t{h['score']:.4f}\t{h['id']}\t{h['text']}{extra}")


def _parent(path: str) -> str:
    """The folder that holds ``path`` (where its temporary files go)."""
    import os

    return os.path.dirname(os.path.abspath(path))

