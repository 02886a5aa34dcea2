import os

from simsent.modeling.encoders.transformer import TransformerEncoder


def test_jieba_pretokenisation_keeps_words(tmp_path):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "今天", "天气", "不错", "今", "天", "气"]
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(str(tmp_path / "vocab.txt")).save_pretrained(str(tmp_path))
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    BertModel(cfg).save_pretrained(str(tmp_path))
    words = TransformerEncoder.from_pretrained(str(tmp_path), jieba=True)
    chars = TransformerEncoder.from_pretrained(str(tmp_path))
    ids_words = words.tokenize(["今天天气不错"])["input_ids"][0].tolist()
    ids_chars = chars.tokenize(["今天天气"])["input_ids"][0].tolist()
    tok = words.tokenizer
    # jieba: 今天天气 / 不错; the out-of-vocabulary word falls back to characters, 不错 stays one token
    assert tok.convert_ids_to_tokens(ids_words) == ["[CLS]", "今", "天", "天", "气", "不错", "[SEP]"]
    assert tok.convert_ids_to_tokens(ids_chars) == ["[CLS]", "今", "天", "天", "气", "[SEP]"]
    words.save(str(tmp_path / "saved"))
    assert TransformerEncoder.load(str(tmp_path / "saved")).jieba
    assert os.path.isfile(tmp_path / "saved" / "simsent_encoder.json")


def test_max_len_truncates(tiny_bert):
    enc = TransformerEncoder.from_pretrained(tiny_bert, max_len=5)
    assert enc.tokenize(["今天天气不错我想去北京"])["input_ids"].shape[1] == 5
