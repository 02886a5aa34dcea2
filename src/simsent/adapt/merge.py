"""Weight interpolation of two models of one architecture: ``(1 - weight) * a + weight * b``.

With ``a`` the start model and ``b`` a fine-tune of it, this is WiSE-FT (Wortsman et al., 2022) /
LM-Cocktail (Xiao et al., 2023): a point between the two that often keeps the start model's general
ability while gaining most of the fine-tune's, at no training cost. ``weight=0`` gives ``a`` back and
``weight=1`` gives ``b``. The models must agree on everything but their weights (class, parameter
names and shapes, tokenizer vocabulary, pooling, normalisation, dense heads); anything else is a
one-line error.

Example:
    >>> merged = merge_models(start, tuned, weight=0.5)        # doctest: +SKIP
    >>> merged.save("runs/merged")                               # doctest: +SKIP
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import torch

from simsent.errors import ModelLoadError, check_number

logger = logging.getLogger(__name__)


def _vocab(model: Any) -> Any:
    encoder = getattr(model, "encoder", None)
    tokenizer = getattr(encoder, "tokenizer", None)
    return tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else getattr(encoder, "vocab", None)


def check_mergeable(a: Any, b: Any) -> None:
    """A one-line ModelLoadError naming the first way ``a`` and ``b`` differ beyond their weights."""
    checks = [
        ("class", type(a).__name__, type(b).__name__),
        ("encoder", type(getattr(a, "encoder", None)).__name__, type(getattr(b, "encoder", None)).__name__),
        ("pooling", getattr(a.pooling, "mode", None), getattr(b.pooling, "mode", None)),
        ("normalisation", getattr(a, "normalize", None), getattr(b, "normalize", None)),
        ("dense layers", len(getattr(a, "dense", []) or []), len(getattr(b, "dense", []) or [])),
    ]
    for what, x, y in checks:
        if x != y:
            raise ModelLoadError(f"cannot merge: the models differ in {what} ({x} vs {y})")
    if _vocab(a) != _vocab(b):
        raise ModelLoadError("cannot merge: the models have different tokenizer vocabularies")
    sa, sb = a.state_dict(), b.state_dict()
    if sa.keys() != sb.keys():
        only = sorted(set(sa) ^ set(sb))[:3]
        raise ModelLoadError(f"cannot merge: the models have different parameters (e.g. {', '.join(only)})")
    for name, t in sa.items():
        if t.shape != sb[name].shape:
            raise ModelLoadError(f"cannot merge: {name} is {tuple(t.shape)} in one model and "
                                 f"{tuple(sb[name].shape)} in the other")
        if not t.is_floating_point() and not torch.equal(t, sb[name]):
            raise ModelLoadError(f"cannot merge: the integer tensor {name} differs between the models")


def merge_models(a: Any, b: Any, weight: float) -> Any:
    """A copy of ``a`` whose floating-point weights are ``(1 - weight) * a + weight * b``.

    Example:
        >>> halfway = merge_models(start, tuned, 0.5)   # doctest: +SKIP
    """
    check_number("weight", weight, minimum=0, maximum=1)
    check_mergeable(a, b)
    merged = copy.deepcopy(a)
    sb = b.state_dict()
    with torch.no_grad():
        state = {
            name: torch.lerp(t.float(), sb[name].to(t.device).float(), float(weight)).to(t.dtype)
            if t.is_floating_point() else t.clone()
            for name, t in a.state_dict().items()
        }
    merged.load_state_dict(state)
    merged.extra_config = {**getattr(a, "extra_config", {}), "merge": {"weight": float(weight)}}
    logger.info("merged %d tensors: (1 - %.3g) * a + %.3g * b", len(state), weight, weight)
    return merged
