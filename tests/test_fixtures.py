"""Sanity checks of the shared test fixtures."""


def test_tiny_bert_tokenizer_knows_its_vocabulary(tiny_bert):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_bert)
    assert "[UNK]" not in tok.convert_ids_to_tokens(tok("今天天气")["input_ids"])
