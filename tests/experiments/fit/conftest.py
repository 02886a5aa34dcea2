"""The FAQ the fit-on-queries tests search: standard questions and user queries edited from them."""

from __future__ import annotations

import random

import pytest

from simsent.data.retrieval import QueryRow

WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")


def build_faq(n_faq: int = 40, per_faq: int = 3, edits: int = 0) -> tuple[list[QueryRow], list[str]]:
    """A FAQ base of standard questions and, for each, a few user queries that are edits of it (the base
    depends on ``n_faq`` only; ``edits`` seeds the queries)."""
    rng = random.Random(0)
    base = list(dict.fromkeys("".join(rng.choice(WORDS) for _ in range(rng.randint(5, 9)))
                              for _ in range(n_faq)))
    rng = random.Random(1000 + edits)
    rows = []
    for q in base:
        for _ in range(per_faq):
            edit = list(q)
            edit[rng.randrange(len(edit))] = rng.choice(WORDS)
            rows.append(QueryRow("".join(edit) + rng.choice(WORDS), [q]))
    return rows, base


@pytest.fixture()
def make_faq():
    """``make_faq(n_faq, per_faq, edits)``: :func:`build_faq`."""
    return build_faq
