"""Objectives of a cross-encoder (:class:`~simsent.modeling.cross_encoder.CrossEncoder`): the pair goes
through the model whole, so each text column is a (query, text) pair joined by
:data:`~simsent.modeling.cross_encoder.PAIR_SEP`.

- ``rerank_bce``: binary cross-entropy on the pair's logit against a 0/1 label (scored pairs; a
  graded score counts as 1 above the middle of the scale).
- ``rerank_listwise``: softmax cross-entropy over one positive and its negatives (``anchor, positive,
  negative`` rows: the query with its positive must outscore it with its negative).
- ``rerank_mse``: mean squared error between the sigmoid of the logit and the graded score scaled to
  [0, 1] by the largest score in the data.

Example:
    >>> import torch
    >>> round(RerankBCELoss.compute(torch.tensor([0.0]), torch.tensor([1.0])).item(), 4)  # log 2
    0.6931
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from simsent.data.columns import rows_for_columns
from simsent.errors import ConfigError, DataError
from simsent.losses.base import Objective


def _joined(rows: Sequence[Any], columns: tuple[str, ...], label: str | None,
            name: str) -> list[dict[str, Any]]:
    """Rows shaped to ``columns`` (+ ``label``), each (anchor-or-first, other) pair joined into ``pairN``."""
    from simsent.modeling.cross_encoder import join_pair

    shaped = rows_for_columns(rows, columns, label, source=f"{name} training data")
    first, others = columns[0], columns[1:]
    out = []
    for r in shaped:
        row = {f"pair{i}": join_pair(str(r[first]), str(r[c])) for i, c in enumerate(others)}
        if label:
            row[label] = r[label]
        out.append(row)
    return out


class RerankBCELoss(Objective):
    """Binary cross-entropy of a cross-encoder's logit against 0/1 labels."""

    name = "rerank_bce"
    model_kind = "cross-encoder"
    trains_on = "pairs"
    text_columns = ("pair0",)
    label_column = "score"
    needs_varied_labels = True

    @staticmethod
    def compute(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, labels)

    def prepare_rows(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        shaped = _joined(rows, ("sentence1", "sentence2"), "score", self.name)
        top = max((r["score"] for r in shaped), default=1.0)
        for r in shaped:  # a graded score (0-5, 0-1) counts as a match above the middle of its scale
            r["score"] = float(r["score"] > top / 2) if top > 1 else float(r["score"] >= 0.5)
        return shaped

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor | None) -> torch.Tensor:
        logits = self.model(features[0])
        return self.compute(logits, labels.to(logits.device).float())


class RerankListwiseLoss(Objective):
    """Softmax cross-entropy over a query's positive and its negatives: the positive's logit must be
    highest. ``group_size`` pairs a row (1 positive + ``group_size - 1`` negatives, as FlagEmbedding's
    ``train_group_size``): a row's ``negatives`` list (or its one ``negative``) fills the group, repeated
    in turn where it has fewer."""

    name = "rerank_listwise"
    model_kind = "cross-encoder"
    trains_on = "queries"
    text_columns = ("pair0", "pair1")
    group_size = 2

    def __init__(self, model: Any, group_size: int = 2) -> None:
        super().__init__(model)
        if int(group_size) < 2:
            raise ConfigError(f"{self.name}: group_size must be 2 or more (a positive and a negative), "
                              f"got {group_size}")
        self.group_size = int(group_size)
        self.text_columns = tuple(f"pair{i}" for i in range(self.group_size))

    @staticmethod
    def compute(logits: torch.Tensor) -> torch.Tensor:
        """``logits``: ``(n, 1 + negatives)``, the positive first."""
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))

    def prepare_rows(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        from simsent.modeling.cross_encoder import join_pair

        out = []
        for query, positive, negatives in (_group(r, self.group_size - 1) for r in rows):
            texts = [positive, *negatives]
            out.append({f"pair{k}": join_pair(query, t) for k, t in enumerate(texts)})
        if not out:
            raise DataError(f"{self.name}: no (query, positive, negative) rows")
        return out

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor | None) -> torch.Tensor:
        return self.compute(torch.stack([self.model(f) for f in features], dim=1))


def _group(row: Any, wanted: int) -> tuple[str, str, list[str]]:
    """``(query, positive, negatives)`` of a listwise row, the negatives repeated in turn to ``wanted``;
    a one-line DataError for a row without a query, a positive or any negative."""
    from simsent.data.columns import canonical

    r = canonical(row) if isinstance(row, Mapping) else {}
    given = r.get("negatives") or ([r["negative"]] if r.get("negative") else [])
    if not r.get("anchor") or not r.get("positive") or not given:
        found = ", ".join(map(str, r)) or "none"
        raise DataError(f"rerank_listwise training data: each row needs anchor (query), positive and "
                        f"negative (or a negatives list); found: {found}")
    return str(r["anchor"]), str(r["positive"]), [str(given[i % len(given)]) for i in range(wanted)]


class RerankMSELoss(RerankBCELoss):
    """Squared error between the sigmoid of a cross-encoder's logit and a graded score in [0, 1]."""

    name = "rerank_mse"

    @staticmethod
    def compute(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(torch.sigmoid(logits), targets)

    def prepare_rows(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        shaped = _joined(rows, ("sentence1", "sentence2"), "score", self.name)
        top = max((r["score"] for r in shaped), default=1.0)
        if any(r["score"] < 0 for r in shaped):
            raise DataError(f"{self.name}: scores must be 0 or more (they are scaled to [0, 1] by the "
                            "largest)")
        for r in shaped:
            r["score"] = r["score"] / top if top > 1 else r["score"]
        return shaped
