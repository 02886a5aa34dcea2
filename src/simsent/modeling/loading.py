"""Loading a model for inference: device and precision checked, then the model placed.

Example:
    >>> model = ready_model("runs/faq-model", "cpu", "fp32")    # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from simsent.errors import ConfigError
from simsent.modeling.device import check_precision, resolve_device


def ready_model(path: str, device: str, precision: str, backend: str = "torch", **kwargs: Any):
    """A model loaded onto ``device`` with its inference ``precision`` (both checked first); ``backend``
    torch or onnx (CPU only, fp32). Used by the CLI and by the workers of a Ray encode.

    Example:
        >>> ready_model("runs/faq-model", "cpu", "fp32")    # doctest: +SKIP
    """
    from simsent.modeling.sentence_encoder import SentenceEncoder

    check_precision(precision)
    if backend == "onnx":  # onnxruntime on the CPU, whatever accelerator the machine has
        if (device or "auto") not in ("auto", "cpu"):
            raise ConfigError("--backend onnx runs on the CPU; use --device cpu (or auto)")
        if precision != "fp32":
            raise ConfigError("--backend onnx runs the exported graph as it is: leave --precision fp32")
        return SentenceEncoder.from_pretrained(path, backend="onnx")
    where = resolve_device(device)
    check_precision(precision, where)
    model = SentenceEncoder.from_pretrained(path, backend=backend, **kwargs).to(where)
    model.precision = precision
    return model
