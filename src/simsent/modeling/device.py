"""Devices as an option, never an assumption: ``auto`` | ``cpu`` | ``cuda`` | ``cuda:N`` | ``mps``.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("gpu9")
    Traceback (most recent call last):
    ...
    simsent.errors.ConfigError: unknown --device 'gpu9'; use auto, cpu, cuda, cuda:N or mps
"""

from __future__ import annotations

import re

import torch

from simsent.errors import ConfigError

_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_precision(precision: str, device: torch.device | None = None) -> str:
    """``precision`` if it is one of :data:`~simsent._constants.PRECISIONS` and ``device`` can run it (fp16
    needs CUDA), else a one-line :class:`~simsent.errors.ConfigError`.

    Example:
        >>> check_precision("bf16", torch.device("cpu"))
        'bf16'
    """
    from simsent._constants import PRECISIONS

    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; use {', '.join(PRECISIONS)}")
    if precision == "fp16" and device is not None and device.type != "cuda":
        raise ConfigError("--precision fp16 needs a CUDA device; use bf16 or fp32 here")
    return precision


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """The ``torch.device`` for ``spec`` (``None``/``auto``: the first CUDA device when there is one, else
    CPU); a device this machine lacks is a one-line :class:`~simsent.errors.ConfigError`."""
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = (spec or "auto").strip().lower()
    if not _PATTERN.match(spec):
        raise ConfigError(f"unknown --device {spec!r}; use auto, cpu, cuda, cuda:N or mps")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {spec}: no CUDA device is available here; use --device cpu")
        index = int(spec.split(":")[1]) if ":" in spec else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"--device {spec}: this machine has {torch.cuda.device_count()} CUDA device(s) (cuda:0..)"
            )
    if spec == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("--device mps: MPS is not available here; use --device cpu")
    return torch.device(spec)
