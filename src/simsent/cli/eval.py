"""``simsent eval``: Spearman/Pearson (and alignment/uniformity) of a model on the STS tasks, and
retrieval figures (Recall@1/5/10, MRR@10, nDCG@10) on a user's queries and FAQ base.

Example:
    $ simsent eval runs/stsb --tasks ATEC,BQ,LCQMC,PAWSX,STS-B --data-dir data/senteval_cn
    $ simsent eval runs/faq --queries faq_queries.tsv --corpus faq.txt
"""

from __future__ import annotations

import os

import typer

from simsent.cli.common import output_file, ready_model
from simsent.cli.options import backend_option, device_option, precision_option


def evaluate(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    tasks: str | None = typer.Option(
        None, help="Comma-separated tasks, or 'all' (default: all five, or none with --queries)."
    ),
    queries: str | None = typer.Option(
        None, help="Retrieval: query<TAB>positive lines (scored pairs too) or JSONL {query, pos, neg}."
    ),
    corpus: str | None = typer.Option(
        None, help="With --queries: the texts searched (one a line, or .jsonl/.csv with id and text); "
        "default: every text of the queries file."
    ),
    positive_threshold: float = typer.Option(
        1.0, help="With --queries: a scored pair at or above this is a positive, below a negative."
    ),
    split: str = typer.Option("valid"),
    data_dir: str | None = typer.Option(
        None, help="Folder with TASK/TASK.split.data (or $SIMSENT_DATA_DIR)."
    ),
    pooling: str | None = typer.Option(None, help="Override the model's pooling."),
    batch_size: int = typer.Option(64, min=1),
    max_len: int | None = typer.Option(None, min=2),
    max_pairs: int | None = typer.Option(None, min=1, help="Seeded subset of pairs per task."),
    seed: int = typer.Option(42),
    output: str | None = typer.Option(None, help="Write metrics as JSON here (and a .md beside it)."),
    device: str = device_option(),
    precision: str = precision_option(),
    backend: str = backend_option(),
) -> None:
    """Spearman/Pearson of cosine vs gold labels (plus alignment/uniformity) per task; with --queries,
    Recall@1/5/10, MRR@10 and nDCG@10 of the queries in the corpus."""
    from simsent._io import write_json, write_text
    from simsent.evaluation.sts import summarize, to_markdown

    if output:
        output_file(output, "--output")
    if corpus is not None and queries is None:
        from simsent.errors import ConfigError

        raise ConfigError("--corpus is the FAQ base of --queries; give --queries FILE too")
    retrieval = _retrieval_evaluator(queries, corpus, positive_threshold, batch_size) if queries else None
    evaluators = _task_evaluators(tasks, queries, split, data_dir, max_pairs, seed)
    encoder = ready_model(model, device, precision, backend, pooling=pooling, max_len=max_len)
    per_task = {}
    for ev in evaluators:
        ev.batch_size = batch_size
        per_task[ev.name] = ev(encoder)
    record: dict = {"model": model}
    mds = []
    if per_task:
        mds.append(to_markdown(per_task, title=f"{model} on {split}"))
        record.update({"split": split, "tasks": per_task, **summarize(per_task)})
    if retrieval is not None:
        record["retrieval"] = {"queries_file": queries, "corpus_file": corpus, **retrieval(encoder)}
        mds.append(_retrieval_markdown(model, record["retrieval"]))
    md = "\n".join(mds)
    typer.echo(md)
    if output:
        write_json(output, record)
        write_text(os.path.splitext(output)[0] + ".md", md)
        typer.echo(f"wrote {output}")


def _task_evaluators(tasks: str | None, queries: str | None, split: str, data_dir: str | None,
                     max_pairs: int | None, seed: int) -> list:
    """The STS evaluators asked for (all five by default; none when only --queries is given)."""
    from simsent.data.tasks import parse_tasks, resolve_data_dir
    from simsent.evaluation.sts import STSEvaluator

    if tasks is None and queries is not None:
        return []
    task_list = parse_tasks(tasks or "ATEC,BQ,LCQMC,PAWSX,STS-B")
    resolve_data_dir(data_dir)
    return [STSEvaluator.from_task(t, split, data_dir, max_pairs, seed) for t in task_list]


def _retrieval_evaluator(queries: str, corpus: str | None, threshold: float, batch_size: int):
    """Exact retrieval of the queries of ``queries`` in ``corpus`` (read before the model is loaded)."""
    from simsent.data.retrieval import read_queries, retrieval_data
    from simsent.evaluation.retrieval import RetrievalEvaluator
    from simsent.search.corpus import iter_corpus

    texts = [r["text"] for r in iter_corpus(corpus)] if corpus else None
    data = retrieval_data(read_queries(queries, threshold), texts, source=queries)
    return RetrievalEvaluator(data, name="retrieval", batch_size=batch_size)


def _retrieval_markdown(model: str, m: dict) -> str:
    """The retrieval figures as a one-row table (x100)."""
    names = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    return "\n".join([
        f"# {model}: retrieval of {m['queries_file']}"
        + (f" in {m['corpus_file']}" if m["corpus_file"] else ""),
        "",
        "| queries | corpus | " + " | ".join(n.replace("recall", "R") for n in names) + " |",
        "|---:|---:|" + "---:|" * len(names),
        f"| {m['queries']} | {m['corpus']} | " + " | ".join(f"{m[n]:.2f}" for n in names) + " |",
        "", "Exact cosine over the whole corpus; a query never counts its own text as a hit.", "",
    ])
