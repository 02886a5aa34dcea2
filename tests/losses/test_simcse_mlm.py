import pytest
import torch

from simsent.losses.simcse import UnsupervisedSimCSELoss
from simsent.losses.simcse_mlm import MLMHead, SimCSEMLMLoss, mask_tokens


def test_mask_tokens_follows_bert_recipe():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 50, (64, 40))
    special = torch.zeros_like(ids, dtype=torch.bool)
    special[:, 0] = True
    masked, labels = mask_tokens(ids, special, mask_token_id=4, vocab_size=50, probability=0.15, generator=g)
    chosen = labels != -100
    assert not chosen[:, 0].any()
    assert 0.12 < chosen.float().mean() < 0.18
    assert (labels[chosen] == ids[chosen]).all()
    assert (masked[~chosen] == ids[~chosen]).all()
    share_mask = (masked[chosen] == 4).float().mean()
    assert 0.7 < share_mask < 0.9


def test_fresh_head_is_tied_to_embeddings():
    emb = torch.nn.Embedding(30, 8)
    head = MLMHead(8, emb)
    assert head(torch.randn(2, 3, 8)).shape == (2, 3, 30)
    assert head.embeddings.weight is emb.weight


@pytest.fixture(scope="module")
def model(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    return SentenceEncoder.from_pretrained(tiny_bert, dropout=0.1)


def test_loss_is_simcse_plus_weighted_mlm(model):
    obj = SimCSEMLMLoss(model, mlm_weight=0.1)
    hf = model.encoder.model
    assert obj.mlm_head.state_dict  # head exists, tied to the encoder's embeddings
    tied = [p for p in obj.mlm_head.parameters() if p is hf.get_input_embeddings().weight]
    assert tied
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, hf.get_input_embeddings().num_embeddings, (3, 12), generator=g)
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    ids = torch.cat([ids, ids])  # the duplicated batch of unsupervised SimCSE
    feats = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.zeros_like(ids),
    }
    torch.manual_seed(0)
    total = obj([feats], None)
    torch.manual_seed(0)
    simcse = UnsupervisedSimCSELoss.forward(obj, [feats], None)
    torch.manual_seed(0)
    obj.mlm_weight = 0.0
    assert obj([feats], None).item() == pytest.approx(simcse.item())
    obj.mlm_weight = 0.1
    assert total.item() > simcse.item()
    total.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in obj.mlm_head.parameters())
    model.zero_grad()


def test_head_is_not_saved(model, tmp_path):
    from safetensors.torch import load_file

    SimCSEMLMLoss(model)
    model.save(str(tmp_path / "m"))
    import glob

    keys = set()
    for f in glob.glob(str(tmp_path / "m" / "**" / "*.safetensors"), recursive=True):
        keys |= set(load_file(f))
    assert keys and not any(k.startswith(("cls.", "mlm_head")) for k in keys)
