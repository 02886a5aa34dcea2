"""Masked-LM pretraining on a tiny corpus: loss goes down, the folder loads, resume, --init, budget."""

from __future__ import annotations

import json
import logging
import os

import pytest
import torch

from simsent.pretrain import PretrainConfig, pretrain
from simsent.pretrain.mlm import CHECKPOINT_FILE, LinearSchedule

SUBJECTS = ["今天", "明天", "我们", "他们"]
VERBS = ["想去", "不能去", "要去"]
PLACES = ["北京", "上海", "银行", "公司"]
ENDS = ["吃饭", "办理银行卡", "还款", "修改密码"]
TEXTS = [s + v + p + e for s in SUBJECTS for v in VERBS for p in PLACES for e in ENDS][:160]


def read_json(path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def tiny_config(output_dir, **kw) -> PretrainConfig:
    base = dict(
        output_dir=str(output_dir),
        layers=1,
        hidden=32,
        heads=2,
        max_len=16,
        batch_size=16,
        lr=3e-3,
        warmup_ratio=0.1,
        dropout=0.0,
        seed=7,
        show_progress_bar=False,
        checkpoint_steps=0,
    )
    base.update(kw)
    return PretrainConfig(**base)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlm")
    result = pretrain(TEXTS, tiny_config(out, max_steps=40))
    return str(out), result


def test_a_few_steps_lower_the_mlm_loss(trained):
    out, result = trained
    history = read_json(os.path.join(out, "loss_history.json"))["history"]
    losses = [h["loss"] for h in history]
    assert len(losses) == result["steps"] == 40
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < first - 0.5, (first, last)
    assert result["final_loss"] < result["first_loss"]
    assert result["tokens_per_second"] > 0 and result["stop_reason"] == "steps"
    assert os.path.getsize(os.path.join(out, "loss_curve.png")) > 1000
    assert not os.path.exists(os.path.join(out, CHECKPOINT_FILE))  # removed after a completed run


def test_folder_loads_with_auto_classes_and_sentence_encoder(trained):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    from simsent.modeling.sentence_encoder import SentenceEncoder

    out, _ = trained
    model, info = AutoModel.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"], info["missing_keys"]  # every encoder weight (pooler included) is saved
    mlm, info = AutoModelForMaskedLM.from_pretrained(out, output_loading_info=True)
    assert not info["missing_keys"]
    assert torch.equal(model.embeddings.word_embeddings.weight, mlm.bert.embeddings.word_embeddings.weight)
    tok = AutoTokenizer.from_pretrained(out)
    assert tok.mask_token == "[MASK]" and len(tok) == model.config.vocab_size
    enc = SentenceEncoder.from_pretrained(out, pooling="first_last_avg")
    assert enc.encoder.max_len == 16  # read from sentence_bert_config.json
    vecs = enc.encode(["今天想去北京吃饭", "明天要去上海还款" * 5])  # the long one is truncated
    assert vecs.shape == (2, 32)
    saved = read_json(os.path.join(out, "pretrain_config.json"))
    assert saved["config"]["hidden"] == 32 and saved["result"]["steps"] == 40


def test_resume_continues_from_the_checkpoint_step(tmp_path):
    full = pretrain(TEXTS, tiny_config(tmp_path / "full", max_steps=12))

    class Stop(Exception):
        pass

    def stop_at_7(step, loss):
        if step == 7:
            raise Stop

    cut = tiny_config(tmp_path / "cut", max_steps=12, checkpoint_steps=4)
    with pytest.raises(Stop):
        pretrain(TEXTS, cut, callback=stop_at_7)
    state = torch.load(tmp_path / "cut" / CHECKPOINT_FILE, weights_only=True)
    assert state["step"] == 7 and len(state["history"]) == 7

    steps_seen = []
    resumed = pretrain(TEXTS, cut, callback=lambda step, loss: steps_seen.append(step))
    assert steps_seen == [8, 9, 10, 11, 12]
    assert resumed["steps"] == 12
    # same seed, same batches and masks: the resumed run ends where the uninterrupted one does
    assert resumed["final_loss"] == pytest.approx(full["final_loss"], abs=1e-4)
    from safetensors.torch import load_file

    a = load_file(tmp_path / "full" / "model.safetensors")
    b = load_file(tmp_path / "cut" / "model.safetensors")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)


def test_no_resume_starts_over(tmp_path):
    cfg = tiny_config(tmp_path, max_steps=4, keep_checkpoint=True)
    pretrain(TEXTS, cfg)
    assert os.path.isfile(tmp_path / CHECKPOINT_FILE)
    seen = []
    pretrain(TEXTS, tiny_config(tmp_path, max_steps=4, resume=False), callback=lambda s, _: seen.append(s))
    assert seen == [1, 2, 3, 4]


def test_init_from_a_previous_run(trained, tmp_path):
    from transformers import AutoTokenizer

    out, _ = trained
    domain = ["公司银行卡修改密码", "银行还款办理", "修改银行卡密码"] * 10
    result = pretrain(domain, tiny_config(tmp_path, init=out, max_steps=6, batch_size=8, hidden=64, heads=4))
    assert result["steps"] == 6
    # the tokenizer and the architecture come from the initial model, not from the options
    vocab = AutoTokenizer.from_pretrained(str(tmp_path)).get_vocab()
    assert vocab == AutoTokenizer.from_pretrained(out).get_vocab()
    cfg = read_json(tmp_path / "config.json")
    assert cfg["hidden_size"] == 32
    from safetensors.torch import load_file

    before = load_file(os.path.join(out, "model.safetensors"))
    after = load_file(tmp_path / "model.safetensors")
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(before[key], after[key])


def test_init_from_an_encoder_without_mlm_head(tiny_bert, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="simsent.pretrain.mlm"):
        result = pretrain(TEXTS[:40], tiny_config(tmp_path, init=tiny_bert, max_steps=3, batch_size=8))
    assert result["steps"] == 3
    assert "fresh head" in caplog.text


def test_time_budget_stops_the_run(tmp_path):
    result = pretrain(TEXTS, tiny_config(tmp_path, epochs=1000, max_minutes=0.005))
    assert result["stop_reason"] == "time budget"
    assert 1 <= result["steps"] < 1000 * (len(TEXTS) // 16)
    assert os.path.isfile(tmp_path / "model.safetensors")


def test_linear_schedule_and_wordpiece_run(tmp_path):
    s = LinearSchedule(total_steps=10, warmup_ratio=0.2)
    assert [round(s(i), 3) for i in (0, 1, 2, 6, 10, 12)] == [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    result = pretrain(TEXTS[:64], tiny_config(tmp_path, tokenizer="wordpiece", max_steps=2))
    assert result["steps"] == 2 and result["vocab_size"] > 5


def test_bf16_pretraining_runs_and_fp16_needs_cuda(tmp_path, device):
    from simsent.errors import ConfigError
    from simsent.pretrain import pretrain

    texts = [
        "今天天气不错",
        "今天天气很好",
        "我想去北京吃饭",
        "他们在上海",
        "银行卡怎么办理",
        "花呗额度为何不能用",
    ] * 4
    result = pretrain(
        texts, tiny_config(tmp_path / "bf16", precision="bf16", max_steps=3, batch_size=8, device=device)
    )
    assert result["steps"] == 3 and result["final_loss"] == result["final_loss"]  # finite, not NaN
    if device == "cpu":
        with pytest.raises(ConfigError, match="fp16"):
            pretrain(texts, tiny_config(tmp_path / "fp16", precision="fp16", max_steps=1, device="cpu"))
    with pytest.raises(ConfigError, match="precision"):
        tiny_config(tmp_path / "x", precision="fp8")

