"""Small original Chinese demo data shipped with the package.

``resources/demo/sentences.txt`` holds ~400 service-style questions (one per line) and
``resources/demo/pairs.tsv`` ~200 pairs scored 0-5 (``text_a<TAB>text_b<TAB>score``, no header).
They were written for this repository and are meant for examples and smoke tests.

Example:
    >>> from simsent.data.demo import demo_pairs, demo_sentences
    >>> len(demo_sentences()) > 300
    True
    >>> sorted(demo_pairs()[0])
    ['score', 'sentence1', 'sentence2']
"""

from __future__ import annotations

from importlib.resources import as_file, files
from typing import TYPE_CHECKING, Any

from simsent.data.readers import read_sentences, read_senteval

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+
    from importlib.resources.abc import Traversable


def _demo_file(name: str) -> Traversable:
    return files("simsent") / "resources" / "demo" / name


def demo_sentences() -> list[str]:
    """Return the demo sentences, in file order.

    Example:
        >>> demo_sentences()[0]
        '我的银行卡丢了怎么办'
    """
    with as_file(_demo_file("sentences.txt")) as path:
        return read_sentences(path)


def demo_pairs() -> list[dict[str, Any]]:
    """Return the demo pairs as rows ``{"sentence1", "sentence2", "score"}`` (score a float in 0..5).

    Example:
        >>> rows = demo_pairs()
        >>> all(0.0 <= r["score"] <= 5.0 for r in rows)
        True
    """
    with as_file(_demo_file("pairs.tsv")) as path:
        return read_senteval(path)
