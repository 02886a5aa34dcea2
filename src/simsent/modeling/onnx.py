"""The whole sentence pipeline as an ONNX graph, and a model that runs it with onnxruntime.

:func:`export_onnx` saves the model as usual (a sentence-transformers folder: tokenizer, configs) and
writes, beside it, ``onnx/model.onnx``: token ids in, sentence vectors out (transformer or TextCNN,
pooling including first_last_avg, Dense layers such as whitening, Normalize). ``quantize="int8"``
adds ``onnx/model_qint8_avx512_vnni.onnx`` (onnxruntime's dynamic int8 quantisation, per channel).
:class:`OnnxSentenceEncoder` encodes with that graph and keeps ``encode``'s keywords;
``SentenceEncoder.load(path, backend="onnx")`` returns one, and so does a folder that has an ONNX
graph but no torch weights.

Example:
    >>> export_onnx(SentenceEncoder.load("runs/stsb"), "runs/stsb-onnx", quantize="int8")  # doctest: +SKIP
    >>> OnnxSentenceEncoder.load("runs/stsb-onnx").encode(["今天天气不错"]).shape            # doctest: +SKIP
    (1, 768)
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from simsent._constants import DEFAULT_MAX_LEN
from simsent._io import read_json, write_json
from simsent.errors import ConfigError, ModelLoadError
from simsent.modeling.inputs import cosine_similarity, length_batches, unit_rows

if TYPE_CHECKING:
    from transformers import PreTrainedModel

logger = logging.getLogger(__name__)

ONNX_DIR = "onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model_qint8_avx512_vnni.onnx"
QUANTIZATIONS = ("int8",)


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ConfigError("the ONNX backend needs onnxruntime: pip install simsent[onnx]") from exc
    return onnxruntime


class _Pipeline(torch.nn.Module):
    """token tensors -> sentence vectors, with positional inputs for the exporter."""

    def __init__(self, model: torch.nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.names = list(names)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(dict(zip(self.names, inputs, strict=True)))


@contextlib.contextmanager
def eager_attention(model: PreTrainedModel) -> Iterator[None]:
    """Trace a Hugging Face transformer with its plain ("eager") attention, restored afterwards.

    The SDPA path of recent transformers exports as a graph onnxruntime cannot fuse well (results/
    defaults.md); the vectors are the same. A model without the switch is left alone.
    """
    hf = getattr(getattr(model, "encoder", None), "model", None) or getattr(model, "model", None)  # reranker
    config = getattr(hf, "config", None)
    before = getattr(config, "_attn_implementation", None)
    switched = False
    if hf is not None and before not in (None, "eager") and hasattr(hf, "set_attn_implementation"):
        try:
            hf.set_attn_implementation("eager")
            switched = True
        except (ValueError, ImportError, AttributeError) as exc:  # an architecture without eager attention
            logger.info("exporting with %s attention (%s)", before, exc)
    try:
        yield
    finally:
        if switched:
            hf.set_attn_implementation(before)


def export_onnx(
    model: torch.nn.Module, output: str, opset: int = 17, quantize: str | None = None, optimize: bool = False
) -> dict[str, Any]:
    """Save ``model`` to ``output`` with its pipeline as ONNX (fp32, and int8 when asked); returns the
    ``onnx`` record written into ``simsent_config.json``. The folder is written beside ``output`` and
    renamed into place: a failed export (a full disk) leaves the previous ``output`` as it was.
    ``optimize``: a transformer's graph goes through onnxruntime's transformer optimiser first (fused
    attention, SkipLayerNormalization, BiasGelu; :func:`optimize_transformer_graph`)."""
    from simsent._io import replace_dir, temp_dir, write_guard

    if quantize not in (None, *QUANTIZATIONS):
        raise ConfigError(f"unknown --quantize {quantize!r}; choose {', '.join(QUANTIZATIONS)}")
    if optimize and _transformer_config(model) is None:
        raise ConfigError("--optimize fuses a transformer's attention and layer norms; this model has no "
                          "transformer (TextCNN or static): export it without --optimize")
    _onnxruntime()
    model = model.cpu().eval()
    output = os.path.abspath(output)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    tmp = temp_dir(os.path.dirname(output), "export")
    needed = sum(p.numel() * p.element_size() for p in model.state_dict().values()) * (3 if quantize else 2)
    with write_guard(output, needed):  # outside the clean-up, so that the free space it names is true
        try:
            record = _export_into(model, tmp, opset, quantize, optimize)
            # keep what else lives in the folder (a checkpoint, plots), drop stale module folders
            replace_dir(tmp, output, carry_over=lambda name: not re.match(r"^\d+_", name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("exported %s to %s", record["file"], output)
    return record


def _export_into(model: torch.nn.Module, folder: str, opset: int, quantize: str | None,
                 optimize: bool = False) -> dict[str, Any]:
    """The model folder, its ONNX graph(s) under ``onnx/`` and their record in the model's own config
    (``simsent_config.json``; a reranker's ``simsent_cross_encoder.json``)."""
    model.save(folder)
    output_name, config_name = getattr(model, "onnx_output", "sentence_embedding"), getattr(
        model, "config_file", "simsent_config.json")
    sample = model.tokenize(["今天天气不错", "你好"])
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]
    os.makedirs(os.path.join(folder, ONNX_DIR), exist_ok=True)
    path = os.path.join(folder, ONNX_DIR, FP32_FILE)
    dynamic = {n: {0: "batch", 1: "tokens"} for n in names}
    dynamic[output_name] = {0: "batch"}
    with torch.no_grad(), eager_attention(model):
        torch.onnx.export(
            _Pipeline(model, names),
            tuple(sample[n] for n in names),
            path,
            input_names=names,
            output_names=[output_name],
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=False,
        )
    record: dict[str, Any] = {"file": f"{ONNX_DIR}/{FP32_FILE}", "inputs": names, "opset": opset}
    if optimize:
        record["optimized"] = optimize_transformer_graph(path, _transformer_config(model))
    if quantize == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _root_logger_quiet():
            # the optimiser's fused (com.microsoft) nodes leave some tensors without an inferred type
            typed = {"DefaultTensorType": 1} if optimize else {}  # onnx.TensorProto.FLOAT
            quantize_dynamic(path, os.path.join(folder, ONNX_DIR, INT8_FILE), weight_type=QuantType.QInt8,
                             per_channel=True, extra_options=typed)
        record["file"] = f"{ONNX_DIR}/{INT8_FILE}"
        record["quantized"] = "int8"
    cfg_file = os.path.join(folder, config_name)
    cfg = read_json(cfg_file, what="model config")
    cfg["onnx"] = record
    write_json(cfg_file, cfg)
    return record


def _transformer_config(model: Any) -> Any:
    """The Hugging Face config of ``model``'s transformer (a bi-encoder's or a reranker's), else None."""
    inner = getattr(getattr(model, "encoder", None), "model", None) or getattr(model, "model", None)
    config = getattr(inner, "config", None)
    return config if getattr(config, "num_attention_heads", None) else None


def optimize_transformer_graph(path: str, config: Any) -> str:
    """Rewrite the ONNX graph at ``path`` with onnxruntime's transformer optimiser (BERT fusions: one
    Attention node a layer, SkipLayerNormalization, BiasGelu, EmbedLayerNormalization) for ``config``'s
    heads and width; returns the fused-operator counts it reports, as a short string.

    Example:
        >>> optimize_transformer_graph("m/onnx/model.onnx", bert.config)   # doctest: +SKIP
        'Attention 12, SkipLayerNormalization 24, BiasGelu 12'
    """
    from onnxruntime.transformers.optimizer import optimize_model

    with _root_logger_quiet():
        optimized = optimize_model(path, model_type="bert", num_heads=int(config.num_attention_heads),
                                   hidden_size=int(config.hidden_size), opt_level=1)
        counts = optimized.get_fused_operator_statistics()
        optimized.save_model_to_file(path)
    fused = {k: v for k, v in counts.items() if v}
    logger.info("transformer optimiser: %s", fused)
    return ", ".join(f"{k} {v}" for k, v in fused.items()) or "nothing fused"


@contextlib.contextmanager
def _root_logger_quiet() -> Iterator[None]:
    """While the block runs, what onnxruntime's quantiser logs through the root logger (``logging.info``,
    and a warning advising pre-processing on every call) is said through this module's logger at DEBUG
    instead (``simsent -v`` shows it)."""

    def through_our_logger(record: logging.LogRecord) -> bool:
        if record.name != "root":
            return True
        logger.debug("onnxruntime quantiser: %s", record.getMessage())
        return False

    root = logging.getLogger()
    root.addFilter(through_our_logger)
    try:
        yield
    finally:
        root.removeFilter(through_our_logger)


def has_onnx(path: str) -> bool:
    """Whether ``path`` is a folder with an exported ONNX graph."""
    return os.path.isfile(os.path.join(path, ONNX_DIR, FP32_FILE))


class OnnxSentenceEncoder:
    """Encode with an exported ONNX graph (CPU, onnxruntime); ``encode`` keywords as the torch model's.

    Args:
        path: a folder written by :func:`export_onnx`.
        file_name: which graph under ``onnx/`` (default: the int8 one when the export was quantised).
        threads: CPU threads (default: ``torch.get_num_threads()``). A call with one or a few batches
            (a query, a service's micro-batch) runs each batch on all of them; a call with at least
            two batches per thread runs that many batches at once, one thread each (a second,
            single-threaded session of the same graph, made on first use): small graphs spend much of
            a multi-threaded pass synchronising threads (results/defaults.md).
    """

    backend = "onnx"

    def __init__(self, path: str, file_name: str | None = None, threads: int | None = None) -> None:
        _onnxruntime()
        if not has_onnx(path):
            raise ModelLoadError(f"{path} has no ONNX export; run `simsent export {path} --output DIR` first")
        cfg = read_json(os.path.join(path, "simsent_config.json"), what="model config")
        record = cfg.get("onnx")
        if not isinstance(record, dict):
            raise ModelLoadError(f"{path}/simsent_config.json does not describe an ONNX export; export again")
        graph = os.path.join(path, ONNX_DIR, file_name) if file_name else os.path.join(path, record["file"])
        if not os.path.isfile(graph):
            raise ModelLoadError(
                f"no ONNX graph {graph}; the folder has: {os.listdir(os.path.join(path, ONNX_DIR))}"
            )
        self.threads = max(1, int(threads or torch.get_num_threads()))
        self._single: Any = None  # the single-threaded session for batches run side by side
        try:
            self.session = _session(graph, self.threads)
        except Exception as exc:  # onnxruntime raises its own error types for a damaged graph
            raise ModelLoadError(
                f"cannot load the ONNX graph {graph}: {str(exc).splitlines()[0][:200]}"
            ) from exc
        self.inputs = list(record["inputs"])
        self.graph = graph
        self.extra_config = {k: v for k, v in cfg.items() if k not in ("onnx",)}
        self.extra_config.setdefault("base_model", path)
        self.precision = "int8" if "qint8" in os.path.basename(graph) else "fp32"
        self.tokenizer = _tokenizer(path, cfg)
        self.dim = (
            int(self.session.get_outputs()[0].shape[-1])
            if isinstance(self.session.get_outputs()[0].shape[-1], int)
            else None
        )

    def _feeds(self, batch: list[str]) -> dict[str, np.ndarray]:
        feats = self.tokenizer(batch)
        return {n: feats[n].numpy().astype(np.int64) for n in self.inputs}

    def fingerprint(self) -> str:
        """sha256 of the graph file (what an index built with this model records)."""
        from simsent._io import sha256_file

        return "onnx-" + sha256_file(self.graph)

    @classmethod
    def load(cls, path: str, **kwargs: Any) -> OnnxSentenceEncoder:
        return cls(path, **kwargs)

    def get_sentence_embedding_dimension(self) -> int:
        if self.dim is None:
            self.dim = int(self.encode(["a"]).shape[-1])
        return self.dim

    def to(self, device: Any) -> OnnxSentenceEncoder:
        """The ONNX backend runs on the CPU; another device is a clear error."""
        if str(device) not in ("cpu", "auto", "None") and torch.device(str(device)).type != "cpu":
            raise ConfigError("the ONNX backend runs on the CPU; use --device cpu (or --backend torch)")
        return self

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
        """Embed sentences; keyword names match ``SentenceTransformer.encode`` (prompts included)."""
        from simsent.modeling.prompts import encode_texts

        if normalize is not None:
            normalize_embeddings = normalize
        cfg = self.extra_config
        texts, single = encode_texts(
            sentences, cfg.get("prompts") or {}, cfg.get("default_prompt_name"), prompt_name, prompt
        )
        batches = length_batches(texts, batch_size)
        feeds = (self._feeds([texts[i] for i in rows]) for rows in batches)  # tokenised in this thread
        if self.threads > 1 and len(batches) >= 2 * self.threads:
            if self._single is None:
                self._single = _session(self.graph, 1)
            with ThreadPoolExecutor(self.threads) as pool:  # onnxruntime releases the GIL while it runs
                parts = list(pool.map(lambda f: self._single.run(None, f)[0].astype(np.float32), feeds))
        else:
            parts = [self.session.run(None, f)[0].astype(np.float32) for f in feeds]
        out = (
            np.concatenate(parts)
            if parts
            else np.zeros((0, self.get_sentence_embedding_dimension()), np.float32)
        )
        out = out[np.argsort(np.concatenate(batches))] if batches else out
        if normalize_embeddings:
            out = unit_rows(out)
        if single:
            out = out[0]
        return torch.from_numpy(out) if convert_to_tensor else out

    def similarity(self, a: str | Sequence[str], b: str | Sequence[str], batch_size: int = 32) -> Any:
        """Cosine similarity: a float for two strings, else the (len(a), len(b)) matrix."""
        return cosine_similarity(self, a, b, batch_size)


def _session(graph: str, threads: int) -> Any:
    """An onnxruntime CPU session of ``graph`` with ``threads`` intra-op threads."""
    options = _onnxruntime().SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return _onnxruntime().InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def _tokenizer(path: str, cfg: dict[str, Any]) -> Any:
    """The tokenising half of the saved encoder, without its weights."""
    enc_dir = os.path.join(path, cfg.get("encoder_path", ""))
    if cfg.get("encoder", "transformer") == "transformer":
        from transformers import AutoTokenizer

        enc_cfg = os.path.join(enc_dir, "simsent_encoder.json")
        saved = read_json(enc_cfg, what="encoder config") if os.path.isfile(enc_cfg) else {}
        tok = AutoTokenizer.from_pretrained(enc_dir)
        max_len = int(saved.get("max_len", DEFAULT_MAX_LEN))
        if saved.get("jieba"):
            raise ConfigError("the ONNX backend does not apply jieba; use --backend torch for this model")

        def tokenize(texts: list[str]) -> dict[str, torch.Tensor]:
            return dict(
                tok(texts, padding=True, truncation="longest_first", max_length=max_len, return_tensors="pt")
            )

        return tokenize
    from simsent.modeling.encoders import encoder_class

    return encoder_class(cfg["encoder"]).load(enc_dir).tokenize
