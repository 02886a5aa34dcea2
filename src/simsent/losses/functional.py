"""Shared maths of the objectives: cosine matrices and the gradient-keeping gather of in-batch negatives.

Gather: in-batch negatives across processes, keeping the gradient of the local shard.

With one process this is the identity. With ``torch.distributed`` initialised (accelerate does
this for multi-device runs), every process sees the embeddings of the whole global batch; the
local rows are the original tensor, so gradients flow back through them (as in SimCSE's code).

Example:
    >>> import torch
    >>> z = torch.randn(4, 8, requires_grad=True)
    >>> gather_with_grad(z) is z
    True
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F


def gather_with_grad(z: torch.Tensor) -> torch.Tensor:
    """Concatenate ``z`` from all processes along dim 0; the local part keeps its gradient."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return z
    parts = [torch.zeros_like(z) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, z.contiguous())
    parts[dist.get_rank()] = z
    return torch.cat(parts, dim=0)


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarities (len(a), len(b))."""
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T


def rank_loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """CoSENT's ranking loss over pair ``scores`` (N,) with gold ``labels`` (N,): every couple with
    ``y_i > y_j`` should have ``s_i > s_j``; ``log(1 + sum exp(s_j - s_i))`` over those couples.

    Example:
        >>> round(rank_loss(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])).item(), 4)  # log(1 + e^-2)
        0.1269
    """
    diff = scores[None, :] - scores[:, None]  # diff[i, j] = s_j - s_i
    keep = labels[:, None] > labels[None, :]  # y_i > y_j
    diff = diff.masked_fill(~keep, float("-inf"))
    zero = torch.zeros(1, device=scores.device, dtype=scores.dtype)
    return torch.logsumexp(torch.cat([zero, diff.flatten()]), dim=0)
