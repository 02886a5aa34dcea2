import torch

from simsent.modeling.dense import add_trainable_head
from simsent.modeling.sentence_encoder import SentenceEncoder


def test_frozen_encoder_identity_head_saved(tiny_bert, tmp_path):
    model = SentenceEncoder.from_pretrained(tiny_bert)
    model.eval()
    texts = ["今天天气不错", "我想去北京"]
    before = model.encode(texts)
    head = add_trainable_head(model)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["dense.0.linear.weight", "dense.0.linear.bias"]
    assert torch.allclose(torch.as_tensor(model.encode(texts)), torch.as_tensor(before), atol=1e-6)
    with torch.no_grad():
        head.linear.weight.mul_(2.0)
    model.save(str(tmp_path / "m"))
    again = SentenceEncoder.from_pretrained(str(tmp_path / "m"))
    assert len(again.dense) == 1
    assert torch.allclose(torch.as_tensor(again.encode(texts)), torch.as_tensor(before) * 2, atol=1e-5)


def test_head_with_other_dim(tiny_bert):
    model = SentenceEncoder.from_pretrained(tiny_bert)
    add_trainable_head(model, dim=8)
    assert model.get_sentence_embedding_dimension() == 8
