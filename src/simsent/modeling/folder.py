"""One way in for a model: a folder (or hub id) read once into a description of what it holds, from which
every loader builds its model (the sentence encoder, its ONNX twin, and the loaders to come).

Example:
    >>> describe_model_folder("bert-base-chinese").kind   # not a folder here: a hub id
    'hub'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from simsent._io import read_json
from simsent.errors import ModelLoadError
from simsent.modeling.st_format import SIMSENT_CONFIG

ONNX_GRAPH = os.path.join("onnx", "model.onnx")
TORCH_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


@dataclass
class ModelFolder:
    """What a model folder holds.

    ``kind``: ``simsent`` (saved by simsent: ``simsent_config.json``), ``sentence-transformers``
    (``modules.json``), ``transformers`` (a plain Hugging Face folder), ``onnx`` (an ONNX export and
    no torch weights) or ``hub`` (a name to fetch). ``config`` is simsent's config, ``st`` the
    sentence-transformers description (:class:`~simsent.modeling.st_reader.STFolder`).
    """

    path: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    st: Any = None
    has_onnx: bool = False

    def inside(self, sub: object) -> str:
        """A path inside the folder named by its config (refused when it points outside)."""
        from simsent.modeling.st_reader import inside_folder

        return inside_folder(self.path, sub, SIMSENT_CONFIG)


def describe_model_folder(path: str) -> ModelFolder:
    """Read ``path`` once: which kind of model it holds and the configs that say how to build it."""
    if not os.path.isdir(path):
        return ModelFolder(path, "hub")
    has_onnx = os.path.isfile(os.path.join(path, ONNX_GRAPH))
    if has_onnx and not _has_torch_weights(path):
        return ModelFolder(path, "onnx", _simsent_config(path), has_onnx=True)
    if os.path.isfile(os.path.join(path, SIMSENT_CONFIG)):
        return ModelFolder(path, "simsent", _simsent_config(path), has_onnx=has_onnx)
    from simsent.modeling.st_reader import read_st_folder

    st = read_st_folder(path)
    kind = "transformers" if st is None else "sentence-transformers"
    return ModelFolder(path, kind, st=st, has_onnx=has_onnx)


def _has_torch_weights(path: str) -> bool:
    return any(os.path.isfile(os.path.join(root, w)) for root, _, _ in os.walk(path) for w in TORCH_WEIGHTS)


def _simsent_config(path: str) -> dict[str, Any]:
    """``simsent_config.json`` of ``path`` ({} when absent); anything but a JSON object is refused."""
    file = os.path.join(path, SIMSENT_CONFIG)
    if not os.path.isfile(file):
        return {}
    cfg = read_json(file, what="model config")
    if not isinstance(cfg, dict):
        raise ModelLoadError(f"{path}/{SIMSENT_CONFIG} is not a JSON object; re-save the model")
    return cfg
