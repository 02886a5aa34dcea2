"""distill(): a teacher's vectors into a light student, in the precision asked for."""


def test_distill_takes_a_precision(tiny_bert, tmp_path):
    from simsent.adapt.distill import distill

    texts = ["今天天气不错", "今天天气很好", "我想去北京吃饭", "他们在上海", "银行卡怎么办理", "花呗额度"]
    result = distill(
        tiny_bert,
        "textcnn",
        texts,
        str(tmp_path / "s"),
        epochs=1,
        batch_size=3,
        precision="bf16",
        device="cpu",
        cache_dir=str(tmp_path / "cache"),
        show_progress_bar=False,
    )
    assert result["global_step"] == 2
