"""A corpus encoded into a folder of shards, here or on Ray workers: the step that ``simsent encode
--shard-rows/--workers/--ray`` and ``simsent index build --workers/--ray`` share.

Example:
    >>> on_two = Spread(workers=2)
    >>> manifest, model = shard_corpus("runs/faq", "corpus.txt", "runs/vecs", spread=on_two)  # doctest: +SKIP
    >>> manifest["rows"]                                                                      # doctest: +SKIP
    1000000
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spread:
    """Where shards are encoded: ``workers`` Ray actors on a local Ray, or on the cluster at
    ``address``; ``workers=0`` and no address: in this process."""

    workers: int = 0
    address: str | None = None
    gpus_per_worker: float = 0.0

    @property
    def on_ray(self) -> bool:
        return bool(self.workers or self.address)


def shard_corpus(model: str, corpus: str, output: str, *, shard_rows: int = 100_000, batch_size: int = 64,
                 device: str = "auto", precision: str = "fp32", backend: str = "torch",
                 precision_out: str = "float32", spread: Spread = Spread()) -> tuple[dict[str, Any], Any]:
    """Encode ``corpus`` into the shard folder ``output`` (resuming what is there); the manifest and the
    model loaded here (None on Ray: the workers load it and report its identity)."""
    from simsent.modeling.loading import ready_model
    from simsent.scale.shards import encode_to_shards

    encoder = None if spread.on_ray else ready_model(model, device, precision, backend)
    on_ray = None
    if spread.on_ray:
        from simsent.scale.ray_encode import ray_encoder

        ray_device = "cpu" if device == "auto" and not spread.gpus_per_worker else device
        on_ray = ray_encoder(model, workers=spread.workers or 2, address=spread.address, device=ray_device,
                             precision=precision, backend=backend, batch_size=batch_size,
                             gpus_per_worker=spread.gpus_per_worker)
    manifest = encode_to_shards(encoder, corpus, output, shard_rows, batch_size, precision_out,
                                encode_shards=on_ray)
    return manifest, encoder
