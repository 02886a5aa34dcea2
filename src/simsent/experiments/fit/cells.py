"""fit's candidate cells: one family on one pooling, trained (unless ``raw``), scored with its whitened
variants and its merges with the start model, through a judge (:mod:`simsent.experiments.fit.judges`), on
the selection, report and audit parts; and the retraining of a winner (``--refit``).

Example:
    >>> cell = run_fit_family(cfg, "mnrl", "mean", texts, splits, keep_if_best, judge)   # doctest: +SKIP
    >>> [r["recipe"] for r in cell["rows"]]                                              # doctest: +SKIP
    ['mnrl', 'mnrl + whitening (k=384)', 'mnrl merged a=0.5']
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.experiments.cells import balanced_batch_size, nan_low, train_in_place
from simsent.experiments.fit.candidate import Candidate
from simsent.experiments.fit.config import FitConfig, FitRecipe
from simsent.experiments.fit.judges import PairJudge
from simsent.experiments.protocol import FitSplits

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder


@dataclass
class Variant:
    """One scored model of a family: its name, whitening ``(W, mu)`` (or None) and merge weight."""

    name: str
    whiten_dim: int | None
    whitening: Any
    model: Any
    merge_weight: float | None = None


def run_fit_family(
    cfg: FitConfig,
    family: str,
    pooling: str,
    texts: list[str],
    splits: FitSplits,
    keep_if_best: Callable[[float, Callable[[str], None]], bool],
    judge: Any = None,
) -> dict[str, Any]:
    """One candidate family of ``fit`` on one pooling: train (unless ``raw``), then score the model, its
    whitened variants and its merges with the start model on the selection and held-out parts.

    ``keep_if_best(score, save)`` is called with the family's best selection score; it calls
    ``save(folder)`` when that beats every candidate so far, so the winner is on disk at the end.
    Cross-fitted splits score a supervised family's selection pairs out of fold.
    """
    judge = judge or PairJudge(batch_size=cfg.encode_batch_size)
    start = time.perf_counter()
    recipe = FitRecipe.named(family)
    model, steps, epochs = train_family(cfg, family, pooling, texts, splits.train, judge)
    held = [splits.report, splits.audit]  # scored, never chosen on
    out_of_fold = splits.cross_fitted and recipe.supervised
    parts = [[] if out_of_fold else splits.selection, *held]
    variants, encoded = _fit_variants(cfg, judge, model, family, texts, parts)
    if out_of_fold:
        selection = _out_of_fold_evidence(cfg, judge, family, pooling, texts, splits)
    else:
        selection = [judge.evidence(encoded, 0, splits.selection, v.whitening) for v in variants]
    scored = [_fit_scores(cfg, judge, pooling, family, v, selection[i], encoded, splits)
              for i, v in enumerate(variants)]
    if recipe.trains and not out_of_fold:
        for v, enc in _merged_variants(cfg, judge, model, family, pooling, parts):
            variants.append(v)
            scored.append(_fit_scores(cfg, judge, pooling, family, v,
                                      judge.evidence(enc, 0, splits.selection, None), enc, splits))
    best_i = max(range(len(scored)), key=lambda i: nan_low(scored[i].selection))
    save = functools.partial(_save_variant, cfg, variants[best_i], scored[best_i], len(texts))
    saved = keep_if_best(nan_low(scored[best_i].selection), save)
    return {"family": family, "pooling": pooling, "rows": [c.to_dict() for c in scored], "saved": saved,
            "train_steps": steps, "epochs": epochs, "seconds": time.perf_counter() - start}


def _merged_variants(
    cfg: FitConfig, judge: Any, tuned: SentenceEncoder, family: str, pooling: str, parts: list
) -> list[tuple[Variant, Any]]:
    """``(1 - a) * start + a * tuned`` for every ``a`` of ``cfg.merge_weights`` (WiSE-FT / LM-Cocktail),
    each with its encoded parts."""
    from simsent.adapt.merge import merge_models

    weights = [a for a in cfg.merge_weights if 0 < a < 1]
    if not weights:
        return []
    start = _start_model(cfg, family, pooling)
    out = []
    for a in weights:
        merged = merge_models(start, tuned, a)
        merged.eval()
        out.append((Variant(f"{family} merged a={a:g}", None, None, merged, a), judge.encode(merged, parts)))
    return out


def _start_model(cfg: FitConfig, family: str, pooling: str) -> SentenceEncoder:
    from simsent.modeling.sentence_encoder import SentenceEncoder

    recipe = FitRecipe.named(family)
    return SentenceEncoder.from_pretrained(
        cfg.model, pooling=pooling, max_len=cfg.max_len, dropout=recipe.dropout
    )


def _save_variant(cfg: FitConfig, variant: Variant, row: Candidate, corpus_size: int, path: str) -> None:
    """Save the variant's model with its whitening as a Dense layer, and fit's record of the recipe."""
    from simsent.adapt.whitening import whitening_layer

    model = variant.model
    if variant.whitening is not None:
        model.dense.append(whitening_layer(*variant.whitening).to(model.device))
        model.extra_config["whitening"] = {"dim": int(variant.whitening[0].shape[1]),
                                           "corpus_sentences": corpus_size}
    model.extra_config["fit"] = {"recipe": row.recipe, "pooling": row.pooling, "seed": cfg.seed}
    model.save(path)
    if variant.whitening is not None:
        model.dense.pop(-1)


def refit_winner(
    cfg: FitConfig, winner: Candidate, texts: list[str], splits: FitSplits, path: str, judge: Any = None
) -> dict[str, Any]:
    """Retrain the winner's family on the train and selection parts together, whiten or merge it as the
    winner was, save it in ``path`` and score it on the report (and audit) part, which it never saw.

    Example:
        >>> refit_winner(cfg, board[0], texts, splits, "runs/best/fit-runs/refit")  # doctest: +SKIP
        {'pairs': 700, 'report': 72.9, 'report_ci': [67.4, 77.6], 'seconds': 130.2}
    """
    judge = judge or PairJudge(batch_size=cfg.encode_batch_size)
    start = time.perf_counter()
    items = splits.train + splits.selection
    model, steps, _ = train_family(cfg, winner.family, winner.pooling, texts, items, judge)
    parts = [[], splits.report, splits.audit]
    if winner.merge_weight is not None:
        once = dataclasses.replace(cfg, merge_weights=[winner.merge_weight])
        variant, encoded = _merged_variants(once, judge, model, winner.family, winner.pooling, parts)[0]
    else:
        # an unwhitened winner needs no whitening variants, so the unlabelled corpus is not encoded for them
        needs = cfg if winner.whiten_dim is not None else dataclasses.replace(cfg, whiten_dims=[])
        variants, encoded = _fit_variants(needs, judge, model, winner.family, texts, parts)
        variant = next(v for v in variants if v.whiten_dim == winner.whiten_dim)
    scores = _held_out_scores(cfg, judge, variant, encoded, splits)
    _save_variant(cfg, variant, winner, len(texts), path)
    return {"pairs": len(items), "items": len(items), **scores, "train_steps": steps,
            "seconds": time.perf_counter() - start}


def train_family(
    cfg: FitConfig, family: str, pooling: str, texts: list[str], items: list[Any], judge: Any = None,
    rows: list[Any] | None = None,
) -> tuple:
    """The start model with ``pooling``, trained by the family's recipe (not for ``raw``) on its rows from
    the labelled ``items`` (supervised; built by the judge) or on ``texts``; with its steps and epochs.
    ``rows``: the family's rows built already (e.g. augsbert's, whose reranker the caller also wants)."""
    from simsent.training.seed import set_seed

    judge = judge or PairJudge(batch_size=cfg.encode_batch_size)
    recipe = FitRecipe.named(family)
    set_seed(cfg.seed)
    model = _start_model(cfg, family, pooling)
    if not recipe.trains:
        return model, 0, 0
    rows = _family_rows(cfg, recipe, judge, model, items, texts) if rows is None else rows
    epochs = fit_epochs(recipe, len(rows))
    matryoshka = {}
    if recipe.matryoshka:
        from simsent.experiments.fit.config import matryoshka_dims_of

        matryoshka = {"matryoshka_dims": matryoshka_dims_of(model.get_sentence_embedding_dimension())}
    steps = train_in_place(
        model,
        rows,
        **matryoshka,
        objective=recipe.objective,
        epochs=epochs,
        batch_size=balanced_batch_size(len(rows), recipe.batch_size),
        lr=recipe.lr,
        temperature=cfg.temperature,
        simcse_variant=recipe.simcse_variant,
        seed=cfg.seed,
    )["global_step"]
    return model, steps, epochs


def _family_rows(cfg: FitConfig, recipe: FitRecipe, judge: Any, model: SentenceEncoder, items: list[Any],
                 texts: list[str]) -> list[Any]:
    """What ``recipe`` trains on: gold and silver pairs (augsbert), the judge's rows of the labelled
    ``items`` (supervised), or the unlabelled ``texts``."""
    if recipe.silver:
        from simsent.experiments.fit.silver import augsbert_rows

        model.eval()
        return augsbert_rows(cfg, judge, items, texts, model)[0]
    if recipe.supervised:
        model.eval()
        return judge.training_rows(recipe, items, model)
    return texts


def _fit_variants(
    cfg: FitConfig, judge: Any, model: SentenceEncoder, family: str, texts: list[str], parts: Sequence[list]
) -> tuple[list[Variant], Any]:
    """The family's variants (the model, then whitened with each k of ``cfg.whiten_dims``) and the
    judge's encoding of ``parts``. Whitening is fitted on ``texts`` (the corpus's vectors when ``texts``
    is the judge's corpus: encoded once)."""
    from simsent.adapt.whitening import fit_whitening, raw_outputs

    encoded = judge.encode(model, parts)
    variants = [Variant(family, None, None, model)]
    if not cfg.whiten_dims:
        return variants, encoded
    corpus = judge.corpus_vectors(encoded) if texts is getattr(judge, "corpus", None) else None
    if corpus is None:
        with raw_outputs(model):
            corpus = np.asarray(model.encode(texts, batch_size=cfg.encode_batch_size), dtype=np.float64)
    for k in [k for k in cfg.whiten_dims if k is None or k < corpus.shape[1]]:
        W, mu = fit_whitening(corpus, dim=k)
        name = f"whitening (k={W.shape[1]})" if family == "raw" else f"{family} + whitening (k={W.shape[1]})"
        variants.append(Variant(name, W.shape[1], (W, mu), model))
    return variants, encoded


def _out_of_fold_evidence(
    cfg: FitConfig, judge: Any, family: str, pooling: str, texts: list[str], splits: FitSplits
) -> list[np.ndarray]:
    """Each variant's evidence on the selection items, item i scored by a copy of the family trained on
    the folds without i (its whitening fitted on that copy's vectors)."""
    out: list[np.ndarray] = []
    for f in range(splits.folds):
        train, held = splits.fold(f)
        model, _, _ = train_family(cfg, family, pooling, texts, train, judge)
        part = [splits.selection[i] for i in held]
        variants, encoded = _fit_variants(cfg, judge, model, family, texts, [part])
        out = out or [np.zeros(len(splits.selection)) for _ in variants]
        for j, v in enumerate(variants):
            out[j][held] = judge.evidence(encoded, 0, part, v.whitening)
    return out


def _fit_scores(
    cfg: FitConfig, judge: Any, pooling: str, family: str, variant: Variant, selection: np.ndarray,
    encoded: Any, splits: FitSplits,
) -> Candidate:
    """One variant's selection score and its held-out scores (:func:`_held_out_scores`)."""
    return Candidate(
        recipe=variant.name, family=family, pooling=pooling, whiten_dim=variant.whiten_dim,
        selection=judge.score(selection, splits.selection),
        **_held_out_scores(cfg, judge, variant, encoded, splits),
        # the choice's paired bootstrap resamples these (experiments.choice)
        selection_items=[round(float(c), 6) for c in selection],
        merge_weight=variant.merge_weight,
    )


def _held_out_scores(cfg: FitConfig, judge: Any, variant: Variant, encoded: Any, splits: FitSplits) -> dict:
    """The report score with its bootstrap interval (and every retrieval figure), and the audit score when
    there are audit items; ``encoded`` holds the report part at position 1 and the audit part at 2."""
    report, figures = judge.measure(encoded, 1, splits.report, variant.whitening)
    out: dict[str, Any] = {
        "report": judge.score(report, splits.report),
        "report_ci": judge.interval(report, splits.report, cfg.seed),
    }
    if figures:
        out["report_figures"] = figures
    if splits.audit:
        audit, figures = judge.measure(encoded, 2, splits.audit, variant.whitening)
        out["audit"] = judge.score(audit, splits.audit)
        if figures:
            out["audit_figures"] = figures
    return out


def fit_epochs(recipe: FitRecipe, n_rows: int) -> int:
    """Epochs of a fit recipe on ``n_rows``: its ``epochs``, raised to reach ``min_steps`` (capped).

    Example:
        >>> from simsent.experiments.fit.config import FitRecipe
        >>> fit_epochs(FitRecipe(epochs=1, batch_size=64, min_steps=100, max_epochs=10), 640)
        10
    """
    epochs = recipe.epochs
    if recipe.min_steps:
        per_epoch = max(1, n_rows // balanced_batch_size(n_rows, recipe.batch_size))
        cap = recipe.max_epochs or epochs
        epochs = min(cap, max(epochs, math.ceil(recipe.min_steps / per_epoch)))
    return epochs
