import math

import pytest
import torch

from simsent.errors import ConfigError, DataError
from simsent.losses.sbert_softmax import SoftmaxLoss


def direct(u, v, y, clf):
    total = 0.0
    for i in range(len(u)):
        x = torch.cat([u[i], v[i], (u[i] - v[i]).abs()])
        logits = [float(z) for z in (clf.weight @ x + clf.bias).detach()]
        total += -(logits[y[i]] - math.log(sum(math.exp(z) for z in logits)))
    return total / len(u)


@pytest.mark.parametrize("num_labels", [2, 3])
def test_matches_direct_formula(num_labels):
    torch.manual_seed(0)
    u, v = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    clf = torch.nn.Linear(12, num_labels).double()
    y = [i % num_labels for i in range(5)]
    got = SoftmaxLoss.compute(u, v, torch.tensor(y), clf).item()
    assert got == pytest.approx(direct(u, v, y, clf), rel=1e-9)


@pytest.fixture(scope="module")
def model(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.from_pretrained(tiny_bert)


def test_gradients_reach_encoder_and_classifier(model):
    obj = SoftmaxLoss(model)
    feats = [model.tokenize(["今天天气不错", "我想去北京"]), model.tokenize(["今天天气很好", "花呗额度"])]
    obj(feats, torch.tensor([1, 0])).backward()
    assert obj.classifier.weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())
    model.zero_grad()


def test_label_threshold_and_nli_strings(model):
    rows = [
        {"sentence1": "a", "sentence2": "b", "score": 4.2},
        {"sentence1": "a", "sentence2": "c", "score": 1.0},
    ]
    assert [r["score"] for r in SoftmaxLoss(model, label_threshold=4).prepare_rows(rows)] == [1.0, 0.0]
    nli = [{"premise": "p", "hypothesis": "h", "label": "contradiction"}]
    nli = [{"sentence1": r["premise"], "sentence2": r["hypothesis"], "label": r["label"]} for r in nli]
    assert SoftmaxLoss(model, num_labels=3).prepare_rows(nli)[0]["score"] == 2


def test_graded_scores_without_threshold_are_a_clear_error(model):
    with pytest.raises(DataError, match="label 4.2 is not a class id in 0..1.*label_threshold"):
        SoftmaxLoss(model).prepare_rows([{"sentence1": "a", "sentence2": "b", "score": 4.2}])
    with pytest.raises(DataError, match="expects columns sentence1, sentence2, score"):
        SoftmaxLoss(model).prepare_rows(["a sentence"])
    with pytest.raises(ConfigError):
        SoftmaxLoss(model, num_labels=3, label_threshold=4)


def test_classifier_is_not_saved(model, tmp_path):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    SoftmaxLoss(model)
    model.save(str(tmp_path / "m"))
    again = SentenceEncoder.from_pretrained(str(tmp_path / "m"))
    assert len(again.dense) == 0
    assert not any("classifier" in k for k in again.state_dict())
