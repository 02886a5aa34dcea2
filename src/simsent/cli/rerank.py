"""``simsent rerank train|score``: a cross-encoder (reranker) trained on your pairs, and used.

Example:
    $ simsent rerank train --model e5-small-ml-zh --train-file pairs.tsv --loss bce --output runs/reranker
    $ simsent rerank train --model e5-small-ml-zh --train-file faq_queries.tsv --corpus faq.txt \\
        --loss listwise --output runs/reranker
    $ simsent rerank score runs/reranker --query "花呗怎么还款" --texts faq.txt --top-k 5
"""

from __future__ import annotations

from typing import Any

import typer

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent.cli.common import output_dir, require_file
from simsent.cli.options import backend_option, settings_command
from simsent.training.arguments import TrainingArguments

rerank_app = typer.Typer(help="Train and use a cross-encoder (reranker).", no_args_is_help=True)

#: ``--loss`` -> the objective (:mod:`simsent.losses.rerank`)
LOSSES = {"bce": "rerank_bce", "listwise": "rerank_listwise", "mse": "rerank_mse"}
#: training options that concern bi-encoders only
_BI_ENCODER_ONLY = ("objective", "simcse_variant", "temperature", "cache_chunk", "pack_tokens",
                    "forward_chunk_size", "streaming", "shuffle_buffer", "data_workers")


@rerank_app.command("train")
@settings_command(TrainingArguments, skip=_BI_ENCODER_ONLY)
def rerank_train(
    model: str = typer.Option(
        ..., "--model", "-m", help="Start: a BERT-family folder or hub id, a bi-encoder simsent or "
        "sentence-transformers saved, or a cross-encoder folder."),
    train_file: str = typer.Option(..., "--train-file", "-t", help="Scored pairs (text_a, text_b, score) for "
                                   "bce / mse; (query, positive[, negative]) rows for listwise."),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the reranker."),
    loss: str = typer.Option("bce", help="bce (0/1 labels), listwise (one positive against its negatives) "
                             "or mse (graded scores)."),
    corpus: str | None = typer.Option(None, help="listwise: a FAQ base to mine each query's negative from "
                                      "(rows without one), by --miner."),
    miner: str | None = typer.Option(None, help="Bi-encoder that mines negatives (default: the start "
                                     "model, mean pooling)."),
    group_size: int = typer.Option(2, "--group-size", min=2, help="listwise: pairs a query is scored in at "
                                   "once, its positive and group-size - 1 negatives (its own, then mined "
                                   "with --corpus, repeated in turn where too few), as FlagEmbedding's "
                                   "train_group_size."),
    layers: int | None = typer.Option(None, "--layers", min=1, help="Keep the start model's first N "
                                      "transformer layers only: a faster, usually weaker reranker."),
    max_len: int = typer.Option(DEFAULT_MAX_LEN * 2, min=4, help="Max tokens of a (query, text) pair."),
    dropout: float | None = typer.Option(None, min=0.0, max=MAX_DROPOUT,
                                         help="Dropout (default: the model's)."),
    settings: dict[str, Any] | None = None,
) -> None:
    """Train a cross-encoder on labelled pairs (the same Trainer, checkpoints and resume as `train`)."""
    from simsent.cli.train import train_locked
    from simsent.errors import ConfigError
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.training.trainer import Trainer

    if loss not in LOSSES:
        raise ConfigError(f"unknown --loss {loss!r}; choose one of {', '.join(LOSSES)}")
    require_file(train_file, "--train-file")
    output_dir(output)
    if group_size != 2 and loss != "listwise":
        raise ConfigError("--group-size is for --loss listwise (a query against several negatives)")
    settings = dict(settings or {})
    if loss == "listwise":
        settings["objective_kwargs"] = {**settings.get("objective_kwargs", {}), "group_size": group_size}
    args = TrainingArguments(**settings, objective=LOSSES[loss], output_dir=output)
    reranker = CrossEncoder.from_pretrained(model, max_len=max_len, dropout=dropout, seed=args.seed,
                                            layers=layers)
    rows = _training_rows(train_file, loss, corpus, miner or model, group_size)
    result = train_locked(Trainer(reranker, args, rows), output)
    if result is not None:
        typer.echo(f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s; reranker saved "
                   f"to {output}")


def _training_rows(path: str, loss: str, corpus: str | None, miner: str, group_size: int = 2) -> list[Any]:
    """The file's rows; for listwise with ``corpus``, each (query, positive) row with a negative as fit's
    mnrl-hard candidate gets one (the query's own first, else mined by ``miner`` from the whole corpus:
    0.05 below the positive, none of the query's positives), and ``group_size - 1`` of them when more;
    rows left without one are dropped."""
    from simsent.data.readers import read_any

    rows = read_any(path)
    if loss != "listwise" or corpus is None:
        return rows
    from simsent.cli.common import read_texts
    from simsent.experiments.fit.config import FitRecipe
    from simsent.experiments.fit.judges import RetrievalJudge
    from simsent.modeling.sentence_encoder import SentenceEncoder

    queries = _query_rows(rows)
    texts = read_texts(corpus, "--corpus")
    judge = RetrievalJudge(texts, mine_range_max=len(texts))
    out = judge.training_rows(FitRecipe.named("mnrl-hard"), queries, SentenceEncoder.from_pretrained(miner),
                              negatives=group_size - 1)
    own = {q.query for q in queries if q.negatives}
    mined = sum(1 for r in out if r["negative"] and r["anchor"] not in own)
    none = sum(1 for r in out if not r["negative"])
    typer.echo(f"mined {mined} negatives from {corpus} ({none} rows found none)", err=True)
    return [r for r in out if r["negative"]]


def _query_rows(rows: list[Any]) -> list[Any]:
    """(anchor, positive[, negative]) rows grouped by query, positives and negatives in file order."""
    from simsent.data.columns import canonical
    from simsent.data.retrieval import QueryRow

    by_query: dict[str, QueryRow] = {}
    for row in (canonical(r) for r in rows if isinstance(r, dict)):
        if not row.get("anchor") or not row.get("positive"):
            continue
        q = by_query.setdefault(row["anchor"], QueryRow(row["anchor"], []))
        q.positives.append(row["positive"])
        if row.get("negative"):
            q.negatives.append(row["negative"])
    return list(by_query.values())


@rerank_app.command("score")
def rerank_score(
    model: str = typer.Argument(..., help="A cross-encoder folder (simsent's or sentence-transformers')."),
    query: str = typer.Option(..., "--query", "-q", help="The query."),
    texts: str = typer.Option(..., "--texts", help="Candidate texts: one a line, or any corpus file."),
    top_k: int | None = typer.Option(None, "--top-k", "-k", min=1, help="Show the best K (default: all)."),
    batch_size: int = typer.Option(32, min=1),
    backend: str = backend_option(),
) -> None:
    """Score every text against the query with a cross-encoder; best first."""
    from simsent.cli.common import load_reranker, read_texts

    reranker = load_reranker(model, "MODEL", backend=backend)
    candidates = read_texts(texts, "--texts")
    ranked = reranker.rank(query, candidates, top_k=top_k, batch_size=batch_size)
    for hit in ranked:
        typer.echo(f"{hit['score']:.4f}\t{candidates[hit['corpus_id']]}")
