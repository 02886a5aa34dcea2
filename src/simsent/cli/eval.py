"""``simsent eval``: Spearman/Pearson (and alignment/uniformity) of a model on the STS tasks.

Example:
    $ simsent eval runs/stsb --tasks ATEC,BQ,LCQMC,PAWSX,STS-B --data-dir data/senteval_cn
"""

from __future__ import annotations

import os

import typer

from simsent.cli.common import backend_option, device_option, output_file, precision_option, ready_model


def evaluate(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    tasks: str = typer.Option("ATEC,BQ,LCQMC,PAWSX,STS-B", help="Comma-separated tasks, or 'all'."),
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
    """Spearman/Pearson of cosine vs gold labels (plus alignment/uniformity) per task."""
    from simsent._io import write_json, write_text
    from simsent.data.tasks import parse_tasks, resolve_data_dir
    from simsent.evaluation.sts import STSEvaluator, summarize, to_markdown

    if output:
        output_file(output, "--output")
    task_list = parse_tasks(tasks)
    resolve_data_dir(data_dir)
    evaluators = [STSEvaluator.from_task(t, split, data_dir, max_pairs, seed) for t in task_list]
    encoder = ready_model(model, device, precision, backend, pooling=pooling, max_len=max_len)
    per_task = {}
    for ev in evaluators:
        ev.batch_size = batch_size
        per_task[ev.name] = ev(encoder)
    md = to_markdown(per_task, title=f"{model} on {split}")
    typer.echo(md)
    if output:
        write_json(output, {"model": model, "split": split, "tasks": per_task, **summarize(per_task)})
        write_text(os.path.splitext(output)[0] + ".md", md)
        typer.echo(f"wrote {output}")
