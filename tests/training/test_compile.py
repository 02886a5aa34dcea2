"""``--compile``: training through torch.compile gives the eager weights, and the model is eager again
afterwards (same state_dict keys, same saved folder).

The backend here is ``aot_eager`` (dynamo capture plus AOT autograd, no C compiler needed): it checks
our wiring, not inductor's kernels, and runs in seconds on the CI CPU.
"""

from __future__ import annotations

import pytest
import torch

from simsent.errors import ConfigError
from simsent.modeling.sentence_encoder import SentenceEncoder
from simsent.training.arguments import TrainingArguments
from simsent.training.compile import compile_encoder, compiled_module
from simsent.training.trainer import Trainer

SENTS = [f"{a}{b}" for a in "今天我想北京花呗银行" for b in ["天气不错", "去吃饭", "额度", "还款了吗"]]


def _train(tiny_bert, out, compile_mode):
    model = SentenceEncoder.from_pretrained(tiny_bert, dropout=0.0)  # no dropout: identical steps
    args = TrainingArguments(
        output_dir=str(out),
        batch_size=8,
        epochs=2,
        eval_steps=0,
        checkpoint_steps=0,
        show_progress_bar=False,
        torch_compile=compile_mode,
        device="cpu",
    )
    result = Trainer(model, args, SENTS).train()
    return model, result


def test_compiled_training_matches_eager_and_restores_the_eager_forward(tiny_bert, tmp_path, monkeypatch):
    monkeypatch.setattr("simsent.training.compile.COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    eager, _ = _train(tiny_bert, tmp_path / "eager", "off")
    compiled, result = _train(tiny_bert, tmp_path / "compiled", "default")
    assert result["global_step"] == 10
    assert "forward" not in vars(compiled_module(compiled))  # eager again after training
    eager_state, compiled_state = eager.state_dict(), compiled.state_dict()
    assert list(eager_state) == list(compiled_state)  # no _orig_mod. prefixes
    for name, value in eager_state.items():
        torch.testing.assert_close(compiled_state[name], value, atol=1e-5, rtol=1e-4, msg=name)
    saved = torch.as_tensor(SentenceEncoder.load(str(tmp_path / "compiled")).encode(SENTS[:4]))
    torch.testing.assert_close(saved, torch.as_tensor(compiled.encode(SENTS[:4])), atol=1e-5, rtol=0)


def test_compile_modes_are_checked(tiny_bert):
    with pytest.raises(ConfigError, match="torch_compile"):
        TrainingArguments(torch_compile="fast")
    with pytest.raises(ConfigError, match="--compile"):
        compile_encoder(SentenceEncoder.from_pretrained(tiny_bert), "fast")
    restore = compile_encoder(SentenceEncoder.from_pretrained(tiny_bert), "off")
    assert restore() is None
