"""Small original Chinese demo data shipped with the package.

``resources/demo/sentences.txt`` holds ~400 service-style questions (one per line) and
``resources/demo/pairs.tsv`` ~200 pairs scored 0-5 (``text_a<TAB>text_b<TAB>score``, no header);
``faq_base.txt`` 80 standard questions of a service FAQ and ``faq_queries.tsv`` 200 user queries with the
standard question each one means (``query<TAB>standard question``).
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


def demo_faq() -> tuple[list[tuple[str, str]], list[str]]:
    """The demo FAQ: (user query, its standard question) rows and the FAQ base they are searched in.

    Example:
        >>> rows, base = demo_faq()
        >>> len(rows), len(base), all(q in base for _, q in rows)
        (200, 80, True)
    """
    with as_file(_demo_file("faq_base.txt")) as path:
        base = read_sentences(path)
    with as_file(_demo_file("faq_queries.tsv")) as path:
        text = path.read_text(encoding="utf-8")
    rows = [tuple(line.split("\t")) for line in text.splitlines() if line.strip()]
    return [(q, s) for q, s in rows], base
