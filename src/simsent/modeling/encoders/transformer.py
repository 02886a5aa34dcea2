"""Any Hugging Face ``AutoModel`` as an :class:`EncoderModule`.

Example:
    >>> enc = TransformerEncoder.from_pretrained("bert-base-chinese", dropout=0.3)  # doctest: +SKIP
    >>> out = enc(enc.tokenize(["今天天气不错"]))    # doctest: +SKIP
    >>> out["token_embeddings"].shape                                                       # doctest: +SKIP
    torch.Size([1, 8, 768])
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from simsent._constants import DEFAULT_MAX_LEN, MAX_DROPOUT
from simsent.errors import ModelLoadError, check_number
from simsent.modeling.encoders.base import EncoderModule

if TYPE_CHECKING:
    from transformers import PreTrainedModel

logger = logging.getLogger(__name__)

#: config attributes that hold dropout probabilities in common architectures
DROPOUT_KEYS = (
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "hidden_dropout",
    "attention_dropout",
    "dropout",
    "activation_dropout",
)
SIMSENT_ENCODER_CONFIG = "simsent_encoder.json"
#: attributes of attention modules that hold a dropout rate as a float instead of an nn.Dropout
FLOAT_DROPOUT_ATTRS = ("dropout_prob", "attention_dropout")

#: architectures whose position ids start after the padding index (RoBERTa: pad_token_id + 1)
PADDING_OFFSET_MODELS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "longformer", "mpnet",
                         "data2vec-text", "ibert", "luke"}


def position_limit(config: Any) -> int | None:
    """Longest input in tokens the model's position table allows (``None``: no table, no limit).

    Example:
        >>> from types import SimpleNamespace
        >>> position_limit(SimpleNamespace(model_type="roberta", max_position_embeddings=514, pad_token_id=1))
        512
    """
    n = getattr(config, "max_position_embeddings", None)
    if not isinstance(n, int) or n <= 0:
        return None
    if getattr(config, "model_type", None) in PADDING_OFFSET_MODELS:
        n -= int(getattr(config, "pad_token_id", 1) or 0) + 1
    return max(1, n)


def _load_error(name: str, exc: Exception) -> ModelLoadError:
    import pickle

    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, pickle.UnpicklingError) and "Weights only load failed" in text:
        unsupported = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
        what = f" (it holds {unsupported.group(1)})" if unsupported else ""
        return ModelLoadError(
            f"cannot load model {name!r}: its weights are a pickle that loads only by running code{what}; "
            "simsent runs none: save them as model.safetensors on a machine you trust, or get a safetensors "
            "copy"
        )
    hint = (
        "it is not a local folder and this machine cannot download it; pass a local model directory"
        if not os.path.isdir(name)
        else "the folder does not hold a Hugging Face model (config.json, weights, tokenizer)"
    )
    return ModelLoadError(f"cannot load model {name!r}: {hint} ({type(exc).__name__}: {first[:300]})")


def check_encoder_family(path: str) -> None:
    """Refuse a folder whose ``config.json`` names an encoder-decoder family (T5, BART, ...): simsent
    encodes with encoder-only transformers (BERT, RoBERTa, XLM-R, ELECTRA, ...) and decoders."""
    from transformers.models.auto import modeling_auto

    cfg_file = os.path.join(path, "config.json")
    if not os.path.isfile(cfg_file):
        return
    try:
        with open(cfg_file, encoding="utf-8-sig") as f:
            model_type = json.load(f).get("model_type")
    except (OSError, ValueError, AttributeError):
        return  # AutoConfig says what is wrong with the file
    if model_type in getattr(modeling_auto, "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", {}):
        raise ModelLoadError(
            f"{path} is a {model_type} model (encoder-decoder); simsent takes encoder models such as BERT, "
            "RoBERTa, XLM-R or ELECTRA"
        )


#: files of which a tokenizer folder holds at least one
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model",
                   "tokenizer.model", "vocab.model")


def check_tokenizer_files(path: str) -> None:
    """Refuse a folder without tokenizer files (transformers would build an empty tokenizer that maps
    every character to [UNK])."""
    if not any(os.path.isfile(os.path.join(path, name)) for name in TOKENIZER_FILES):
        raise ModelLoadError(
            f"no tokenizer in {path} (none of {', '.join(TOKENIZER_FILES[:3])}, ...): copy the tokenizer "
            "files of the model next to its weights"
        )


def check_architecture(config: Any, path: str) -> None:
    """Refuse a ``config.json`` whose ``architectures`` belong to another model family than its
    ``model_type`` (e.g. BERT weights under a RoBERTa config: same tensor names, wrong positions)."""
    from transformers.models.auto import modeling_auto

    model_type = getattr(config, "model_type", None)
    families: dict[str, set[str]] = {}
    for name in dir(modeling_auto):
        if name.endswith("_MAPPING_NAMES") and isinstance(getattr(modeling_auto, name), dict):
            for family, classes in getattr(modeling_auto, name).items():
                for cls_name in classes if isinstance(classes, (list, tuple)) else [classes]:
                    families.setdefault(cls_name, set()).add(family)
    for arch in getattr(config, "architectures", None) or []:
        known = families.get(arch)
        if known and model_type not in known:
            raise ModelLoadError(
                f"{path}/config.json says model_type {model_type!r} but its architecture {arch} is of "
                f"{'/'.join(sorted(known))}: the config belongs to another model; re-download or re-save it"
            )


@contextlib.contextmanager
def quiet_transformers():
    """transformers' own warnings off for the duration (simsent reports what matters in one line)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)


def _placeholder_pooler(model: PreTrainedModel) -> bool:
    """True for a pooler whose dense layer is exactly the identity with a zero bias: a stand-in written by a
    conversion (e.g. an e5 checkpoint without one), not a trained pooler."""
    dense = getattr(getattr(model, "pooler", None), "dense", None)
    weight, bias = getattr(dense, "weight", None), getattr(dense, "bias", None)
    if weight is None or weight.ndim != 2 or weight.shape[0] != weight.shape[1]:
        return False
    with torch.no_grad():
        identity = torch.equal(weight, torch.eye(weight.shape[0], dtype=weight.dtype, device=weight.device))
        return identity and (bias is None or not bool(bias.any()))


def check_loading_info(model: PreTrainedModel, info: dict[str, Any], path: str) -> None:
    """Refuse a checkpoint that does not hold exactly the model's weights (a ``config.json`` of another
    layer count or family); heads of the checkpoint (``cls.``, ``lm_head.``) are fine, and a missing
    pooler drops the pooler instead of leaving it random."""
    own_children = {name for name, _ in model.named_children()}
    missing = sorted(info.get("missing_keys") or [])
    if missing and all(k.startswith("pooler.") for k in missing) and hasattr(model, "pooler"):
        logger.info("%s has no pooler weights: pooling 'pooler' is not offered", path)
        model.pooler = None
        missing = []
    if _placeholder_pooler(model):  # kept (and saved as it was), but not offered for pooling
        logger.info("%s: its pooler is a placeholder (identity weights, zero bias): pooling 'pooler' is not "
                    "offered", path)
        model.simsent_placeholder_pooler = True
    unexpected = sorted(k for k in info.get("unexpected_keys") or [] if k.split(".", 1)[0] in own_children)
    mismatched = sorted(str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys") or [])
    problems = [
        f"{label} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mismatched))
        if keys
    ]
    if problems:
        raise ModelLoadError(
            f"the weights in {path} do not match its config.json ({'; '.join(problems)}): the config is of "
            "another size or model family, or the weights are incomplete; re-download or re-save the model"
        )


def check_tokenizer_fits(model: PreTrainedModel, tokenizer: Any, path: str) -> None:
    """Refuse a tokenizer with ids beyond the model's embedding table (they would index past it)."""
    rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > rows:
        raise ModelLoadError(
            f"the tokenizer in {path} has {len(tokenizer)} tokens but the model's embedding table only "
            f"{rows} rows: tokenizer and weights are of different models; re-download or re-save the model"
        )


def add_lowercase(tokenizer: Any) -> None:
    """Lower-case texts inside a fast tokenizer (kept when the tokenizer is saved)."""
    from tokenizers import normalizers

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelLoadError("do_lower_case needs a fast tokenizer (tokenizer.json)")
    current = backend.normalizer
    parts = list(current) if isinstance(current, normalizers.Sequence) else [current] if current else []
    if not any(isinstance(n, normalizers.Lowercase) for n in parts):
        backend.normalizer = normalizers.Sequence([normalizers.Lowercase(), *parts])


class TransformerEncoder(EncoderModule):
    """Wrap a Hugging Face model and its tokenizer.

    Args:
        model: a ``transformers.PreTrainedModel`` returning ``last_hidden_state``.
        tokenizer: its tokenizer.
        max_len: truncation length in tokens.
        jieba: segment texts into words with jieba before the tokenizer (word-level models such as
            WoBERT / RoFormer); the tokenizer then receives ``is_split_into_words=True``.
    """

    kind = "transformer"

    def __init__(
        self, model: PreTrainedModel, tokenizer: Any, max_len: int = DEFAULT_MAX_LEN, jieba: bool = False
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.set_max_len(max_len)
        self.jieba = bool(jieba)
        self.output_hidden_states = False
        #: pad each batch to a multiple of this many tokens (set to 8 on a GPU; None on CPU)
        self.pad_to_multiple_of: int | None = None

    def set_max_len(self, max_len: int) -> None:
        """Truncate inputs to ``max_len`` tokens, lowered (with a warning) to the model's position table."""
        limit = position_limit(getattr(self.model, "config", None))
        if limit is not None and int(max_len) > limit:
            if int(max_len) < 100_000:  # tokenizers without a limit say 1e30
                logger.warning("max_len %d exceeds the model's %d positions; using %d", max_len, limit, limit)
            max_len = limit
        self.max_len = int(max_len)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str,
        max_len: int = DEFAULT_MAX_LEN,
        dropout: float | None = None,
        jieba: bool = False,
        lowercase: bool = False,
        **model_kwargs: Any,
    ) -> TransformerEncoder:
        """Load model and tokenizer by hub id or local path; ``dropout`` overrides every dropout rate.

        Every weight of the model must be in the checkpoint with its shape (a missing, unexpected or
        mis-shaped one is a :class:`ModelLoadError` naming the folder; a missing BERT pooler only drops
        the pooler), and the tokenizer must fit the embedding table. ``lowercase`` lower-cases texts in
        the tokenizer (sentence-transformers' ``do_lower_case``).
        """
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        name_or_path = os.fspath(name_or_path)
        check_number("dropout", dropout, minimum=0, maximum=MAX_DROPOUT, optional=True)
        check_number("max_len", max_len, integer=True, minimum=1)
        looks_like_path = name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1
        if looks_like_path and not os.path.isdir(name_or_path):
            raise ModelLoadError(f"model folder not found: {name_or_path}")
        if os.path.isdir(name_or_path):
            check_tokenizer_files(name_or_path)
            check_encoder_family(name_or_path)
        try:
            config = AutoConfig.from_pretrained(name_or_path)
            check_architecture(config, name_or_path)
            if dropout is not None:
                for key in DROPOUT_KEYS:
                    if isinstance(getattr(config, key, None), float):
                        setattr(config, key, float(dropout))
            tok_kwargs = {"tokenize_chinese_chars": False} if jieba else {}
            tokenizer = AutoTokenizer.from_pretrained(name_or_path, **tok_kwargs)
            with quiet_transformers():  # its load report; ours below is one line
                model, info = AutoModel.from_pretrained(
                    name_or_path, config=config, output_loading_info=True, ignore_mismatched_sizes=True,
                    **model_kwargs,
                )
        except ModelLoadError:
            raise
        except Exception as exc:  # transformers and torch fail in their own ways (pickles, config checks)
            raise _load_error(name_or_path, exc) from exc
        check_loading_info(model, info, name_or_path)
        check_tokenizer_fits(model, tokenizer, name_or_path)
        if lowercase:
            add_lowercase(tokenizer)
        enc = cls(model, tokenizer, max_len=max_len, jieba=jieba)
        if dropout is not None:
            enc.set_dropout(dropout)
        return enc

    @classmethod
    def load(cls, path: str, **kwargs: Any) -> TransformerEncoder:
        """Restore an encoder saved by :meth:`save` (extra keyword arguments override the saved ones)."""
        cfg: dict[str, Any] = {}
        cfg_file = os.path.join(path, SIMSENT_ENCODER_CONFIG)
        if os.path.isfile(cfg_file):
            with open(cfg_file, encoding="utf-8") as f:
                cfg = json.load(f)
        cfg.update({k: v for k, v in kwargs.items() if v is not None})
        return cls.from_pretrained(
            path,
            max_len=cfg.get("max_len", DEFAULT_MAX_LEN),
            dropout=cfg.get("dropout"),
            jieba=cfg.get("jieba", False),
        )

    # ------------------------------------------------------------------ contract
    def get_embedding_dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def has_pooler(self) -> bool:
        """A trained dense+tanh pooler (not a missing one, nor a placeholder written by a conversion)."""
        pooler = getattr(self.model, "pooler", None)
        return pooler is not None and not getattr(self.model, "simsent_placeholder_pooler", False)

    def set_dropout(self, p: float) -> None:
        super().set_dropout(p)
        for key in DROPOUT_KEYS:
            if isinstance(getattr(self.model.config, key, None), float):
                setattr(self.model.config, key, float(p))
        # attention implementations that read a float attribute instead of an nn.Dropout
        for module in self.model.modules():
            for attr in FLOAT_DROPOUT_ATTRS:
                if isinstance(getattr(module, attr, None), float):
                    setattr(module, attr, float(p))

    def _pretokenize(self, texts: list[str]) -> list[list[str]]:
        """jieba words; a word missing from the vocabulary falls back to its characters (as WoBERT does)."""
        import jieba

        if not hasattr(self, "_vocab"):
            self._vocab = set(self.tokenizer.get_vocab())
        out = []
        for text in texts:
            pieces: list[str] = []
            for word in jieba.lcut(text):
                if not word.strip():
                    continue
                pieces.extend([word] if word in self._vocab else list(word))
            out.append(pieces)
        return out

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Padded ``input_ids`` / ``attention_mask`` (/ ``token_type_ids``) of ``texts``, int64 tensors.

        The tokenizer returns lists, turned into tensors through numpy here: its own ``return_tensors="pt"``
        took 20 ms instead of 7 for 256 short sentences (transformers 5.23, this project's CPU).
        """
        kwargs: dict[str, Any] = dict(padding=True, truncation="longest_first", max_length=self.max_len)
        if self.pad_to_multiple_of:  # few distinct shapes: a GPU tunes its kernels once per shape
            kwargs["pad_to_multiple_of"] = self.pad_to_multiple_of
        if self.jieba:
            batch = self.tokenizer(self._pretokenize(texts), is_split_into_words=True, **kwargs)
        else:
            batch = self.tokenizer(list(texts), **kwargs)
        n = len(texts)
        return {k: torch.from_numpy(np.asarray(v, dtype=np.int64).reshape(n, -1)) for k, v in batch.items()}

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        inputs = {k: v for k, v in features.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        out = self.model(**inputs, output_hidden_states=self.output_hidden_states, return_dict=True)
        features["token_embeddings"] = out.last_hidden_state
        if self.output_hidden_states:
            features["all_layer_embeddings"] = out.hidden_states
        pooled = getattr(out, "pooler_output", None)
        if pooled is not None:
            features["pooler_output"] = pooled
        return features

    def can_pack(self) -> bool:
        """Whether :meth:`forward_packed` applies (absolute positions, ``position_ids`` accepted)."""
        from simsent.modeling.packing import packable

        return not self.jieba and packable(self.model)

    def forward_packed(
        self, features: dict[str, torch.Tensor], lengths: list[int], row_tokens: int
    ) -> dict[str, torch.Tensor]:
        """:meth:`forward` with the real tokens packed into rows of ``row_tokens`` (no padding through
        the model; see :mod:`simsent.modeling.packing`); the same outputs except ``pooler_output``."""
        from simsent.modeling.packing import packed_forward

        features.update(packed_forward(self.model, features, lengths, row_tokens, self.output_hidden_states))
        return features

    def save(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)
        dropout = getattr(self.model.config, "hidden_dropout_prob", None)
        with open(os.path.join(path, SIMSENT_ENCODER_CONFIG), "w", encoding="utf-8") as f:
            json.dump({"max_len": self.max_len, "jieba": self.jieba, "dropout": dropout}, f, indent=2)

    def pooler_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Weight and bias of the model's dense+tanh pooler (for the sentence-transformers export)."""
        dense = self.model.pooler.dense
        return dense.weight.detach().clone(), dense.bias.detach().clone()
