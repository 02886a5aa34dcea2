"""The trainable table behind static-student tuning: mean pooling over it is the static student exactly,
and a SentenceEncoder built on it saves and loads."""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = ["今天天气不错", "花呗怎么还款", "我想去北京", ""]


@pytest.fixture(scope="module")
def student(tiny_bert):
    from simsent.adapt.static import distill_static
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return distill_static(SentenceEncoder.load(tiny_bert), TEXTS[:3], dim=None)


def test_mean_pooling_over_the_table_is_the_static_students_vector(student):
    from simsent.modeling.encoders.static_table import StaticTableEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder(StaticTableEncoder.from_static(student), pooling="mean", normalize=True)
    np.testing.assert_allclose(model.encode(TEXTS), student.encode(TEXTS), atol=1e-6)
    assert not np.any(model.encode([""]))  # an empty text: the zero vector, as the student gives
    back = model.encoder.to_static(extra_config={"k": 1})
    np.testing.assert_array_equal(back.weights, student.weights)
    assert back.extra_config == {"k": 1}


def test_a_sentence_encoder_on_the_table_saves_and_loads(student, tmp_path):
    from simsent.modeling.encoders.static_table import StaticTableEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder(StaticTableEncoder.from_static(student), pooling="mean")
    model.save(str(tmp_path / "m"))
    np.testing.assert_allclose(SentenceEncoder.load(str(tmp_path / "m")).encode(TEXTS), model.encode(TEXTS),
                               atol=1e-6)


def test_poolings_other_than_mean_are_refused(student):
    from simsent.errors import ConfigError
    from simsent.modeling.encoders.static_table import StaticTableEncoder
    from simsent.modeling.sentence_encoder import SentenceEncoder

    with pytest.raises(ConfigError, match="pooling 'cls'"):
        SentenceEncoder(StaticTableEncoder.from_static(student), pooling="cls")
