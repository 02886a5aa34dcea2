"""Weight interpolation: the end points are the two models, the middle is the mean of their weights, and
models that differ beyond their weights are refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from simsent.adapt.merge import merge_models
from simsent.errors import ConfigError, ModelLoadError
from simsent.modeling.sentence_encoder import SentenceEncoder

TEXTS = ["今天天气不错", "花呗怎么还款", "我想去北京"]


@pytest.fixture(scope="module")
def pair(tiny_bert):
    start = SentenceEncoder.from_pretrained(tiny_bert)
    tuned = SentenceEncoder.from_pretrained(tiny_bert)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in tuned.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # as if fine-tuned
    return start, tuned


@pytest.mark.parametrize("weight,which", [(0.0, 0), (1.0, 1)])
def test_the_end_points_are_the_two_models(pair, weight, which):
    merged = merge_models(*pair, weight)
    np.testing.assert_allclose(merged.encode(TEXTS), pair[which].encode(TEXTS), atol=1e-6)


def test_the_middle_is_the_mean_of_the_weights_and_the_inputs_are_untouched(pair):
    start, tuned = pair
    before = {k: v.clone() for k, v in start.state_dict().items()}
    merged = merge_models(start, tuned, 0.25)
    for name, t in merged.state_dict().items():
        if t.is_floating_point():
            torch.testing.assert_close(t, 0.75 * start.state_dict()[name] + 0.25 * tuned.state_dict()[name])
    for name, t in start.state_dict().items():
        torch.testing.assert_close(t, before[name])
    assert merged.extra_config["merge"] == {"weight": 0.25}


def test_models_that_differ_beyond_their_weights_are_refused(pair, tiny_bert, make_tiny_bert, tmp_path):
    start, _ = pair
    with pytest.raises(ModelLoadError, match="differ in pooling"):
        merge_models(start, SentenceEncoder.from_pretrained(tiny_bert, pooling="cls"), 0.5)
    other = SentenceEncoder.from_pretrained(make_tiny_bert(str(tmp_path / "wide"), hidden=48))
    with pytest.raises(ModelLoadError, match="cannot merge"):
        merge_models(start, other, 0.5)
    with pytest.raises(ConfigError, match="weight"):
        merge_models(start, start, 1.5)


def test_merge_through_the_cli_saves_a_model_sentence_transformers_loads(pair, tiny_bert, tmp_path, cli):
    start, tuned = pair
    tuned.save(str(tmp_path / "tuned"))
    r = cli("merge", tiny_bert, tmp_path / "tuned", "--weight", "0.5", "--output", tmp_path / "m")
    assert r.code == 0 and "merged" in r.out, r.err
    want = merge_models(start, tuned, 0.5).encode(TEXTS)
    np.testing.assert_allclose(SentenceEncoder.load(str(tmp_path / "m")).encode(TEXTS), want, atol=1e-5)
    from sentence_transformers import SentenceTransformer

    theirs = SentenceTransformer(str(tmp_path / "m"), device="cpu").encode(TEXTS)
    np.testing.assert_allclose(theirs, want, atol=1e-5)
    assert cli("merge", tiny_bert, tmp_path / "tuned", "--weight", "2", "--output", tmp_path / "x").code == 2
