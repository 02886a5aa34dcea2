"""Distil a (slow) teacher into a light student: the student regresses the teacher's vectors.

Steps: encode the corpus with the teacher once (cached as ``.npy`` keyed by the teacher and the
corpus hash) -> optionally BERT-whiten the targets to ``whiten_dim`` dimensions -> build the
student (a TextCNN with a vocabulary from the corpus, or any transformer) -> add a projection
``DenseLayer`` when the student's size differs from the targets' (it stays in the saved student
as ``model.dense``) -> train with :class:`~simsent.losses.distill.DistillationLoss`.

Example:
    >>> result = distill("runs/teacher", "textcnn", sents, "runs/student", whiten_dim=128)  # doctest: +SKIP
    >>> SentenceEncoder.load("runs/student").encode(["今天天气不错"]).shape                   # doctest: +SKIP
    (1, 128)
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simsent.errors import DataError

if TYPE_CHECKING:
    from simsent.modeling.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)

#: environment variable overriding the default teacher-vector cache folder
CACHE_ENV = "SIMSENT_CACHE"


def default_cache_dir() -> str:
    """``$SIMSENT_CACHE/distill`` or ``~/.cache/simsent/distill``."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "simsent")
    return os.path.join(root, "distill")


def corpus_hash(texts: Sequence[str]) -> str:
    """sha256 of the texts joined by newlines."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def teacher_fingerprint(teacher: str) -> str:
    """A string identifying a teacher: the hub id, or a folder's path plus its files' sizes and mtimes."""
    if not os.path.isdir(teacher):
        return teacher
    parts = [os.path.abspath(teacher)]
    for root, _, files in sorted(os.walk(teacher)):
        for name in sorted(files):
            if name.endswith((".safetensors", ".bin", ".json", ".txt")):
                full = os.path.join(root, name)
                st = os.stat(full)
                parts.append(f"{os.path.relpath(full, teacher)}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def teacher_vectors(
    teacher: Any,
    texts: Sequence[str],
    cache_dir: str | None = None,
    teacher_id: str | None = None,
    batch_size: int = 64,
) -> tuple[np.ndarray, str | None]:
    """The teacher's vectors for ``texts`` (float32), read from / written to the cache.

    Args:
        teacher: a model with ``encode`` (e.g. :class:`~simsent.SentenceEncoder`).
        teacher_id: identifies the teacher in the cache key; ``None`` disables the cache.

    Returns:
        ``(vectors, cache_file or None)``.
    """
    path = None
    if teacher_id is not None:
        key = hashlib.sha256(f"{teacher_id}\n{corpus_hash(texts)}".encode()).hexdigest()[:24]
        path = os.path.join(cache_dir or default_cache_dir(), f"teacher-{key}.npy")
        if os.path.isfile(path):
            vecs = np.load(path)
            if vecs.shape[0] == len(texts):
                logger.info("teacher vectors read from cache %s", path)
                return vecs, path
    vecs = np.asarray(teacher.encode(list(texts), batch_size=batch_size), dtype=np.float32)
    if path is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + f".tmp{os.getpid()}.npy"
        np.save(tmp, vecs)
        os.replace(tmp, path)
        logger.info("teacher vectors cached in %s", path)
    return vecs, path


def whiten_targets(vectors: np.ndarray, dim: int) -> np.ndarray:
    """BERT-whitened targets (n, dim) via :mod:`simsent.adapt.whitening`."""
    from simsent.adapt.whitening import apply_whitening, fit_whitening

    W, mu = fit_whitening(vectors, dim)
    return apply_whitening(vectors, W, mu).astype(np.float32)


def build_student(
    student: Any,
    corpus_texts: Sequence[str],
    max_len: int | None = None,
    textcnn_options: dict[str, Any] | None = None,
    teacher: Any = None,
) -> Any:
    """``"textcnn"`` -> a TextCNN over the corpus vocabulary; a string -> that model; a model -> itself.

    ``textcnn_options`` go to :func:`~simsent.modeling.encoders.textcnn.build_textcnn_model`; with
    ``init_from_teacher=True`` among them, the TextCNN embeddings start from ``teacher``'s.
    """
    from simsent.modeling.sentence_encoder import SentenceEncoder

    if not isinstance(student, str):
        return student
    if student.lower() == "textcnn":
        from simsent.modeling.encoders.textcnn import build_textcnn_model

        opts = dict(textcnn_options or {})
        init = opts.pop("init_from_teacher", False)
        if init and getattr(getattr(teacher, "encoder", None), "kind", None) == "transformer":
            opts["teacher"] = teacher.encoder
        return build_textcnn_model(corpus_texts, max_len=max_len, **opts)
    return SentenceEncoder.from_pretrained(student, max_len=max_len, backend="torch")


def add_projection(model: SentenceEncoder, target_dim: int) -> bool:
    """Append a trainable linear ``DenseLayer`` to ``model.dense`` when its output size differs."""
    from simsent.modeling.dense import DenseLayer

    dim = model.get_sentence_embedding_dimension()
    if dim == target_dim:
        return False
    model.dense.append(DenseLayer(dim, target_dim, activation="identity").to(model.device))
    logger.info("projection %d -> %d added to the student", dim, target_dim)
    return True


def distill(
    teacher: Any,
    student: Any,
    corpus_texts: Sequence[str],
    output_dir: str,
    whiten_dim: int | None = None,
    loss: str = "mse",
    epochs: int = 3,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 42,
    max_len: int | None = None,
    cache_dir: str | None = None,
    textcnn_options: dict[str, Any] | None = None,
    evaluator: Callable[[Any], dict[str, float]] | None = None,
    eval_steps: int = 0,
    show_progress_bar: bool = True,
    precision: str = "fp32",
    device: str = "auto",
    centre: bool = False,
    teacher_id: str | None = None,
    forward_chunk_size: int | None = None,
) -> dict[str, Any]:
    """Train ``student`` to reproduce ``teacher``'s vectors on ``corpus_texts``; saves to ``output_dir``.

    Args:
        teacher: hub id / folder, or a loaded model with ``encode``.
        student: ``"textcnn"``, a hub id / folder, or a :class:`~simsent.SentenceEncoder`.
        whiten_dim: whiten the teacher vectors to this many dimensions first (None: raw vectors).
        loss: ``mse``, ``cosine`` or ``both``.
        cache_dir: where teacher vectors are cached (default :func:`default_cache_dir`).
        centre: subtract the teacher vectors' mean first (the student learns what sets sentences apart,
            not the direction they all share).
        teacher_id: the cache key of a loaded ``teacher`` (a path's is its files' fingerprint).
        forward_chunk_size: rows per student call (0: the whole batch; None: the Trainer's default).

    Returns:
        the trainer's result plus ``model`` (the trained student), ``cache_file``, ``target_dim``.
    """
    from simsent.losses.distill import DistillationLoss
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.seed import set_seed
    from simsent.training.trainer import Trainer

    texts = list(dict.fromkeys(t for t in corpus_texts if t and t.strip()))
    if len(texts) < 2:
        raise DataError("distillation needs at least 2 distinct non-empty sentences in the corpus")
    if isinstance(teacher, str):
        teacher_id = teacher_fingerprint(teacher)
        teacher_name = teacher
        teacher = SentenceEncoder.from_pretrained(teacher)
    else:
        teacher_name = type(teacher).__name__
    targets, cache_file = teacher_vectors(teacher, texts, cache_dir=cache_dir, teacher_id=teacher_id)
    if centre:
        targets = targets - targets.mean(axis=0, keepdims=True)
    if whiten_dim:
        targets = whiten_targets(targets, whiten_dim)
    set_seed(seed)
    model = build_student(student, texts, max_len=max_len, textcnn_options=textcnn_options, teacher=teacher)
    add_projection(model, targets.shape[1])
    model.extra_config["distillation"] = {"teacher": teacher_name, "whiten_dim": whiten_dim, "loss": loss,
                                          "centre": centre, "corpus_sha256": corpus_hash(texts),
                                          "sentences": len(texts)}
    args = TrainingArguments(output_dir=output_dir, objective="distill", epochs=epochs, batch_size=batch_size,
                             lr=lr, seed=seed, eval_steps=eval_steps, checkpoint_steps=0,
                             show_progress_bar=show_progress_bar, objective_kwargs={"loss": loss},
                             precision=precision, device=device, forward_chunk_size=forward_chunk_size)
    rows = [{"sentence": t, "target_index": i} for i, t in enumerate(texts)]
    objective = DistillationLoss(model, targets=targets, loss=loss)
    result = Trainer(model, args, rows, objective=objective, evaluator=evaluator).train()
    return {**result, "model": model, "cache_file": cache_file, "target_dim": int(targets.shape[1])}
