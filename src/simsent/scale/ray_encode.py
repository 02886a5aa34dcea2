"""Shards encoded on Ray workers: a local Ray on this machine (``--workers N``) or a cluster (``--ray
ADDRESS``); each worker (an actor) loads the model once and encodes whole shards.

The driver reads the corpus lazily and keeps at most two shards per worker in flight, so its memory does
not grow with the corpus; results are handed back in shard order, so the shards, their manifest and
the int8 calibration are exactly those of a single-process encode. A worker that dies is restarted by
Ray and its shard retried (``max_restarts`` / ``max_task_retries``); a shard is written once, by its
index, so no row is lost or written twice. Ray is the extra ``simsent[ray]``, imported only here.

Example:
    >>> encode = ray_encoder("runs/faq-model", workers=2)                                 # doctest: +SKIP
    >>> encode_to_shards(model, "corpus.txt", "runs/vecs", encode_shards=encode)          # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from simsent.errors import ConfigError, first_line

logger = logging.getLogger(__name__)

#: shards in flight per worker (one encoding, one queued)
IN_FLIGHT = 2


def import_ray() -> Any:
    """The ``ray`` module, or a one-line ConfigError naming the extra that installs it."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("encoding on Ray needs Ray: pip install 'simsent[ray]'") from exc
    return ray


class ShardWorker:
    """One Ray actor: the model, loaded once, encoding whole shards to unit vectors."""

    def __init__(self, model: str, device: str, precision: str, backend: str, batch_size: int) -> None:
        from simsent.modeling.loading import ready_model
        from simsent.scale.memory import bound_heap

        bound_heap()  # memory stays that of one shard (simsent.scale.memory)
        self.model = ready_model(model, device, precision, backend)
        self.batch_size = batch_size

    def ready(self) -> dict[str, Any]:
        """The model's identity (path, fingerprint, dimension): the driver records it without loading it."""
        from simsent.modeling.sentence_encoder import model_identity

        return model_identity(self.model)

    def encode(self, texts: list[str]) -> np.ndarray:
        from simsent.scale.memory import trim_heap

        vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 show_progress_bar=False)
        trim_heap()  # the shard's freed tensors go back to the OS (see simsent.scale.memory)
        return vecs


def start_ray(address: str | None, workers: int) -> Any:
    """Connect to the cluster at ``address`` (``auto``: the one this machine belongs to), or start a local
    Ray with ``workers`` CPUs; a dead address is a one-line ConfigError."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address:
        _check_reachable(address)  # ray.init waits minutes on a dead address before giving up
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError, SystemExit) as exc:
        first = first_line(exc)
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {first}; check --ray") from exc
    return ray


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A one-line ConfigError unless ``HOST:PORT`` (or ``ray://HOST:PORT``) accepts a connection; ``auto``
    is left to Ray."""
    import socket

    if address in ("auto", "local"):
        return
    host, _, port = address.split("://", 1)[-1].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout) as conn:
            speaks_grpc = _answers_http2(conn)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address} ({exc}); check --ray") from exc
    if not speaks_grpc:  # Ray would retry its gRPC calls there for minutes
        raise ConfigError(
            f"{address} answers but is not a Ray cluster (it does not speak gRPC); give the address "
            "`ray start --head` printed (HOST:6379, or ray://HOST:10001), or auto"
        )


#: an HTTP/2 client's first bytes: the connection preface, then an empty SETTINGS frame
_HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def _answers_http2(conn: Any) -> bool:
    """Whether the server on ``conn`` answers an HTTP/2 preface with a SETTINGS frame, as every gRPC server
    (Ray's GCS and its client server among them) does at once; an HTTP/1 server, a database or silence
    does not."""
    try:
        conn.sendall(_HTTP2_HELLO)
        head = b""
        while len(head) < 9:
            block = conn.recv(9 - len(head))
            if not block:
                break
            head += block
    except OSError:  # socket.timeout is an OSError
        return False
    return len(head) == 9 and head[3] == 0x04  # frame type 4: SETTINGS


def ray_encoder(model: str, workers: int = 2, address: str | None = None, device: str = "cpu",
                precision: str = "fp32", backend: str = "torch", batch_size: int = 64,
                gpus_per_worker: float = 0.0) -> Any:
    """An ``EncodeShards`` (see :mod:`simsent.scale.shards`) running on ``workers`` Ray actors."""
    ray = start_ray(address, workers)
    actor = ray.remote(num_cpus=1, num_gpus=gpus_per_worker, max_restarts=2, max_task_retries=2)(ShardWorker)
    pool = [actor.remote(model, device, precision, backend, batch_size) for _ in range(workers)]
    try:
        identities = ray.get([a.ready.remote() for a in pool])
    except Exception as exc:  # the actor's own error, wrapped by Ray
        cause = getattr(exc, "cause", None) or exc
        first = str(cause).strip().splitlines()[-1][:200] if str(cause).strip() else type(cause).__name__
        raise ConfigError(f"a Ray worker cannot load the model {model}: {first}") from exc
    if len({i["fingerprint"] for i in identities}) > 1:
        raise ConfigError(f"the Ray workers loaded different models for {model} (a path that differs between "
                          "machines?); give a path or hub id every worker reads alike")

    def run(jobs: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, np.ndarray]]:
        return _in_order(ray, pool, jobs)

    path = os.path.abspath(model) if os.path.exists(model) else model  # as the driver names it
    run.identity = {**identities[0], "path": path}  # type: ignore[attr-defined]
    return run


def _in_order(ray: Any, pool: list[Any], jobs: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, Any]]:
    """Submit the shards round-robin with a bounded number in flight; yield results in submission order."""
    order: list[int] = []  # shard indices in submission order, not yet yielded
    refs: dict[int, Any] = {}
    results: dict[int, np.ndarray] = {}
    for n, (i, texts) in enumerate(jobs):
        refs[i] = pool[n % len(pool)].encode.remote(texts)
        order.append(i)
        while len(refs) >= IN_FLIGHT * len(pool):
            yield from _collect(ray, refs, results, order)
    while refs or results:
        yield from _collect(ray, refs, results, order)


def _collect(ray: Any, refs: dict[int, Any], results: dict[int, Any], order: list[int]) -> Iterator[tuple]:
    """Wait for one shard; yield every finished shard that is next in order."""
    if refs:
        done, _ = ray.wait(list(refs.values()), num_returns=1)
        i = next(k for k, r in refs.items() if r == done[0])
        results[i] = ray.get(refs.pop(i))
    while order and order[0] in results:
        i = order.pop(0)
        yield i, results.pop(i)
