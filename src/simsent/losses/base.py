"""The contract of a training objective.

An objective is a small ``nn.Module`` that holds the model, declares which data columns it
reads, and returns the loss for one batch. The maths of each objective sits in one short method
that takes plain embeddings, so it can be tested against a direct formula.

The trainer builds batches with :class:`simsent.data.collator.TextBatchCollator`:
``features`` is a list with one tokenised dict per entry of :attr:`Objective.text_columns`, each
column repeated :attr:`Objective.views` times back to back (for unsupervised SimCSE the
duplicated batch ``[s_1..s_N, s_1..s_N]`` goes through the encoder as one batch, possibly in
length-sorted chunks, each row with its own dropout mask), and
``labels`` is a tensor when :attr:`Objective.label_column` is set.

Example:
    >>> loss = UnsupervisedSimCSELoss(model)           # doctest: +SKIP
    >>> loss(features, labels=None).backward()          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from simsent.data.columns import rows_for_columns


class Objective(nn.Module):
    """Base class. Subclasses set the class attributes and implement :meth:`forward`."""

    #: name used by ``simsent train --objective``
    name: str = "base"
    #: canonical text columns read from each row, in order
    text_columns: tuple[str, ...] = ("sentence",)
    #: label column (float scores or int classes) or None
    label_column: str | None = None
    #: how many times each text column is repeated in the forward batch
    views: int = 1
    #: whether :meth:`loss_from` exists, so that a step can embed the batch in cached chunks
    #: (:mod:`simsent.training.cached`, ``--cache-chunk``): the in-batch-negative objectives
    cacheable: bool = False
    #: whether :meth:`prepare_rows` shapes each row on its own, so that a file can be streamed
    #: (:mod:`simsent.data.streaming`); False where rows are built from the whole data set
    streams: bool = True
    #: whether the loss learns only from differences between labels (an order of scores, or classes):
    #: training data whose labels are all equal teaches it nothing and is refused
    needs_varied_labels: bool = False
    #: what a row teaches it: ``texts`` (unlabelled sentences), ``pairs`` (labelled sentence pairs) or
    #: ``queries`` ((query, positive[, negative]) rows); all but ``texts`` need labels
    trains_on: str = "texts"
    #: whether ``simsent sweep`` may vary it (over training size and epochs)
    sweepable: bool = False
    #: the model it trains: ``bi-encoder`` (a sentence encoder) or ``cross-encoder`` (a reranker)
    model_kind: str = "bi-encoder"

    @classmethod
    def supervised(cls) -> bool:
        """Whether it trains on labelled rows (pairs or queries) rather than unlabelled text."""
        return cls.trains_on != "texts"

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    @classmethod
    def default_kwargs(cls, args) -> dict:
        """Constructor arguments taken from the training arguments (e.g. ``temperature``); default none."""
        return {}

    @classmethod
    def from_args(cls, model: nn.Module, args) -> Objective:
        """Build from :class:`~simsent.TrainingArguments`: :meth:`default_kwargs` updated with
        ``objective_kwargs``, every key checked against the constructor (the one path for all objectives)."""
        return cls(model, **cls.check_kwargs({**cls.default_kwargs(args), **args.objective_kwargs}))

    @classmethod
    def check_kwargs(cls, kwargs: dict) -> dict:
        """Return ``kwargs``, or a one-line ConfigError naming the options this objective accepts."""
        import inspect

        params = inspect.signature(cls.__init__).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return kwargs
        known = [n for n in params if n not in ("self", "model")]
        unknown = [k for k in kwargs if k not in known]
        if unknown:
            from simsent.errors import ConfigError

            raise ConfigError(f"objective {cls.name!r} has no option {', '.join(unknown)}; "
                              f"--objective-arg accepts: {', '.join(known) or 'none'}")
        return kwargs

    def expand_rows(self, rows: Sequence[Any]) -> Sequence[Any]:
        """Objective-specific reshaping before the columns are shaped (default: unchanged).

        Objectives override this to expand list-valued columns or map string labels.
        """
        return rows

    def check_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Objective-specific checks of the shaped rows (default: unchanged)."""
        return rows

    @classmethod
    def check_label_variety(cls, labels: set[Any], source: str = "the training data") -> None:
        """A one-line DataError when :attr:`needs_varied_labels` and ``labels`` (the distinct labels seen)
        hold fewer than two values.

        Example:
            >>> from simsent.losses.cosent import CoSENTLoss
            >>> CoSENTLoss.check_label_variety({1.0}, "pairs.tsv")
            Traceback (most recent call last):
            ...
            simsent.errors.DataError: every score in pairs.tsv is 1.0: cosent learns from differences ...
        """
        if cls.needs_varied_labels and len(labels) < 2:
            from simsent.errors import DataError

            only = f" is {next(iter(labels))!r}" if labels else " is missing"
            raise DataError(f"every {cls.label_column} in {source}{only}: {cls.name} learns from differences "
                            f"between labels, so it would learn nothing; give pairs with different "
                            f"{cls.label_column}s (or use simcse on the sentences)")

    def prepare_rows(self, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """Training rows shaped to :attr:`text_columns` (+ :attr:`label_column`): the one shaping path.

        Wrong input fails here, before training, with a one-line error.
        """
        source = f"{self.name} training data"
        shaped = rows_for_columns(self.expand_rows(rows), self.text_columns, self.label_column, source=source)
        return self.check_rows(shaped)

    def embed(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embed one tokenised batch with gradients, under the model's forward policy (chunked on CPU)."""
        return self.model.forward_batch(features)

    def loss_from(self, embeddings: list[torch.Tensor], labels: torch.Tensor | None) -> torch.Tensor:
        """The loss from the embeddings of each feature column (objectives with :attr:`cacheable`)."""
        raise NotImplementedError(f"objective {self.name!r} cannot take cached steps")

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError
