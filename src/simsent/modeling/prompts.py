"""Prompts put before the texts at encode time, as ``SentenceTransformer.encode`` does.

A model folder names them in ``config_sentence_transformers.json`` (``prompts`` and
``default_prompt_name``; e5 models use ``query: `` / ``passage: ``). ``encode(prompt_name=...)`` picks
one, ``encode(prompt=...)`` gives one directly, and without either the default prompt (if any) is used.

Example:
    >>> resolve_prompt({"query": "query: "}, "query", None, None)
    'query: '
    >>> with_prompt(["你好"], "query: ")
    ['query: 你好']
"""

from __future__ import annotations

from collections.abc import Sequence

from simsent.errors import ConfigError


def resolve_prompt(
    prompts: dict[str, str], default_name: str | None, prompt_name: str | None, prompt: str | None
) -> str:
    """The prompt text to use: ``prompt``, else the named one, else the default one, else ``""``."""
    if prompt is not None:
        return prompt
    name = prompt_name if prompt_name is not None else default_name
    if name is None:
        return ""
    if name not in prompts:
        known = ", ".join(sorted(prompts)) or "none"
        raise ConfigError(f"unknown prompt name {name!r}; this model's prompts: {known}")
    return prompts[name]


def encode_texts(
    sentences: str | Sequence[str],
    prompts: dict[str, str],
    default_name: str | None,
    prompt_name: str | None = None,
    prompt: str | None = None,
) -> tuple[list[str], bool]:
    """The texts an ``encode`` call embeds (checked, prompt in front) and whether one string was given:
    the input side shared by the torch and the ONNX model.

    Example:
        >>> encode_texts("你好", {"q": "query: "}, "q")
        (['query: 你好'], True)
    """
    from simsent.modeling.inputs import check_texts

    texts, single = check_texts(sentences)
    return with_prompt(texts, resolve_prompt(prompts, default_name, prompt_name, prompt)), single


def with_prompt(texts: Sequence[str], prompt: str) -> list[str]:
    """``texts`` with ``prompt`` in front of each."""
    return [prompt + t for t in texts] if prompt else list(texts)


def default_prompt(model: object) -> str:
    """The prompt ``model.encode`` puts before texts when given none: a SentenceEncoder's, or an ONNX
    model's from its saved config; ``""`` without one.

    Example:
        >>> default_prompt(object())
        ''
    """
    prompts = getattr(model, "prompts", None)
    name = getattr(model, "default_prompt_name", None)
    if prompts is None:
        cfg = getattr(model, "extra_config", None) or {}
        prompts, name = cfg.get("prompts") or {}, cfg.get("default_prompt_name")
    return resolve_prompt(prompts, name, None, None)
