"""A made-up two-task data dir (BQ: valid only; STS-B: train + valid) shared by the experiment tests."""

from __future__ import annotations

import os
import random

import pytest

WORDS = list("今天天气不错很好我想去北京上海吃饭喝水你他她们的了是在有没什么怎么办理银行卡借钱还款花呗额度")


def _sentence(rng: random.Random) -> str:
    return "".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8)))


def _write(path, rows) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{a}\t{b}\t{s}\n" for a, b, s in rows)


def _pairs(rng: random.Random, n: int, scale: int) -> list:
    rows = []
    for i in range(n):
        a = _sentence(rng)
        b = a[:-1] + rng.choice(WORDS) if i % 2 == 0 else _sentence(rng)
        rows.append((a, b, (scale if i % 2 == 0 else 0) if scale == 1 else rng.randint(0, scale)))
    return rows


@pytest.fixture()
def data_dir(tmp_path):
    rng = random.Random(0)
    d = tmp_path / "data"
    _write(str(d / "BQ" / "BQ.valid.data"), _pairs(rng, 24, 1))
    _write(str(d / "STS-B" / "STS-B.train.data"), _pairs(rng, 30, 5))
    _write(str(d / "STS-B" / "STS-B.valid.data"), _pairs(rng, 12, 5))
    return str(d)
