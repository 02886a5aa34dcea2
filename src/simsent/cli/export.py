"""``simsent export``: the whole sentence pipeline as ONNX (optionally int8) beside a normal model folder.

Example:
    $ simsent export runs/stsb --format onnx --quantize int8 --output runs/stsb-onnx
    $ simsent encode runs/stsb-onnx --backend onnx --input sents.txt --output vecs.npy
"""

from __future__ import annotations

import typer

from simsent.cli.common import output_dir


def export(
    model: str = typer.Argument(..., help="Model folder or hub id."),
    output: str = typer.Option(..., "--output", "-o", help="Folder for the model and its onnx/ graphs."),
    format: str = typer.Option("onnx", "--format", help="onnx (the only format so far)."),
    quantize: str | None = typer.Option(None, "--quantize", help="int8: add a dynamically quantised graph."),
    opset: int = typer.Option(17, "--opset", min=11, help="ONNX opset."),
    optimize: bool = typer.Option(False, "--optimize", help="A transformer's graph through onnxruntime's "
                                  "transformer optimiser first (fused attention and layer norms; before "
                                  "--quantize). Not faster for e5-small on 2 CPU threads: "
                                  "results/light_e5.md."),
) -> None:
    """Export MODEL (transformer or TextCNN, pooling, Dense/whitening, Normalize; or a reranker) to ONNX."""
    from simsent.errors import ConfigError
    from simsent.modeling.cross_encoder import CrossEncoder, is_cross_encoder
    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if format != "onnx":
        raise ConfigError(f"unknown --format {format!r}; use onnx")
    output_dir(output)
    reranker = is_cross_encoder(model)
    loaded = CrossEncoder.load(model) if reranker else SentenceEncoder.load(model, backend="torch")
    record = export_onnx(loaded, output, opset=opset, quantize=quantize, optimize=optimize)
    typer.echo(f"exported {model} to {output} ({record['file']}); load it with --backend onnx")
