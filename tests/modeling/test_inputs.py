"""Batches of similar length: every text once, no batch over the size, less padding than one batch."""

from __future__ import annotations

import random

import numpy as np

from simsent.modeling.inputs import length_batches


def _padded(texts, batches, pass_cost):
    return sum(pass_cost + len(b) * max(len(texts[i]) for i in b) for b in batches)


def test_every_text_once_longest_first_and_within_the_size():
    rng = random.Random(0)
    texts = ["字" * rng.randint(1, 60) for _ in range(50)]
    batches = length_batches(texts, batch_size=16)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(50))
    assert all(1 <= len(b) <= 16 for b in batches)
    lengths = [len(texts[i]) for i in flat]
    assert lengths == sorted(lengths, reverse=True)


def test_mixed_lengths_are_cut_where_padding_costs_more_than_a_pass():
    rng = random.Random(1)
    texts = ["字" * rng.choice([3, 5, 8, 12, 20, 45, 60]) for _ in range(24)]
    batches = length_batches(texts, batch_size=32, pass_cost=32)
    one = [np.arange(24)]
    assert len(batches) > 1
    assert _padded(texts, batches, 32) < _padded(texts, one, 32)


def test_equal_lengths_and_long_inputs_give_full_batches():
    assert [len(b) for b in length_batches(["同样长度"] * 40, batch_size=16)] == [16, 16, 8]
    rng = random.Random(2)
    many = ["字" * rng.randint(1, 60) for _ in range(1000)]
    assert [len(b) for b in length_batches(many, batch_size=32)][:-1] == [32] * 31
    assert length_batches([], batch_size=8) == []
