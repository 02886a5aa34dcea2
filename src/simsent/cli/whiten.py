"""``simsent whiten``: fit BERT-whitening on a corpus and save it as a Dense layer.

Example:
    $ simsent whiten bert-base-chinese --corpus sents.txt --dim 256 --output runs/bert-whiten
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_dir, read_texts
from simsent.cli.options import device_option


def whiten(
    model: str = typer.Argument(..., help="Hub id or local folder of the model to whiten."),
    corpus: str = typer.Option(
        ...,
        "--corpus",
        "-c",
        help="Sentences to fit on: .txt, .data, .csv/.tsv, .jsonl (both sides of pairs are used).",
    ),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the whitened model."),
    dim: int | None = typer.Option(None, "--dim", "-k", min=1, help="Keep K dimensions (default: all)."),
    pooling: str | None = typer.Option(None, help="Pooling (default: the model's own, else mean)."),
    max_len: int | None = typer.Option(None, min=2, help="Max tokens per sentence."),
    max_sentences: int | None = typer.Option(None, min=2, help="Seeded random subset of the corpus."),
    eps: float = typer.Option(
        1e-6,
        min=0.0,
        help="Relative regulariser added to the singular values "
        "(S + eps*max(S)); 0 makes a singular covariance an error.",
    ),
    batch_size: int = typer.Option(64, min=1),
    seed: int = typer.Option(42),
    device: str = device_option(),
) -> None:
    """Fit BERT-whitening on a corpus; save MODEL with it as a Dense layer (SentenceTransformer too)."""
    from simsent.adapt.whitening import whiten_model
    from simsent.data.sampling import sample_rows
    from simsent.errors import DataError
    from simsent.modeling.device import resolve_device
    from simsent.modeling.sentence_encoder import SentenceEncoder

    output_dir(output)
    lines = read_texts(corpus, "--corpus")
    texts = list(dict.fromkeys(lines))
    if len(texts) < 2:
        raise DataError(f"whitening needs at least 2 distinct sentences; {corpus} has {len(lines)} line(s), "
                        f"{len(texts)} distinct (--corpus)")
    texts = sample_rows(texts, max_sentences, seed)
    enc = SentenceEncoder.from_pretrained(model, pooling=pooling, max_len=max_len, backend="torch")
    enc = enc.to(resolve_device(device))
    whiten_model(enc, texts, dim=dim, eps=eps, batch_size=batch_size)
    enc.extra_config["whitening"]["corpus"] = corpus
    enc.save(output)
    typer.echo(
        f"whitened {model} on {len(texts)} sentences -> {enc.get_sentence_embedding_dimension()} dims; "
        f"saved to {output}"
    )
