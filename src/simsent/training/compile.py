"""Optional ``torch.compile`` of the encoder for the length of a training run.

The transformer's (or TextCNN's) ``forward`` is replaced by a compiled one on the instance and put
back afterwards, so weights, ``state_dict`` keys and the saved folder stay exactly those of the eager
model, and ``encode`` after training runs eagerly. Shapes are left to dynamo's automatic dynamic
shapes: the first shape compiles a static graph, a second length makes the length dimension dynamic
(padding to multiples of 8 on CUDA keeps the shapes few). ``reduce-overhead`` adds CUDA graphs, the
cure for launch-bound small batches on a GPU.

Example:
    >>> restore = compile_encoder(model, "default")     # doctest: +SKIP
    >>> ...                                             # train    # doctest: +SKIP
    >>> restore()                                       # the eager forward again    # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)

#: ``--compile`` choices: off, or a ``torch.compile`` mode
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")
#: the torch.compile backend (tests use ``aot_eager``: dynamo and autograd tracing without a C compiler)
COMPILE_BACKEND = "inductor"


def compiled_module(model: SentenceEncoder) -> torch.nn.Module:
    """The module whose forward is compiled: the Hugging Face model inside a transformer encoder, else
    the encoder itself."""
    encoder = model.encoder
    return getattr(encoder, "model", encoder)


def check_compile_mode(mode: str, name: str = "--compile") -> str:
    """``mode`` if it is one of :data:`COMPILE_MODES`, else a one-line ConfigError naming ``name``."""
    from simsent.errors import ConfigError

    if mode not in COMPILE_MODES:
        raise ConfigError(f"{name} must be one of {', '.join(COMPILE_MODES)}, got {mode!r}")
    return mode


def compile_encoder(model: SentenceEncoder, mode: str) -> Callable[[], None]:
    """Compile ``model``'s encoder forward with ``mode`` (see :data:`COMPILE_MODES`); returns the
    function that restores the eager forward (a no-op for ``off``)."""
    if check_compile_mode(mode) == "off":
        return lambda: None
    module = compiled_module(model)
    module.forward = torch.compile(
        module.forward, mode=None if mode == "default" else mode, backend=COMPILE_BACKEND
    )
    logger.info("compiled %s.forward (torch.compile mode=%s)", type(module).__name__, mode)

    def restore() -> None:
        vars(module).pop("forward", None)  # the class's eager forward shows through again

    return restore
