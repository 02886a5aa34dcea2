import math

import pytest
import torch

from simsent.errors import ConfigError
from simsent.losses.angle import AnglELoss


def direct_angle(u, v):
    """The angle score from complex numbers: first half of each vector real parts, second half imaginary."""
    k = u.shape[-1] // 2
    zu = torch.complex(u[:, :k], u[:, k:])
    zv = torch.complex(v[:, :k], v[:, k:])
    prod = (zu * zv.conj()).sum(-1)
    return [abs(float(p.real + p.imag)) / float(u[i].norm() * v[i].norm()) for i, p in enumerate(prod)]


def direct_rank(scores, y):
    total = 1.0
    for i in range(len(scores)):
        for j in range(len(scores)):
            if y[i] > y[j]:
                total += math.exp(scores[j] - scores[i])
    return math.log(total)


def test_angle_scores_match_complex_arithmetic():
    torch.manual_seed(0)
    u, v = torch.randn(6, 10, dtype=torch.float64), torch.randn(6, 10, dtype=torch.float64)
    assert AnglELoss.angle_scores(u, v).tolist() == pytest.approx(direct_angle(u, v), rel=1e-12)
    assert AnglELoss.angle_scores(u, u).tolist() == pytest.approx([1.0] * 6)  # cosine 1, no rotation


@pytest.mark.parametrize("labels", [[1.0, 0.0, 1.0, 0.0, 1.0], [5.0, 0.4, 3.2, 3.2, 1.0]])
def test_loss_is_cosent_plus_the_angle_ranking(labels):
    torch.manual_seed(1)
    u, v = torch.randn(5, 8, dtype=torch.float64), torch.randn(5, 8, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64)
    cos = [float(torch.dot(u[i], v[i]) / (u[i].norm() * v[i].norm())) for i in range(5)]
    want = 0.5 * direct_rank([20 * c for c in cos], labels)
    want += 2.0 * direct_rank([20 * a for a in direct_angle(u, v)], labels)
    got = AnglELoss.compute(u, v, y, 20.0, cosine_weight=0.5, angle_weight=2.0).item()
    assert got == pytest.approx(want, rel=1e-9)


def test_an_odd_embedding_size_is_refused():
    with pytest.raises(ConfigError, match="even embedding size"):
        AnglELoss.angle_scores(torch.randn(2, 5), torch.randn(2, 5))
