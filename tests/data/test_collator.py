import torch

from simsent.data.collator import TextBatchCollator


def test_views_repeat_the_batch_exactly_like_tokenising_twice(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert)
    rows = [{"sentence": "今天天气不错"}, {"sentence": "北京"}]
    batch = TextBatchCollator(model.tokenize, ("sentence",), views=2)(rows)
    direct = model.tokenize(["今天天气不错", "北京", "今天天气不错", "北京"])
    for key, value in direct.items():
        assert torch.equal(batch["features"][0][key], value)
    assert batch["labels"] is None


def test_labels_and_several_columns(tiny_bert):
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(tiny_bert)
    rows = [
        {"sentence1": "今天", "sentence2": "北京", "score": 1},
        {"sentence1": "a", "sentence2": "b", "score": 0},
    ]
    batch = TextBatchCollator(
        model.tokenize, ("sentence1", "sentence2"), label_column="score", label_dtype=torch.long
    )(rows)
    assert len(batch["features"]) == 2 and batch["labels"].tolist() == [1, 0]
    assert batch["labels"].dtype == torch.long
