"""Fine-tuning a static student on in-domain text by distillation (the idea of model2vec's tokenlearn, our
own code): the student's rows are trained so that the mean of a text's rows points where the teacher's
vector of the text points, after the mean of the teacher's vectors is taken away (cosine loss, through
the same :func:`~simsent.adapt.distill.distill` and Trainer as every student; the whole batch in one
call, since each call's backward writes a gradient the size of the table); then the rows are reduced
to ``dim`` by the principal axes of the student's own sentence vectors on the text, which keeps a
sentence the mean of its pieces' rows.

Start from a full-width student (``distill_static(teacher, texts, dim=None)``): reducing first throws
away directions the tuning could have used.

Example:
    >>> student = distill_static(teacher, texts, dim=None)                     # doctest: +SKIP
    >>> student = tune_static(student, teacher, texts, dim=256, epochs=5)      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from simsent.errors import ConfigError

logger = logging.getLogger(__name__)


def tune_static(student: Any, teacher: Any, texts: Sequence[str], dim: int | None = None, epochs: int = 5,
                lr: float = 3e-3, batch_size: int = 256, seed: int = 42, cache_dir: str | None = None,
                teacher_id: str | None = None, show_progress_bar: bool = True, device: str = "auto") -> Any:
    """``student`` (a :class:`~simsent.modeling.static.StaticSentenceEncoder`) tuned on ``texts`` towards
    ``teacher``'s centred vectors, then reduced to ``dim`` (None: kept at its width)."""
    from simsent.adapt.distill import distill
    from simsent.modeling.encoders.static_table import StaticTableEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if epochs < 1:
        raise ConfigError(f"tuning a static student needs at least one epoch, got {epochs}")
    model = SentenceEncoder(StaticTableEncoder.from_static(student), pooling="mean")
    with tempfile.TemporaryDirectory(prefix="simsent-static-") as work:
        result = distill(teacher, model, texts, work, loss="cosine", centre=True, epochs=epochs, lr=lr,
                         batch_size=batch_size, seed=seed, cache_dir=cache_dir, teacher_id=teacher_id,
                         show_progress_bar=show_progress_bar, device=device, forward_chunk_size=0)
    info = {**student.extra_config.get("static", {}),
            "tuned": {"epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed,
                      "sentences": model.extra_config["distillation"]["sentences"],
                      "corpus_sha256": model.extra_config["distillation"]["corpus_sha256"],
                      "steps": result["global_step"], "seconds": round(result["train_seconds"], 1)}}
    tuned = model.encoder.to_static(student.normalize, {**student.extra_config, "static": info})
    logger.info("static student tuned: %d steps in %.0f s", result["global_step"], result["train_seconds"])
    return project_static(tuned, texts, dim) if dim is not None else tuned


def project_static(student: Any, texts: Sequence[str], dim: int) -> Any:
    """``student`` with its rows projected on the first ``dim`` principal axes of its (unnormalised)
    sentence vectors of ``texts``. The projection is linear, so a sentence's new vector is its old one
    projected; the rows are not centred (a constant shift of every row would move every sentence).

    Example:
        >>> project_static(student, texts, 128).get_sentence_embedding_dimension()   # doctest: +SKIP
        128
    """
    from simsent.modeling.static import StaticSentenceEncoder

    width = student.get_sentence_embedding_dimension()
    if not 0 < dim <= width:
        raise ConfigError(f"--static-dim {dim}: the student has {width} dimensions")
    if dim == width:
        return student
    raw = StaticSentenceEncoder(student.tokenizer, student.weights, normalize=False).encode(list(texts))
    raw = raw[np.linalg.norm(raw, axis=1) > 0]
    if len(raw) < dim:
        raise ConfigError(f"--static-dim {dim} needs at least {dim} texts for PCA; there are {len(raw)}")
    axes = np.linalg.svd(raw - raw.mean(axis=0), full_matrices=False)[2][:dim]
    extra = {**student.extra_config, "static": {**student.extra_config.get("static", {}), "dim": dim}}
    return StaticSentenceEncoder(student.tokenizer, student.weights @ axes.T, student.normalize, extra)
