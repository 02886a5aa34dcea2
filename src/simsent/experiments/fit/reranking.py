"""fit's reranker: a cross-encoder trained on the labelled training part, and the two-stage candidate
("the best bi-encoder so far + the reranker of its top k"), scored by the same judge and chosen by the
same rule as every other candidate, its leaderboard row carrying the milliseconds it adds a query.

The two-stage cell runs after every bi-encoder family: its first stage is the best candidate saved so
far (fit's keeper), or the start model when none ran. When it wins, fit saves that bi-encoder with the
reranker in its ``reranker/`` folder.

Example:
    >>> reranker, steps = train_fit_reranker(cfg, judge, splits.train, start_model)    # doctest: +SKIP
    >>> cell = run_rerank_family(cfg, "mean", splits, keeper, judge)                   # doctest: +SKIP
    >>> cell["rows"][0]["recipe"], cell["rows"][0]["rerank_ms"]                       # doctest: +SKIP
    ('mnrl-hard + rerank top 20', 112.4)
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from simsent.errors import ConfigError
from simsent.experiments.cells import balanced_batch_size, nan_low, train_in_place
from simsent.experiments.fit.candidate import Candidate
from simsent.experiments.fit.config import FitConfig, FitRecipe
from simsent.experiments.protocol import FitSplits

#: the reranker's folder inside a saved two-stage winner
RERANKER_FOLDER = "reranker"
#: how much of the first stage's cosine each two-stage row blends into the reranker's order
#: (:func:`simsent.search.rerank.blended_scores`): the reranker alone, and both at equal weight. Fixed
#: beforehand, not tuned on the parts that score them; results/rerank_e5.md measures both.
BLENDS = (0.0, 0.5)


def reranker_rows(judge: Any, items: Sequence[Any], miner: Any) -> tuple[str, list[dict[str, Any]]]:
    """The objective and rows a reranker trains on: listwise over (query, positive, negative) rows for FAQ
    queries (negatives the file's own, else mined by ``miner`` as mnrl-hard's are; rows without one are
    dropped), binary cross-entropy on 0/1 pairs, MSE on graded ones."""
    if getattr(judge, "item_word", "pairs") == "queries":
        mined = judge.training_rows(FitRecipe(objective="rerank_listwise", hard_negatives=True), items, miner)
        return "rerank_listwise", [r for r in mined if r.get("negative")]
    labels = {float(r["score"]) for r in items}
    return ("rerank_bce" if len(labels) <= 2 else "rerank_mse"), list(items)


def train_fit_reranker(cfg: FitConfig, judge: Any, items: Sequence[Any], miner: Any) -> tuple[Any, int]:
    """A cross-encoder from ``cfg.reranker_model`` (else ``cfg.model``) trained by the ``rerank`` recipe on
    ``items``; with its steps."""
    from simsent.modeling.cross_encoder import CrossEncoder

    recipe = FitRecipe.named("rerank")
    objective, rows = reranker_rows(judge, items, miner)
    if len(rows) < 2:
        raise ConfigError("the reranker has fewer than 2 training rows (no negative could be mined)")
    reranker = CrossEncoder.from_pretrained(cfg.reranker_model or cfg.model, max_len=2 * cfg.max_len,
                                          seed=cfg.seed)
    result = train_in_place(reranker, rows, objective=objective, epochs=recipe.epochs, lr=recipe.lr,
                            batch_size=balanced_batch_size(len(rows), recipe.batch_size), warmup_ratio=0.1,
                            seed=cfg.seed)
    return reranker, int(result["global_step"])


def _first_stage(cfg: FitConfig, pooling: str, best_folder: str) -> tuple[Any, str]:
    """The best bi-encoder saved so far (or the start model with ``pooling``), and its recipe's name."""
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if os.path.isdir(best_folder):
        model = SentenceEncoder.from_pretrained(best_folder, backend="torch")
        return model, model.extra_config.get("fit", {}).get("recipe", "raw")
    return SentenceEncoder.from_pretrained(cfg.model, pooling=pooling, max_len=cfg.max_len), "raw"


def run_rerank_family(cfg: FitConfig, pooling: str, splits: FitSplits, keeper: Any, judge: Any) -> dict:
    """The two-stage candidates: train the reranker on the training part; re-order the first stage's top
    ``cfg.rerank_top`` of the selection, report and audit queries by it alone and with the first stage's
    cosine blended in (:data:`BLENDS`, one row each, scored once); the better kept if best of all."""
    from simsent.training.seed import set_seed

    started = time.perf_counter()
    set_seed(cfg.seed)
    first, name = _first_stage(cfg, pooling, keeper.folder)
    first.eval()
    reranker, steps = train_fit_reranker(cfg, judge, splits.train, first)
    reranker.eval()
    encoded = judge.encode(first, [splits.selection, splits.report, splits.audit])
    k = cfg.rerank_top
    parts = [splits.selection, splits.report, splits.audit]
    stages = [judge.second_stage(encoded, i, part, reranker, k) if part else None
              for i, part in enumerate(parts)]
    rows = [_two_stage_row(judge, splits, stages, blend, f"{name} + rerank top {k}", first.pooling.mode,
                           cfg.seed) for blend in BLENDS]
    best = max(range(len(rows)), key=lambda i: nan_low(rows[i].selection))
    save = _saver(first, reranker, rows[best], cfg.seed, k, BLENDS[best])
    saved = keeper(nan_low(rows[best].selection), save)
    return {"family": "rerank", "pooling": pooling, "rows": [r.to_dict() for r in rows], "saved": saved,
            "train_steps": steps, "epochs": FitRecipe.named("rerank").epochs,
            "seconds": time.perf_counter() - started}


def _two_stage_row(judge: Any, splits: FitSplits, stages: list, blend: float, recipe: str, pooling: str,
                   seed: int) -> Candidate:
    """The leaderboard row of the two stages ordered at ``blend``."""
    name = recipe + (f", blend {blend:g}" if blend else "")
    selection, _ = judge.blended(stages[0], splits.selection, blend)
    report, figures = judge.blended(stages[1], splits.report, blend)
    row = Candidate(
        recipe=name, family="rerank", pooling=pooling, whiten_dim=None,
        selection=judge.score(selection, splits.selection), report=judge.score(report, splits.report),
        report_ci=judge.interval(report, splits.report, seed), report_figures=figures or None,
        selection_items=[round(float(c), 6) for c in selection],
        rerank_ms=round(1000 * stages[1]["seconds"], 2),
    )
    if stages[2] is not None:
        audit, row.audit_figures = judge.blended(stages[2], splits.audit, blend)
        row.audit = judge.score(audit, splits.audit)
    return row


def _saver(first: Any, reranker: Any, row: Candidate, seed: int, k: int, blend: float) -> Any:
    """Saves the two stages as fit's winner: the bi-encoder, its reranker in ``reranker/`` (with the blend
    weight it was chosen at)."""
    def save(path: str) -> None:
        from simsent.modeling.cross_encoder import FIRST_STAGE_BLEND

        first.extra_config["fit"] = {"recipe": row.recipe, "pooling": row.pooling, "seed": seed,
                                     "reranker": {"folder": RERANKER_FOLDER, "top_k": k,
                                                  **({"blend": blend} if blend else {})}}
        first.save(path)
        config = getattr(reranker, "extra_config", None)
        if config is not None:
            config.pop(FIRST_STAGE_BLEND, None)
            config.update({FIRST_STAGE_BLEND: blend} if blend else {})
        reranker.save(os.path.join(path, RERANKER_FOLDER))

    return save
