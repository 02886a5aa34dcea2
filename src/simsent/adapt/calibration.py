"""Pick the cosine threshold that best separates "same" from "not same" on labelled pairs.

The result is stored in the model's config as ``extra_config["threshold"] = {"value": float,
"metric": "f1" | "accuracy"}`` (details under ``extra_config["threshold_calibration"]``), which
``simsent similarity`` and :mod:`simsent.search.mining` read. A pair is "same" when its cosine is at least
the threshold.

Example:
    >>> best_threshold([0.9, 0.8, 0.3, 0.2], [1, 1, 0, 0])["value"]
    0.55
    >>> calibrate_model("runs/lcqmc", "LCQMC.valid.data", metric="f1")    # doctest: +SKIP
    {'value': 0.83, 'metric': 'f1', 'f1': 0.79, 'accuracy': 0.76, ...}
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent._io import read_json, write_json
from simsent.errors import ConfigError, DataError

if TYPE_CHECKING:
    from simsent.modeling.inputs import Embedder

logger = logging.getLogger(__name__)

METRICS = ("f1", "accuracy")


def best_threshold(
    scores: Sequence[float], labels: Sequence[int | bool], metric: str = "f1"
) -> dict[str, Any]:
    """The threshold (midpoint between two neighbouring scores) maximising ``metric``.

    Returns ``{"value", "metric", "f1", "accuracy", "precision", "recall", "pairs", "positives"}``.
    """
    if metric not in METRICS:
        raise ConfigError(f"unknown calibration metric {metric!r}; choose f1 or accuracy")
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    if len(s) != len(y) or len(s) == 0:
        raise DataError("calibration needs as many labels as scores, and at least one pair")
    if y.all() or not y.any():
        raise DataError("calibration needs both positive and negative pairs")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    # predicting "same" for the first i pairs (i = 1..n): true positives so far
    tp = np.cumsum(y)
    i = np.arange(1, len(s) + 1)
    fp = i - tp
    pos = y.sum()
    tn = (len(s) - pos) - fp
    # only cut between distinct scores
    last_of_group = np.r_[s[1:] != s[:-1], True]
    precision = tp / i
    recall = tp / pos
    f1 = np.where(tp > 0, 2 * precision * recall / np.clip(precision + recall, 1e-12, None), 0.0)
    acc = (tp + tn) / len(s)
    target = np.where(last_of_group, f1 if metric == "f1" else acc, -1.0)
    best = int(np.argmax(target))
    value = float((s[best] + s[best + 1]) / 2) if best + 1 < len(s) else float(s[best] - 1e-6)
    return {
        "value": round(value, 6),
        "metric": metric,
        "f1": float(f1[best]),
        "accuracy": float(acc[best]),
        "precision": float(precision[best]),
        "recall": float(recall[best]),
        "pairs": int(len(s)),
        "positives": int(pos),
    }


def pair_labels(rows: Sequence[dict[str, Any]], positive_threshold: float | None = None) -> np.ndarray:
    """Binary labels of pair rows; 0/1 labels need no threshold, graded scores (STS-B) need one."""
    scores = np.asarray([float(r["score"]) for r in rows])
    if positive_threshold is None:
        if not set(np.unique(scores)) <= {0.0, 1.0}:
            raise ConfigError("the labels are graded, not 0/1: pass --positive-threshold (e.g. 4 for STS-B)")
        positive_threshold = 1.0
    return scores >= positive_threshold


def calibrate(
    model: Embedder,
    rows: Sequence[dict[str, Any]],
    metric: str = "f1",
    positive_threshold: float | None = None,
    batch_size: int = 64,
) -> dict[str, Any]:
    """Cosine of each pair under ``model`` -> :func:`best_threshold`."""
    from simsent.evaluation.sts import cosine_scores

    if not rows:
        raise DataError("no pair to calibrate on")
    labels = pair_labels(rows, positive_threshold)
    s1 = [r["sentence1"] for r in rows]
    s2 = [r["sentence2"] for r in rows]
    uniq = list(dict.fromkeys(s1 + s2))
    vecs = np.asarray(model.encode(uniq, batch_size=batch_size, normalize_embeddings=True))
    pos = {s: i for i, s in enumerate(uniq)}
    scores = cosine_scores(vecs[[pos[s] for s in s1]], vecs[[pos[s] for s in s2]])
    return best_threshold(scores, labels, metric)


def store_threshold(
    model_path: str, result: dict[str, Any], model: Embedder | None = None, output: str | None = None
) -> str:
    """Write the threshold into a model folder's config; returns the folder written.

    A simsent folder gets its ``simsent_config.json`` rewritten atomically in place (weights, card
    and training files untouched). Any other model (plain Hugging Face or sentence-transformers) is
    saved as a simsent folder to ``output``.
    """
    from simsent.modeling.st_format import SIMSENT_CONFIG

    threshold = {"value": float(result["value"]), "metric": result["metric"]}
    details = {k: v for k, v in result.items() if k not in ("value", "metric")}
    target = output or model_path
    cfg_file = os.path.join(model_path, SIMSENT_CONFIG)
    if os.path.isfile(cfg_file) and os.path.abspath(target) == os.path.abspath(model_path):
        cfg = read_json(cfg_file, what="model config")
        cfg["threshold"] = threshold
        cfg["threshold_calibration"] = details
        write_json(cfg_file, cfg)  # atomic: weights, card and training files untouched
        return model_path
    if output is None:
        raise ConfigError(
            f"{model_path} is not a simsent model folder; pass --output DIR to save a calibrated copy"
        )
    if model is None:
        from simsent.modeling.sentence_encoder import SentenceEncoder

        model = SentenceEncoder.load(model_path)
    model.extra_config["threshold"] = threshold
    model.extra_config["threshold_calibration"] = details
    model.save(output)
    return output


def calibrate_model(
    model_path: str,
    pairs: Any,
    metric: str = "f1",
    positive_threshold: float | None = None,
    output: str | None = None,
    batch_size: int = 64,
    backend: str | None = None,
) -> dict[str, Any]:
    """Load a model, calibrate on a pairs file or rows, store the threshold; returns the result."""
    from simsent.data.columns import rows_for_columns
    from simsent.data.readers import read_any
    from simsent.modeling.sentence_encoder import SentenceEncoder

    rows = rows_for_columns(read_any(pairs), ["sentence1", "sentence2"], "score", source=str(pairs))
    model = SentenceEncoder.load(model_path, backend=backend)
    result = calibrate(model, rows, metric, positive_threshold, batch_size)
    result["stored_in"] = store_threshold(model_path, result, model=model, output=output)
    logger.info(
        "threshold %.4f (%s %.4f) stored in %s", result["value"], metric, result[metric], result["stored_in"]
    )
    return result
