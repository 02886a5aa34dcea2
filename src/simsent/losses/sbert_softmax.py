"""Sentence-BERT softmax loss (Conneau et al. 2017 InferSent; Reimers & Gurevych 2019).

A linear classifier over ``concat(u, v, |u - v|)`` predicts the pair's class with cross-entropy::

    loss = CE( W [u; v; |u-v|] + b, y )

2 classes for similar/dissimilar pairs, 3 for NLI (0 entailment, 1 neutral, 2 contradiction; the
strings are accepted too). ``label_threshold`` turns graded scores into binary labels
(``y = score >= threshold``, e.g. 4 for STS-B). The classifier lives in the objective and is
**not saved**: only the encoder is kept, and its vectors are used with cosine similarity.

Inputs: columns ``sentence1, sentence2`` and an integer class ``label`` (alias ``score``).

Example:
    >>> import torch
    >>> u, v = torch.randn(4, 8), torch.randn(4, 8)
    >>> clf = torch.nn.Linear(24, 2)
    >>> SoftmaxLoss.compute(u, v, torch.tensor([1, 0, 1, 0]), clf).shape
    torch.Size([])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from simsent.data.columns import canonical
from simsent.data.nli import nli_label
from simsent.errors import ConfigError, DataError
from simsent.losses.base import Objective


class SoftmaxLoss(Objective):
    """Classifier over concat(u, v, |u-v|), trained jointly with the encoder.

    Args:
        model: the :class:`~simsent.SentenceEncoder` being trained.
        num_labels: number of classes (2 pairs, 3 NLI).
        label_threshold: if set, labels become ``int(score >= label_threshold)`` (needs num_labels 2).
    """

    name = "sbert_softmax"
    trains_on = "pairs"
    sweepable = True
    text_columns = ("sentence1", "sentence2")
    label_column = "score"
    needs_varied_labels = True
    label_dtype = "long"

    def __init__(self, model, num_labels: int = 2, label_threshold: float | None = None) -> None:
        super().__init__(model)
        self.num_labels = int(num_labels)
        if self.num_labels < 2:
            raise ConfigError(f"num_labels must be at least 2, got {num_labels}")
        if label_threshold is not None and self.num_labels != 2:
            raise ConfigError("label_threshold makes binary labels: use it with num_labels=2")
        self.label_threshold = None if label_threshold is None else float(label_threshold)
        dim = model.get_sentence_embedding_dimension()
        self.classifier = nn.Linear(3 * dim, self.num_labels)

    @staticmethod
    def compute(
        u: torch.Tensor, v: torch.Tensor, labels: torch.Tensor, classifier: nn.Module
    ) -> torch.Tensor:
        """Cross-entropy of ``classifier([u; v; |u-v|])`` against class ids (N,)."""
        logits = classifier(torch.cat([u, v, (u - v).abs()], dim=-1))
        return F.cross_entropy(logits, labels.long())

    def expand_rows(self, rows):
        """Map NLI label strings (entailment, e, ...) to class ids."""
        mapped = []
        for row in rows:
            if isinstance(row, dict):
                row = canonical(row)
                if isinstance(row.get("score"), str) and nli_label(row["score"]) is not None:
                    try:
                        float(row["score"])
                    except ValueError:
                        row = {**row, "score": nli_label(row["score"])}
            mapped.append(row)
        return mapped

    def check_rows(self, shaped):
        """Binarise with ``label_threshold``, else check that every label is a class id."""
        source = f"{self.name} training data"
        for r in shaped:
            y = r["score"]
            if self.label_threshold is not None:
                r["score"] = float(y >= self.label_threshold)
            elif not (float(y).is_integer() and 0 <= y < self.num_labels):
                raise DataError(
                    f"{source}: label {y:g} is not a class id in 0..{self.num_labels - 1}; graded scores "
                    "need --objective-arg label_threshold=T (binary), or set num_labels"
                )
        return shaped

    def forward(self, features, labels=None):
        u, v = self.embed(features[0]), self.embed(features[1])
        return self.compute(u, v, labels.to(u.device), self.classifier)
