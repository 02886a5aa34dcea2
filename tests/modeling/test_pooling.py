import pytest
import torch

from simsent.errors import ConfigError
from simsent.modeling.pooling import POOLING_MODES, Pooling, masked_mean
from simsent.modeling.sentence_encoder import SentenceEncoder


@pytest.mark.parametrize("mode", [m for m in POOLING_MODES])
def test_padding_does_not_change_a_sentence_vector(tiny_bert, mode):
    model = SentenceEncoder.from_pretrained(tiny_bert, pooling=mode)
    alone = model.encode(["今天天气"], convert_to_numpy=False, batch_size=1)
    batched = model.encode(
        ["今天天气", "我想去北京上海吃饭喝水你他她们的了是在"], batch_size=2, convert_to_numpy=False
    )
    torch.testing.assert_close(alone[0], batched[0], atol=1e-5, rtol=1e-5)


def test_first_last_avg_is_mean_of_first_and_last_layer_means():
    torch.manual_seed(0)
    layers = tuple(torch.randn(2, 4, 3) for _ in range(3))
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    out = Pooling("first_last_avg")(
        {"all_layer_embeddings": layers, "attention_mask": mask, "token_embeddings": layers[-1]}
    )["sentence_embedding"]
    expected0 = (layers[1][0, :2].mean(0) + layers[2][0, :2].mean(0)) / 2
    torch.testing.assert_close(out[0], expected0)


def test_masked_mean_ignores_padding():
    tokens = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert masked_mean(tokens, torch.tensor([[1, 1, 0]])).item() == 2.0


def test_masked_max_ignores_padding():
    feats = {
        "token_embeddings": torch.tensor([[[1.0], [-3.0], [100.0]]]),
        "attention_mask": torch.tensor([[1, 1, 0]]),
    }
    assert Pooling("max")(feats)["sentence_embedding"].item() == 1.0


def test_unknown_pooling_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown pooling 'avg'"):
        Pooling("avg")


def test_pooler_without_pooler_output_is_a_clear_error():
    feats = {"token_embeddings": torch.ones(1, 2, 3), "attention_mask": torch.ones(1, 2)}
    with pytest.raises(ConfigError, match="pooler"):
        Pooling("pooler")(feats)
