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
    args = TrainingArguments(**(settings or {}), objective=LOSSES[loss], output_dir=output)
    rows = _training_rows(train_file, loss, corpus, miner or model, args.seed)
    reranker = CrossEncoder.from_pretrained(model, max_len=max_len, dropout=dropout, seed=args.seed)
    result = train_locked(Trainer(reranker, args, rows), output)
    if result is not None:
        typer.echo(f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s; reranker saved "
                   f"to {output}")


def _training_rows(path: str, loss: str, corpus: str | None, miner: str, seed: int) -> list[Any]:
    """The file's rows; for listwise, a negative mined from ``corpus`` for each row without one."""
    from simsent.data.readers import read_any

    rows = read_any(path)
    if loss != "listwise" or corpus is None:
        return rows
    from simsent.cli.common import read_texts
    from simsent.data.columns import canonical
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.search.hard_negatives import mine_hard_negatives

    shaped = [canonical(r) if isinstance(r, dict) else r for r in rows]
    todo = [r for r in shaped if isinstance(r, dict) and not r.get("negative")]
    texts = read_texts(corpus, "--corpus")
    positives: dict[str, list[str]] = {}
    for r in shaped:
        if isinstance(r, dict):
            positives.setdefault(r.get("anchor"), []).append(r.get("positive"))
    # the best-ranked text 0.05 below the positive that is none of the query's positives, in all the corpus
    mined, counts = mine_hard_negatives(SentenceEncoder.from_pretrained(miner), todo, texts, range_min=1,
                                        range_max=len(texts), exclude=[positives[r["anchor"]] for r in todo])
    typer.echo(f"mined {counts['mined']} negatives from {corpus} ({counts['none']} rows found none)",
               err=True)
    have = [r for r in shaped if isinstance(r, dict) and r.get("negative")]
    return have + [r for r in mined if r["negative"]]


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
    from simsent.cli.common import read_texts
    from simsent.errors import ConfigError
    from simsent.modeling.cross_encoder import CrossEncoder, is_cross_encoder

    if not is_cross_encoder(model):
        raise ConfigError(f"{model} is not a cross-encoder (no score head was trained); train one with "
                          "`simsent rerank train`")
    candidates = read_texts(texts, "--texts")
    reranker = CrossEncoder.load(model, backend=backend)
    ranked = reranker.rank(query, candidates, top_k=top_k, batch_size=batch_size)
    for hit in ranked:
        typer.echo(f"{hit['score']:.4f}\t{candidates[hit['corpus_id']]}")
