import math

import pytest
import torch

from simsent.errors import DataError
from simsent.losses.cosent import CoSENTLoss


def direct(u, v, y, scale):
    s = [float(torch.dot(u[i], v[i]) / (u[i].norm() * v[i].norm())) for i in range(len(u))]
    total = 1.0
    for i in range(len(s)):
        for j in range(len(s)):
            if y[i] > y[j]:
                total += math.exp(scale * (s[j] - s[i]))
    return math.log(total)


@pytest.mark.parametrize("labels", [[1.0, 0.0, 1.0, 0.0, 1.0], [5.0, 0.4, 3.2, 3.2, 1.0]])
def test_matches_direct_formula(labels):
    torch.manual_seed(0)
    u, v = torch.randn(5, 7, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    assert CoSENTLoss.compute(u, v, y, 20.0).item() == pytest.approx(direct(u, v, labels, 20.0), rel=1e-9)


def test_no_ordered_pair_gives_zero_loss():
    u, v = torch.randn(3, 4), torch.randn(3, 4)
    assert CoSENTLoss.compute(u, v, torch.ones(3)).item() == pytest.approx(0.0)


def test_gradients_flow():
    torch.manual_seed(0)
    u, v = torch.randn(4, 6, requires_grad=True), torch.randn(4, 6, requires_grad=True)
    CoSENTLoss.compute(u, v, torch.tensor([1.0, 0.0, 2.0, 0.5])).backward()
    assert u.grad.abs().sum() > 0 and v.grad.abs().sum() > 0


def test_unlabelled_text_is_a_clear_error(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    obj = CoSENTLoss(SentenceEncoder.from_pretrained(tiny_bert))
    with pytest.raises(DataError, match="cosent training data: missing column.*sentence1, sentence2, score"):
        obj.prepare_rows(["今天天气不错", "今天天气很好"])
    with pytest.raises(DataError, match="missing column.*score"):
        obj.prepare_rows([{"sentence1": "a", "sentence2": "b"}])


def test_unknown_objective_arg_is_a_config_error(tiny_bert):
    from simsent.errors import ConfigError
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments

    args = TrainingArguments(objective="cosent", objective_kwargs={"scal": 10})
    with pytest.raises(ConfigError, match="no option scal; --objective-arg accepts: scale"):
        CoSENTLoss.from_args(SentenceEncoder.from_pretrained(tiny_bert), args)
