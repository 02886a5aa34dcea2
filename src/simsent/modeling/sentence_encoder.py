"""SentenceEncoder: encoder + pooling [+ dense layers, e.g. whitening] [+ L2 normalisation].

Example:
    >>> from simsent import SentenceEncoder
    >>> model = SentenceEncoder.from_pretrained("bert-base-chinese", pooling="cls")  # doctest: +SKIP
    >>> vecs = model.encode(["今天天气不错", "今天天气很好"], normalize_embeddings=True)  # doctest: +SKIP
    >>> float(model.similarity("今天天气不错", "今天天气很好"))                           # doctest: +SKIP
    0.93
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from simsent._constants import DEFAULT_MAX_LEN
from simsent.errors import ConfigError, ModelLoadError, SimsentError
from simsent.modeling.dense import heads_output_dim, load_head
from simsent.modeling.encoders import EncoderModule, encoder_class
from simsent.modeling.folder import ModelFolder, describe_model_folder
from simsent.modeling.inputs import (
    GPU_PASS_COST_CHARS,
    PASS_COST_CHARS,
    Embedder,
    cosine_similarity,
    length_batches,
)
from simsent.modeling.pooling import Pooling, check_pooling, pooling_parts
from simsent.modeling.prompts import encode_texts
from simsent.modeling.st_format import write_sentence_transformers_folder

logger = logging.getLogger(__name__)

def chunked_forward(
    forward: Callable[[dict[str, torch.Tensor]], torch.Tensor],
    features: dict[str, Any],
    chunk: int | None,
    token_budget: int | None = None,
) -> torch.Tensor:
    """Embed one tokenised batch in length-sorted chunks, each cut to its longest row.

    The rows are sorted by length and encoded a chunk at a time with each chunk's trailing
    all-padding columns cut off, then put back in their order. A chunk holds ``chunk`` rows, or, with
    ``token_budget``, as many rows as fit in that many padded tokens (few large calls on a GPU). Every
    row is still encoded on its own (masked attention, its own dropout mask), so the embeddings and
    their gradients are those of one call on the whole batch, for far fewer padded tokens.

    ``features["row_lengths"]`` (a list of ints the collator adds) lets the plan be made on the host
    without waiting for the device; without it the lengths are read from the attention mask.
    """
    features = dict(features)
    row_lengths = features.pop("row_lengths", None)
    mask = features.get("attention_mask")
    n = len(next(iter(features.values())))
    if mask is None or not (chunk or token_budget) or (chunk and not token_budget and n <= chunk):
        return forward(features)
    if row_lengths is None:
        row_lengths = mask.sum(dim=1).tolist()
    order = sorted(range(n), key=lambda i: -row_lengths[i])  # stable: ties keep their order
    full = mask.shape[1]
    step = 8 if mask.is_cuda else 1  # on a GPU, widths in multiples of 8: few shapes to tune kernels for

    def padded(width: int) -> int:
        return min(full, -(-width // step) * step) if width else full
    if token_budget:
        sizes, start = [], 0
        while start < n:
            width = padded(int(row_lengths[order[start]]))
            size = max(1, min(n - start, token_budget // width))
            sizes.append(size)
            start += size
    else:
        sizes = [min(chunk, n - s) for s in range(0, n, chunk)]
    if len(sizes) == 1:  # one call: only the trailing padding columns go
        return forward(_cut(features, None, padded(int(max(row_lengths))), full))
    index = _index_tensor(order, mask.device)
    parts, start = [], 0
    for size in sizes:
        rows = index[start : start + size]
        # the chunk's longest row (sorted descending); a chunk of empty rows keeps the full width
        width = padded(int(row_lengths[order[start]]))
        start += size
        parts.append(forward(_cut(features, rows, width, full)))
    return torch.cat(parts)[torch.argsort(index)]


def _index_tensor(values: list[int], device: torch.device) -> torch.Tensor:
    """A long tensor on ``device`` without a blocking copy (pinned memory on CUDA)."""
    t = torch.tensor(values, dtype=torch.long)
    return t.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else t.to(device)


def _cut(
    features: dict[str, torch.Tensor], rows: torch.Tensor | None, width: int, full: int
) -> dict[str, torch.Tensor]:
    """``rows`` of every feature (all when ``None``), token-level ones cut to ``width`` columns."""
    out = {}
    for k, v in features.items():
        v = v if rows is None else v[rows]
        out[k] = v[:, :width] if v.dim() > 1 and v.shape[1] == full else v
    return out


def to_device(features: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """Move a tokenised batch to ``device``; on CUDA through pinned memory without blocking the host, so
    the next batch is tokenised while the GPU works on this one."""
    if device.type != "cuda":
        return {k: v.to(device) for k, v in features.items()}
    return {k: v.pin_memory().to(device, non_blocking=True) for k, v in features.items()}


def autocast(device: torch.device, precision: str) -> Any:
    """``torch.autocast`` for ``precision`` (bf16 / fp16) on ``device``; a no-op context for fp32."""
    import contextlib

    from simsent.modeling.device import check_precision

    if precision in (None, "fp32"):
        return contextlib.nullcontext()
    check_precision(precision, device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device_type=device.type, dtype=dtype)


def check_readable_folder(path: str) -> None:
    """A one-line ModelLoadError when ``path`` is a model folder this account may not read (or lies under
    one); without it, a locked folder looked like one without a tokenizer, or like no folder at all."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except PermissionError as exc:
        raise ModelLoadError(f"permission denied: {path} (a folder on the way cannot be read)") from exc
    except OSError:
        return  # not there: a hub id, or the loader says it is missing
    if stat.S_ISDIR(mode) and not os.access(path, os.R_OK | os.X_OK):
        raise ModelLoadError(f"permission denied: cannot read the model folder {path}; ask its owner for "
                             "read access or copy it")


def _st_pooling(st: Any, encoder: EncoderModule, path: str) -> Pooling:
    """The pooling a sentence-transformers folder asks for (mean when it names none)."""
    weights = st.layer_weights
    if weights is not None and not getattr(encoder.model.config, "output_hidden_states", False):
        logger.warning(
            "%s: its WeightedLayerPooling has no effect (config.json does not ask for hidden states), "
            "in sentence-transformers as here", path,
        )
        weights = None
    return Pooling(st.pooling or "mean", layer_weights=weights, layer_start=st.layer_start)


def check_encoder_pooling(encoder: EncoderModule, mode: str) -> None:
    """Refuse a pooling the encoder cannot give (``pooler`` without a pooler) or that makes no sense for
    it (``cls`` on a TextCNN: every text sharing its first characters would get one vector)."""
    parts = pooling_parts(mode)
    if "pooler" in parts and not encoder.has_pooler():
        raise ConfigError(
            "pooling 'pooler' needs a model with a trained dense+tanh pooler (e.g. BERT); use cls or mean"
        )
    allowed = getattr(encoder, "poolings", None)
    if allowed is not None and any(p not in allowed for p in parts):
        raise ConfigError(
            f"pooling {mode!r} makes no sense for a {encoder.kind} encoder; use one of {', '.join(allowed)}"
        )


def _corrupt_model_message(path: str, exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return (
        f"cannot load the model in {path!r}: its files look truncated or corrupt "
        f"({type(exc).__name__}: {first}); re-save or re-download it"
    )


class SentenceEncoder(nn.Module):
    """A sentence embedding model.

    Args:
        encoder: token-level encoder (:class:`~simsent.modeling.encoders.base.EncoderModule`).
        pooling: one of :data:`simsent.modeling.pooling.POOLING_MODES` (or a :class:`Pooling`).
        dense: modules applied after pooling (whitening, heads, projections, LayerNorm), in order.
        normalize: L2-normalise the output (saved as a ``Normalize`` module).
    """

    def __init__(
        self,
        encoder: EncoderModule,
        pooling: str | Pooling = "mean",
        dense: Sequence[nn.Module] | None = None,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling if isinstance(pooling, Pooling) else Pooling(pooling)
        check_encoder_pooling(encoder, self.pooling.mode)
        self.dense = nn.ModuleList(dense or [])
        #: named prompts put before the texts by :meth:`encode` (sentence-transformers' prompts)
        self.prompts: dict[str, str] = {}
        self.default_prompt_name: str | None = None
        self.normalize = bool(normalize)
        if hasattr(encoder, "output_hidden_states"):
            encoder.output_hidden_states = self.pooling.needs_hidden_states
        self.extra_config: dict[str, Any] = {}
        #: rows per encoder call in :meth:`forward_batch` (None or 0: the whole batch in one call); the
        #: trainer sets it (16 on CPU; on a GPU the token budget below in fp32, the whole batch in bf16)
        self.forward_chunk_size: int | None = None
        #: or: padded tokens per encoder call (length-sorted chunks filled up to it; the GPU default)
        self.forward_token_budget: int | None = None
        #: or: pack the rows into rows of this many tokens, no padding through the transformer
        #: (:mod:`simsent.modeling.packing`; BERT / RoBERTa / ELECTRA, not with pooling "pooler")
        self.forward_pack_tokens: int | None = None
        #: numeric precision of :meth:`encode`: fp32, or bf16 / fp16 autocast (outputs stay float32)
        self.precision: str = "fp32"

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        pooling: str | None = None,
        max_len: int | None = None,
        dropout: float | None = None,
        jieba: bool | None = None,
        backend: str | None = None,
        file_name: str | None = None,
    ) -> SentenceEncoder:
        """Load a simsent folder, a sentence-transformers folder, or any Hugging Face model.

        Arguments left as ``None`` keep what the folder says (defaults: mean pooling, 64 tokens). A
        folder with truncated or garbage weights or a corrupt config is a one-line ModelLoadError.
        ``backend="onnx"`` (or a folder with an ONNX export and no torch weights) gives an
        :class:`~simsent.modeling.onnx.OnnxSentenceEncoder` (``file_name`` picks the graph).
        """
        from simsent.modeling.builtin import builtin_path

        name_or_path = builtin_path(os.fspath(name_or_path))  # a built-in name: its cached folder
        if backend not in (None, "torch", "onnx"):
            raise ConfigError(f"unknown backend {backend!r}; use torch or onnx")
        check_readable_folder(name_or_path)
        from simsent.modeling.static import StaticSentenceEncoder, is_static_folder

        if os.path.isdir(name_or_path) and is_static_folder(name_or_path):  # a static model: no transformer
            return StaticSentenceEncoder.load(name_or_path)  # type: ignore[return-value]
        folder = describe_model_folder(name_or_path)
        if backend == "onnx" or (backend is None and folder.kind == "onnx"):
            from simsent.modeling.onnx import OnnxSentenceEncoder

            return OnnxSentenceEncoder(name_or_path, file_name=file_name)
        if folder.kind == "onnx":
            raise ModelLoadError(
                f"{name_or_path} holds an ONNX graph and no torch weights: encode, eval, serve and index "
                "take it with --backend onnx; training, whitening and fit need its model.safetensors"
            )
        try:
            return cls._from_folder(folder, pooling, max_len, dropout, jieba)
        except (SimsentError, ImportError):
            raise
        except (ValueError, KeyError, RuntimeError, UnicodeDecodeError, OSError) as exc:
            raise ModelLoadError(_corrupt_model_message(name_or_path, exc)) from exc
        except Exception as exc:  # e.g. safetensors' SafetensorError, which derives from Exception only
            if type(exc).__name__ != "SafetensorError":
                raise
            raise ModelLoadError(_corrupt_model_message(name_or_path, exc)) from exc

    @classmethod
    def _from_folder(
        cls,
        folder: ModelFolder,
        pooling: str | None = None,
        max_len: int | None = None,
        dropout: float | None = None,
        jieba: bool | None = None,
    ) -> SentenceEncoder:
        """The encoder a described folder holds (:func:`~simsent.modeling.folder.describe_model_folder`)."""
        if pooling is not None:
            check_pooling(pooling)
        if folder.kind == "simsent":
            return cls._load_simsent(folder, pooling, max_len, dropout, jieba)
        from simsent.modeling.encoders.transformer import TransformerEncoder

        name_or_path, st = folder.path, folder.st
        if st is None:
            enc = TransformerEncoder.from_pretrained(
                name_or_path, max_len=max_len or DEFAULT_MAX_LEN, dropout=dropout, jieba=bool(jieba)
            )
            model = cls(enc, pooling=pooling or "mean")
        else:
            enc = TransformerEncoder.from_pretrained(
                st.transformer_path,
                max_len=max_len or st.max_len or DEFAULT_MAX_LEN,
                dropout=dropout,
                jieba=bool(jieba),
                lowercase=st.lowercase,
            )
            if max_len is None and st.max_len is None:  # sentence-transformers 6 keeps it in the tokenizer
                enc.set_max_len(getattr(enc.tokenizer, "model_max_length", DEFAULT_MAX_LEN))
            model = cls(enc, pooling=pooling or _st_pooling(st, enc, name_or_path), dense=st.heads,
                        normalize=st.normalize)
            model.prompts, model.default_prompt_name = st.prompts, st.default_prompt_name
        model.extra_config["base_model"] = name_or_path
        return model

    load = from_pretrained

    @classmethod
    def _load_simsent(cls, folder: ModelFolder, pooling, max_len, dropout, jieba) -> SentenceEncoder:
        path, cfg = folder.path, folder.config
        enc_dir = folder.inside(cfg.get("encoder_path", ""))
        overrides = {"max_len": max_len, "dropout": dropout, "jieba": jieba}
        try:
            encoder = encoder_class(cfg.get("encoder", "transformer")).load(enc_dir, **overrides)
        except (OSError, KeyError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"cannot load the encoder saved in {path!r}: {exc}") from exc
        dense = [load_head(folder.inside(d)) for d in cfg.get("dense_paths", [])]
        weights = cfg.get("layer_weights") if pooling is None else None
        pool = Pooling(pooling or cfg.get("pooling", "mean"), layer_weights=weights,
                       layer_start=cfg.get("layer_start", 0))
        model = cls(encoder, pooling=pool, dense=dense, normalize=cfg.get("normalize", False))
        model.prompts = dict(cfg.get("prompts") or {})
        model.default_prompt_name = cfg.get("default_prompt_name")
        model.extra_config = {k: v for k, v in cfg.items() if k not in _CORE_KEYS}
        return model

    # ------------------------------------------------------------------ forward
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def get_sentence_embedding_dimension(self) -> int:
        return heads_output_dim(self.dense, self.pooling.width(self.encoder.get_embedding_dimension()))

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.encoder.tokenize(list(texts))

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embed a tokenised batch (tensors on ``self.device``); returns (batch, dim)."""
        features = {k: v for k, v in features.items() if k != "row_lengths"}
        return self._head(self.encoder(features))

    def _head(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Pooling, Dense layers and normalisation on the encoder's outputs."""
        emb = self.pooling(features)["sentence_embedding"]
        for layer in self.dense:
            emb = layer(emb)
        if self.normalize:
            emb = torch.nn.functional.normalize(emb, p=2, dim=-1)
        return emb

    def use_device_padding(self) -> None:
        """Pad batches to a multiple of 8 tokens on a GPU (a handful of shapes, tensor-core aligned)."""
        if hasattr(self.encoder, "pad_to_multiple_of"):
            self.encoder.pad_to_multiple_of = 8 if self.device.type == "cuda" else None

    def forward_batch(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Embed one tokenised batch with gradients under the forward policy (:func:`chunked_forward`
        with :attr:`forward_chunk_size` rows per call, or packed with :attr:`forward_pack_tokens`): the
        embeddings and gradients of one call."""
        if self.can_pack():
            features = dict(features)
            lengths = features.pop("row_lengths", None)
            if lengths is None:
                lengths = features["attention_mask"].sum(dim=1).tolist()
            return self._head(self.encoder.forward_packed(features, lengths, int(self.forward_pack_tokens)))
        return chunked_forward(self, features, self.forward_chunk_size, self.forward_token_budget)

    def set_forward_policy(
        self, chunk_size: int | None = None, token_budget: int | None = None, pack_tokens: int | None = None
    ) -> None:
        """How :meth:`forward_batch` runs a training batch: ``chunk_size`` rows per encoder call, or as many
        rows as fit in ``token_budget`` padded tokens, or packed into rows of ``pack_tokens`` tokens
        (none of them: the whole batch in one call). The embeddings and gradients are those of one call.

        Example:
            >>> model.set_forward_policy(chunk_size=16)          # doctest: +SKIP
        """
        self.forward_chunk_size = chunk_size
        self.forward_token_budget = token_budget
        self.forward_pack_tokens = pack_tokens

    def can_pack(self) -> bool:
        """Whether :meth:`forward_batch` packs: asked for, an encoder that can, a pooling that allows."""
        return bool(
            self.forward_pack_tokens
            and self.pooling.mode != "pooler"
            and getattr(self.encoder, "can_pack", lambda: False)()
        )

    # ------------------------------------------------------------------ inference
    @torch.inference_mode()
    def encode(
        self,
        sentences: str | Sequence[str],
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        convert_to_numpy: bool = True,
        convert_to_tensor: bool = False,
        normalize_embeddings: bool = False,
        device: str | None = None,
        normalize: bool | None = None,
        prompt_name: str | None = None,
        prompt: str | None = None,
    ) -> np.ndarray | torch.Tensor:
        """Embed sentences; keyword names match ``SentenceTransformer.encode``.

        ``normalize`` is an alias of ``normalize_embeddings``. A single string gives a 1-D vector.
        ``prompt_name`` / ``prompt`` put a prompt before every text (:mod:`simsent.modeling.prompts`);
        without them the model's default prompt, if it has one.
        """
        if normalize is not None:
            normalize_embeddings = normalize
        texts, single = encode_texts(sentences, self.prompts, self.default_prompt_name, prompt_name, prompt)
        if device is not None:
            self.to(device)
        was_training = self.training
        if was_training:  # eval() walks every module: skip it for the many small calls of a service
            self.eval()
        self.use_device_padding()
        batches = length_batches(
            texts, batch_size, PASS_COST_CHARS if self.device.type == "cpu" else GPU_PASS_COST_CHARS
        )
        if show_progress_bar is None:
            show_progress_bar = logger.getEffectiveLevel() <= logging.INFO and len(texts) > 10 * batch_size
        chunks: list[torch.Tensor] = []
        for rows in tqdm(batches, desc="Encoding", disable=not show_progress_bar):
            batch = [texts[i] for i in rows]
            feats = to_device(self.tokenize(batch), self.device)
            with autocast(self.device, self.precision):
                emb = self(feats).float()
            if normalize_embeddings:
                emb = torch.nn.functional.normalize(emb, p=2, dim=-1)
            chunks.append(emb)
        if was_training:
            self.train()
        dim = self.get_sentence_embedding_dimension()
        out = torch.cat(chunks) if chunks else torch.empty(0, dim, device=self.device)
        order = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
        out = out[torch.as_tensor(np.argsort(order), device=out.device)]
        if single:
            out = out[0]
        if convert_to_tensor:
            return out
        return out.cpu().numpy() if convert_to_numpy else out

    def similarity(
        self, a: str | Sequence[str], b: str | Sequence[str], batch_size: int = 32
    ) -> float | np.ndarray:
        """Cosine similarity: a float for two strings, else the (len(a), len(b)) matrix."""
        return cosine_similarity(self, a, b, batch_size)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str, model_card: str | None = None) -> None:
        """Write a folder that both :meth:`load` and ``SentenceTransformer(path)`` read."""
        write_sentence_transformers_folder(self, path, model_card=model_card)

    def config_dict(self) -> dict[str, Any]:
        """The simsent config saved next to the weights."""
        config: dict[str, Any] = {
            "encoder": self.encoder.kind,
            "pooling": self.pooling.mode,
            "normalize": self.normalize,
            "prompts": self.prompts,
            "default_prompt_name": self.default_prompt_name,
            **self.extra_config,
        }
        if self.pooling.layer_weights is not None:
            config["layer_weights"] = self.pooling.layer_weights.tolist()
            config["layer_start"] = self.pooling.layer_start
        return config


_CORE_KEYS = {"encoder", "encoder_path", "pooling", "normalize", "dense_paths", "prompts",
              "default_prompt_name", "layer_weights", "layer_start"}


def model_fingerprint(model: Embedder, sample: int = 4096) -> str:
    """sha256 over the model's pooling/normalisation/max length, its vocabulary and a strided sample of
    every weight.

    Any fine-tuning changes it; re-saving or calibrating a threshold does not. Cheap (well under a
    second for BERT-base) because each tensor contributes at most ``sample`` values.
    """
    if hasattr(model, "fingerprint"):  # e.g. an ONNX model: its graph is its weights
        return model.fingerprint()
    import torch

    h = hashlib.sha256()
    meta = {
        "class": type(model).__name__,
        "pooling": getattr(getattr(model, "pooling", None), "mode", None),
        "normalize": getattr(model, "normalize", None),
        "max_len": getattr(getattr(model, "encoder", None), "max_len", None),
        "dense": len(getattr(model, "dense", []) or []),
    }
    h.update(json.dumps(meta, sort_keys=True).encode())
    encoder = getattr(model, "encoder", None)
    tokenizer = getattr(encoder, "tokenizer", None)
    vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else getattr(encoder, "vocab", None)
    if vocab is not None:
        items = sorted(vocab.items()) if isinstance(vocab, dict) else list(vocab)
        h.update(json.dumps(items, ensure_ascii=False).encode())
    with torch.no_grad():
        for name, t in sorted(model.state_dict().items()):
            flat = t.detach().reshape(-1)
            if flat.numel() > sample:
                flat = flat[:: max(1, flat.numel() // sample)][:sample]
            h.update(name.encode())
            h.update(str(tuple(t.shape)).encode())
            h.update(flat.to(device="cpu", dtype=torch.float32).numpy().tobytes())
    return h.hexdigest()


def dropout_rate(model: Any) -> float | list[float] | None:
    """The dropout probability of a model's layers (a sorted list when they differ; ``None``: none).

    Counts every ``nn.Dropout`` and the float rates that attention implementations read instead.

    Example:
        >>> import torch
        >>> dropout_rate(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.1)))
        0.1
    """
    import torch

    from simsent.modeling.encoders.transformer import FLOAT_DROPOUT_ATTRS

    if not isinstance(model, torch.nn.Module):
        return None
    rates = set()
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            rates.add(round(float(module.p), 6))
        for attr in FLOAT_DROPOUT_ATTRS:
            if isinstance(getattr(module, attr, None), float):
                rates.add(round(getattr(module, attr), 6))
    if not rates:
        return None
    return rates.pop() if len(rates) == 1 else sorted(rates)


def model_identity(model: Embedder, path: str | None = None) -> dict[str, Any]:
    """``{"path", "fingerprint", "dim"}`` of a model; ``path`` defaults to where it was loaded from."""
    if path is None:
        path = getattr(model, "name_or_path", None) or getattr(model, "extra_config", {}).get("base_model")
    if path is not None and os.path.exists(path):
        path = os.path.abspath(path)
    return {
        "path": path,
        "fingerprint": model_fingerprint(model),
        "dim": int(model.get_sentence_embedding_dimension()),
    }


def model_threshold(model: Embedder) -> float | None:
    """The calibrated threshold stored in a model's config, if any."""
    t = getattr(model, "extra_config", {}).get("threshold")
    return float(t["value"]) if isinstance(t, dict) and "value" in t else None
