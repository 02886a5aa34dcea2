"""A cross-encoder (reranker): query and text read together by one transformer, a score from its head.

:class:`CrossEncoder` mirrors sentence-transformers' ``CrossEncoder``: ``predict(pairs)`` gives one score
a pair (the sigmoid of the head's logit, as sentence-transformers applies by default), ``rank(query,
texts, top_k)`` the texts best first. It starts from any BERT-family folder or hub id (a fresh score
head on the transformer), from a bi-encoder simsent or sentence-transformers saved (its transformer),
or from a cross-encoder folder written by sentence-transformers or by simsent; :meth:`save` writes a
folder that ``sentence_transformers.CrossEncoder(path)`` loads with the same scores. Folders it cannot
read exactly (several labels, another activation, extra modules) are refused in one line.

For training it is a model like the sentence encoder (:class:`~simsent.training.trainer.Trainer`
trains it with the rerank objectives of :mod:`simsent.losses.rerank`): ``tokenize`` takes pairs, or
texts joined by :data:`PAIR_SEP` (what the collator stores), and ``forward(features)`` gives logits.

Example:
    >>> ce = CrossEncoder.from_pretrained("runs/faq-reranker")                # doctest: +SKIP
    >>> ce.rank("花呗怎么还款", ["如何还花呗", "花呗额度"], top_k=1)             # doctest: +SKIP
    [{'corpus_id': 0, 'score': 0.97}]
    >>> join_pair("花呗怎么还款", "如何还花呗").split(PAIR_SEP)
    ['花呗怎么还款', '如何还花呗']
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from simsent._constants import DEFAULT_MAX_LEN
from simsent._io import read_json, replace_dir, temp_dir, write_guard
from simsent.errors import ConfigError, ModelLoadError, first_line

logger = logging.getLogger(__name__)

#: joins a pair into one string for the training collator (a character no text holds)
PAIR_SEP = "\x1f"
ST_CONFIG = "config_sentence_transformers.json"
ACTIVATIONS = {"torch.nn.modules.activation.Sigmoid": "sigmoid",
               "torch.nn.modules.linear.Identity": "identity"}
_ST_FILES = {
    "modules.json": [{"idx": 0, "name": "0", "path": "",
                      "type": "sentence_transformers.base.modules.transformer.Transformer"}],
    "sentence_bert_config.json": {"transformer_task": "sequence-classification",
                                  "modality_config": {"text": {"method": "forward",
                                                               "method_output_name": "logits"}},
                                  "module_output_name": "scores"},
}


#: the config key of how much of the first stage's cosine a search blends into this reranker's order
#: (:func:`simsent.search.rerank.blended_scores`); fit writes it when the blend won
FIRST_STAGE_BLEND = "first_stage_blend"


def first_stage_blend(reranker: Any) -> float:
    """The blend weight ``reranker`` was chosen with (0: its own order alone).

    Example:
        >>> first_stage_blend(object())
        0.0
    """
    return float(getattr(reranker, "extra_config", {}).get(FIRST_STAGE_BLEND, 0.0))


def join_pair(a: str, b: str) -> str:
    """``a`` and ``b`` as one string the cross-encoder's ``tokenize`` reads as a pair."""
    return f"{a}{PAIR_SEP}{b}"


class _Ranks:
    """``rank`` from ``predict`` (shared by the torch model and its ONNX twin)."""

    def predict(self, pairs: Sequence[Sequence[str]], batch_size: int = 32,
                show_progress_bar: bool | None = None, apply_activation: bool = True) -> np.ndarray:
        raise NotImplementedError

    def rank(self, query: str, texts: Sequence[str], top_k: int | None = None, return_documents: bool = False,
             batch_size: int = 32) -> list[dict[str, Any]]:
        """``texts`` best first for ``query``: ``{"corpus_id", "score"}`` (+ ``"text"``), the first
        ``top_k``."""
        scores = self.predict([(query, t) for t in texts], batch_size=batch_size, show_progress_bar=False)
        order = np.argsort(-scores, kind="stable")[: top_k or len(texts)]
        return [{"corpus_id": int(i), "score": float(scores[i]),
                 **({"text": texts[i]} if return_documents else {})} for i in order]


class CrossEncoder(_Ranks, torch.nn.Module):
    """A transformer with a one-logit head over (query, text) pairs (see the module docstring)."""

    backend = "torch"
    #: what an ONNX export names its output, and the config file that records the export
    onnx_output = "scores"
    config_file = "simsent_cross_encoder.json"

    def __init__(self, model: Any, tokenizer: Any, max_len: int = DEFAULT_MAX_LEN,
                 activation: str = "sigmoid") -> None:
        super().__init__()
        self.model, self.tokenizer = model, tokenizer
        self.max_len, self.activation = int(max_len), activation
        self.encoder = None  # no separate sentence encoder: the pair goes through ``model`` whole
        self.extra_config: dict[str, Any] = {}

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(cls, name_or_path: str, max_len: int | None = None, dropout: float | None = None,
                        seed: int | None = None, layers: int | None = None) -> CrossEncoder:
        """A cross-encoder from a cross-encoder folder, or a new one on a transformer (its head drawn with
        ``seed``); ``layers``: keep only the first N transformer layers (a faster reranker)."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        from simsent.modeling.builtin import builtin_path

        if seed is not None:
            torch.manual_seed(seed)
        path, saved = _transformer_of(builtin_path(os.fspath(name_or_path)))
        extra = ({} if dropout is None
                 else {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout})
        if layers is not None:
            extra["num_hidden_layers"] = _checked_layers(path, layers)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, **extra)
            tokenizer = AutoTokenizer.from_pretrained(path)
        except ImportError:
            raise
        except Exception as exc:  # transformers' own errors for configs it cannot build (e.g. T5) included
            first = first_line(exc)
            raise ModelLoadError(f"cannot load a cross-encoder from {name_or_path}: {first}; start from a "
                                 "BERT-family encoder") from exc
        saved_len = getattr(tokenizer, "model_max_length", None)
        length = max_len or (saved_len if saved and saved_len and saved_len < 100_000 else DEFAULT_MAX_LEN)
        ce = cls(model, tokenizer, length, saved.get("activation", "sigmoid") if saved else "sigmoid")
        ce.extra_config["base_model"] = saved.get("base_model", name_or_path) if saved else name_or_path
        if saved and saved.get(FIRST_STAGE_BLEND):
            ce.extra_config[FIRST_STAGE_BLEND] = saved[FIRST_STAGE_BLEND]
        return ce

    @classmethod
    def load(cls, path: str, backend: str = "torch", **kwargs: Any) -> Any:
        """A saved cross-encoder: torch, or ``backend="onnx"`` for a folder ``simsent export`` wrote."""
        if backend == "onnx":
            return OnnxCrossEncoder(path, **kwargs)
        return cls.from_pretrained(path, **kwargs)

    # ------------------------------------------------------------------ scoring
    def tokenize(self, pairs: Sequence[Any]) -> dict[str, torch.Tensor]:
        """Pair features: each item a ``(query, text)`` pair or a :func:`join_pair` string."""
        split = [p.split(PAIR_SEP, 1) if isinstance(p, str) else p for p in pairs]
        firsts = [str(p[0]) for p in split]
        seconds = [str(p[1]) if len(p) > 1 else "" for p in split]
        return dict(self.tokenizer(firsts, seconds, padding=True, truncation="longest_first",
                                   max_length=self.max_len, return_tensors="pt"))

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """The head's logit of each pair, shape ``(n,)``."""
        return self.model(**features).logits.squeeze(-1).float()

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.inference_mode()
    def predict(self, pairs: Sequence[Sequence[str]], batch_size: int = 32,
                show_progress_bar: bool | None = None, apply_activation: bool = True) -> np.ndarray:
        """One score a ``(query, text)`` pair: the sigmoid of the logit (the raw logit with
        ``apply_activation=False``), as sentence-transformers' ``CrossEncoder.predict``."""
        from tqdm.auto import tqdm

        from simsent.modeling.inputs import length_order

        pairs = [tuple(p) for p in pairs]
        was = self.training
        self.eval()
        order = length_order([a + b for a, b in pairs])
        out = np.zeros(len(pairs), np.float32)
        show = show_progress_bar if show_progress_bar is not None else len(pairs) > 10 * batch_size
        for start in tqdm(range(0, len(pairs), batch_size), desc="Scoring", disable=not show):
            rows = order[start : start + batch_size]
            feats = {k: v.to(self.device) for k, v in self.tokenize([pairs[i] for i in rows]).items()}
            logits = self(feats)
            if apply_activation and self.activation == "sigmoid":
                logits = torch.sigmoid(logits)
            out[rows] = logits.cpu().numpy()
        self.train(was)
        return out

    # ------------------------------------------------------------------ what the Trainer asks of a model
    def use_device_padding(self) -> None:
        """Pads as the tokenizer does (nothing to change for a GPU)."""

    def set_forward_policy(self, *policy: Any) -> None:
        """Pairs go through whole (no chunking or packing)."""

    def can_pack(self) -> bool:
        return False

    def config_dict(self) -> dict[str, Any]:
        return {"kind": "cross-encoder", "pooling": "none (the pair is read whole)",
                "activation": self.activation, "max_len": self.max_len, **self.extra_config}

    # ------------------------------------------------------------------ saving
    def save(self, path: str, model_card: str | None = None) -> None:
        """Write (atomically) a folder that this class and ``sentence_transformers.CrossEncoder`` read.
        ``model_card`` is ignored: the card a bi-encoder's trainer writes does not fit; this writes its
        own."""
        path = os.path.abspath(os.fspath(path))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = temp_dir(os.path.dirname(path), "save")
        needed = sum(p.numel() * p.element_size() for p in self.state_dict().values())
        with write_guard(path, needed):
            try:
                self._write(tmp)
                replace_dir(tmp, path, carry_over=lambda name: name.startswith("checkpoint"))
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise

    def _write(self, folder: str) -> None:
        from simsent import __version__

        self.model.save_pretrained(folder)
        self.tokenizer.model_max_length = self.max_len
        self.tokenizer.save_pretrained(folder)
        activation = next(k for k, v in ACTIVATIONS.items() if v == self.activation)
        files = {**_ST_FILES, ST_CONFIG: {"activation_fn": activation, "model_type": "CrossEncoder",
                                           "prompts": {}, "default_prompt_name": None,
                                           "__version__": {"simsent": __version__}},
                 self.config_file: self.config_dict()}
        for name, content in files.items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                json.dump(content, f, indent=2, ensure_ascii=False)
        with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as f:
            f.write(_card(self))


class OnnxCrossEncoder(_Ranks):
    """A cross-encoder exported by ``simsent export`` (its int8 graph when there is one), on onnxruntime.

    Example:
        >>> OnnxCrossEncoder("runs/reranker-onnx").predict([("花呗怎么还款", "如何还花呗")])  # doctest: +SKIP
        array([0.97], dtype=float32)
    """

    backend = "onnx"

    def __init__(self, path: str, file_name: str | None = None, threads: int | None = None) -> None:
        from transformers import AutoTokenizer

        from simsent.modeling.onnx import ONNX_DIR, _session

        record = read_json(os.path.join(path, CrossEncoder.config_file), what="model config").get("onnx")
        if not isinstance(record, dict):
            raise ModelLoadError(f"{path} has no ONNX export of its reranker; run `simsent export {path} "
                                 "--output DIR` first")
        graph = os.path.join(path, ONNX_DIR, file_name) if file_name else os.path.join(path, record["file"])
        self.session = _session(graph, max(1, int(threads or torch.get_num_threads())))
        self.inputs = list(record["inputs"])
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.max_len = int(self.tokenizer.model_max_length)
        settings = _cross_encoder_settings(path)
        self.activation = settings["activation"]
        self.extra_config = {k: settings[k] for k in (FIRST_STAGE_BLEND,) if k in settings}

    def predict(self, pairs: Sequence[Sequence[str]], batch_size: int = 32,
                show_progress_bar: bool | None = None, apply_activation: bool = True) -> np.ndarray:
        """As :meth:`CrossEncoder.predict`, on the ONNX graph."""
        from simsent.modeling.inputs import length_order

        pairs = [tuple(p) for p in pairs]
        order = length_order([a + b for a, b in pairs])
        out = np.zeros(len(pairs), np.float32)
        for start in range(0, len(pairs), batch_size):
            rows = order[start : start + batch_size]
            feats = self.tokenizer([pairs[i][0] for i in rows], [pairs[i][1] for i in rows], padding=True,
                                   truncation="longest_first", max_length=self.max_len, return_tensors="np")
            feeds = {n: feats[n].astype(np.int64) for n in self.inputs}
            logits = self.session.run(None, feeds)[0].reshape(-1)
            sigmoid = apply_activation and self.activation == "sigmoid"
            out[rows] = 1 / (1 + np.exp(-logits)) if sigmoid else logits
        return out


def _transformer_of(path: str) -> tuple[str, dict[str, Any]]:
    """Where the transformer of ``path`` lives, and (for a cross-encoder folder) what it says of itself:
    its activation and base model; ``{}`` for a model that gets a new head."""
    from simsent.modeling.folder import describe_model_folder

    if is_cross_encoder(path):
        return path, _cross_encoder_settings(path)
    folder = describe_model_folder(path)
    if folder.kind == "simsent":
        if folder.config.get("encoder", "transformer") != "transformer":
            raise ModelLoadError(f"{path} holds a {folder.config.get('encoder')} encoder; a cross-encoder "
                                 "starts from a transformer (BERT family)")
        return folder.inside(folder.config.get("encoder_path", "")), {}
    if folder.kind == "sentence-transformers":
        return folder.st.transformer_path, {}
    if folder.kind == "onnx":
        raise ModelLoadError(f"{path} holds an ONNX graph and no torch weights; start a cross-encoder from "
                             "torch weights")
    return path, {}


def _checked_layers(path: str, layers: int) -> int:
    """``layers`` when the transformer at ``path`` has at least that many, else a one-line refusal."""
    from transformers import AutoConfig

    try:
        have = getattr(AutoConfig.from_pretrained(path), "num_hidden_layers", None)
    except Exception as exc:  # transformers' own errors for a folder it cannot read
        first = first_line(exc)
        raise ModelLoadError(f"cannot read the configuration of {path}: {first}") from exc
    if have is None or not 1 <= layers <= have:
        raise ConfigError(f"--layers {layers}: the start model has {have} transformer layers")
    return layers


def is_cross_encoder(path: str) -> bool:
    """Whether ``path`` is a folder holding a cross-encoder (a trained score head)."""
    if not os.path.isdir(path):
        return False
    st = os.path.join(path, ST_CONFIG)
    if os.path.isfile(st) and read_json(st, what="model config").get("model_type") == "CrossEncoder":
        return True
    cfg = os.path.join(path, "config.json")
    arch = read_json(cfg, what="model config").get("architectures") or [] if os.path.isfile(cfg) else []
    return any(a.endswith("ForSequenceClassification") for a in arch)


def _cross_encoder_settings(path: str) -> dict[str, Any]:
    """A cross-encoder folder's activation (refusing what simsent cannot reproduce exactly)."""
    cfg = read_json(os.path.join(path, "config.json"), what="model config")
    labels = len(cfg.get("id2label") or {}) or int(cfg.get("num_labels", 1))
    if labels != 1:
        raise ModelLoadError(f"{path} scores {labels} labels a pair; simsent reranks with one score "
                             "(num_labels=1)")
    st_file = os.path.join(path, ST_CONFIG)
    st = read_json(st_file, what="model config") if os.path.isfile(st_file) else {}
    legacy = (cfg.get("sentence_transformers") or {}).get("activation_fn") or cfg.get(
        "sbert_ce_default_activation_function")
    name = st.get("activation_fn") or legacy or "torch.nn.modules.activation.Sigmoid"
    if name not in ACTIVATIONS:
        raise ModelLoadError(f"{path} applies {name} to its scores; simsent reads sigmoid or identity only")
    modules = os.path.join(path, "modules.json")
    if os.path.isfile(modules) and len(read_json(modules, what="module list")) != 1:
        raise ModelLoadError(f"{path} has more than a transformer in modules.json; simsent cannot read it "
                             "exactly")
    mine = os.path.join(path, "simsent_cross_encoder.json")
    own = read_json(mine, what="model config") if os.path.isfile(mine) else {}
    kept = {k: own[k] for k in ("base_model", FIRST_STAGE_BLEND) if own.get(k)}
    return {"activation": ACTIVATIONS[name], **kept}


def _card(ce: CrossEncoder) -> str:
    return "\n".join([
        "---", "library_name: sentence-transformers", "tags: [cross-encoder, reranker, simsent]", "---", "",
        "# simsent cross-encoder", "",
        f"A reranker trained with simsent from `{ce.extra_config.get('base_model', 'unknown')}`: it reads a "
        f"query and a text together (at most {ce.max_len} tokens) and scores the pair "
        f"({ce.activation} of one logit).", "",
        "```python",
        "from sentence_transformers import CrossEncoder",
        "model = CrossEncoder('PATH')   # or simsent.modeling.cross_encoder.CrossEncoder.load('PATH')",
        "model.rank('花呗怎么还款', ['如何还花呗', '花呗额度怎么提升'])",
        "```", "",
    ])
