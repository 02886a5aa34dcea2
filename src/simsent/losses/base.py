"""The contract of a training objective.

An objective is a small ``nn.Module`` that holds the model, declares which data columns it
reads, and returns the loss for one batch. The maths of each objective sits in one short method
that takes plain embeddings, so it can be tested against a direct formula.

The trainer builds batches with :class:`simsent.data.collator.TextBatchCollator`:
``features`` is a list with one tokenised dict per entry of :attr:`Objective.text_columns`, each
column repeated :attr:`Objective.views` times back to back (for unsupervised SimCSE the
duplicated batch ``[s_1..s_N, s_1..s_N]`` goes through the encoder in one forward pass), and
``labels`` is a tensor when :attr:`Objective.label_column` is set.

Example:
    >>> loss = UnsupervisedSimCSELoss(model)           # doctest: +SKIP
    >>> loss(features, labels=None).backward()          # doctest: +SKIP
"""

from __future__ import annotations

import torch
from torch import nn


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
    #: rows per encoder call in :meth:`embed`, length-sorted (None or 0: the whole batch in one call)
    forward_chunk_size: int | None = None

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    @classmethod
    def from_args(cls, model: nn.Module, args) -> Objective:
        """Build from :class:`~simsent.TrainingArguments` (``objective_kwargs`` passed on)."""
        return cls(model, **cls.check_kwargs(args.objective_kwargs))

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

    def prepare_rows(self, rows):
        """Reshape raw training rows before batching (default: unchanged).

        Objectives override this to expand list-valued columns, map string labels or check labels
        early, so that wrong input fails before training with a one-line error.
        """
        return rows

    def embed(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Run the model on one tokenised batch, in length-sorted chunks of :attr:`forward_chunk_size` rows.

        With a chunk size, the rows are sorted by length, encoded ``forward_chunk_size`` at a time with
        each chunk's trailing all-padding columns cut off, and put back in their order. Every row is
        still encoded on its own (masked attention, its own dropout mask), so the embeddings and their
        gradients are those of one call on the whole batch, for far fewer padded tokens.
        """
        chunk = self.forward_chunk_size
        mask = features.get("attention_mask")
        n = len(next(iter(features.values())))
        if not chunk or n <= chunk or mask is None:
            return self.model(features)
        order = torch.argsort(mask.sum(dim=1), descending=True, stable=True)
        parts = []
        for start in range(0, n, chunk):
            rows = order[start : start + chunk]
            used = torch.nonzero(mask[rows].any(dim=0))  # drop trailing all-padding columns only
            width = int(used.max()) + 1 if len(used) else mask.shape[1]
            sub = {k: v[rows][:, :width] if v.dim() > 1 and v.shape[1] == mask.shape[1] else v[rows]
                   for k, v in features.items()}
            parts.append(self.model(sub))
        return torch.cat(parts)[torch.argsort(order)]

    def forward(self, features: list[dict[str, torch.Tensor]], labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError
