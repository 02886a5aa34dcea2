"""Masked-language-model pretraining of a small BERT from raw text (or continued from a model).

Reads top to bottom: tokenizer (built, loaded from ``init`` or from the checkpoint) -> model
(``BertForMaskedLM`` from a ``BertConfig``, or ``AutoModelForMaskedLM`` from ``init``) -> token
ids -> AdamW + linear warm-up/decay -> maybe resume -> loop (mask with the transformers data
collator, step, log, checkpoint, budget) -> save a standard Hugging Face folder.

The saved folder loads with ``AutoModel`` / ``AutoTokenizer`` / ``AutoModelForMaskedLM`` and with
:meth:`simsent.SentenceEncoder.from_pretrained`, so ``simsent train --model DIR`` accepts it.
The dense+tanh pooler of a BERT built here is added, untrained, at save time so that ``AutoModel``
finds every encoder weight; masked-LM training never touches it (prefer cls / mean /
first_last_avg pooling over ``pooler``).

Example:
    >>> cfg = PretrainConfig(output_dir="runs/mlm", layers=2, hidden=64, heads=2, max_steps=100)
    >>> result = pretrain(["今天天气不错", "今天天气很好"], cfg)     # doctest: +SKIP
    >>> result["steps"], result["final_loss"] < result["first_loss"]  # doctest: +SKIP
    (100, True)
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from simsent.errors import ConfigError, ModelLoadError
from simsent.pretrain.config import PretrainConfig
from simsent.pretrain.tokenizer_builder import build_tokenizer, save_tokenizer
from simsent.training.checkpoint import load_checkpoint, save_checkpoint
from simsent.training.curves import save_history
from simsent.training.loop import apply_update, make_accelerator, stopping_cleanly
from simsent.training.schedule import LinearSchedule, linear_scheduler, make_optimizer
from simsent.training.seed import rng_state, set_rng_state, set_seed

if TYPE_CHECKING:
    from transformers import PreTrainedModel

logger = logging.getLogger(__name__)

PRETRAIN_CONFIG_FILE = "pretrain_config.json"
#: the resumable checkpoint (weights-only, see simsent.training.checkpoint)
CHECKPOINT_FILE = "pretrain_checkpoint.pt"
#: steps measured before the learning-rate decay is re-planned for a time budget
CALIBRATION_STEPS = 20


# ---------------------------------------------------------------------- building blocks
def bert_config(cfg: PretrainConfig, vocab_size: int, pad_token_id: int = 0) -> Any:
    """The ``BertConfig`` of a model built from scratch."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_len,
        hidden_dropout_prob=cfg.dropout,
        attention_probs_dropout_prob=cfg.dropout,
        type_vocab_size=2,
        pad_token_id=pad_token_id,
    )


def load_init(name: str) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of a masked-LM to continue pretraining.

    A model without an MLM head (e.g. a plain ``BertModel``) gets a fresh, logged one.
    """
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
        model, info = AutoModelForMaskedLM.from_pretrained(name, output_loading_info=True)
    except (OSError, ValueError) as exc:
        hint = (
            "pass a local folder with config.json, weights and tokenizer"
            if not os.path.isdir(name)
            else "the folder does not hold a masked-LM-capable Hugging Face model"
        )
        raise ModelLoadError(
            f"cannot load --init {name!r}: {hint} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})"
        ) from exc
    prefix = getattr(model, "base_model_prefix", "")
    fresh = sorted(k for k in info.get("missing_keys", ()) if not k.startswith(prefix + "."))
    encoder_missing = sorted(k for k in info.get("missing_keys", ()) if k.startswith(prefix + "."))
    if fresh:
        logger.warning(
            "%s has no masked-LM head: a fresh head was initialised (%d tensors, e.g. %s)",
            name,
            len(fresh),
            fresh[0],
        )
    if encoder_missing:
        logger.warning(
            "%s: %d encoder weight(s) were not in the checkpoint and were initialised (e.g. %s)",
            name,
            len(encoder_missing),
            encoder_missing[0],
        )
    if tokenizer.mask_token is None or tokenizer.pad_token is None:
        raise ConfigError(
            f"the tokenizer of {name!r} has no [MASK] or [PAD] token; masked-LM training needs both"
        )
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer


def attach_pooler(model: PreTrainedModel, seed: int) -> bool:
    """Give a ``BertForMaskedLM`` the (untrained) dense+tanh pooler ``AutoModel`` expects; True if added."""
    base = getattr(model, "bert", None)
    if base is None or getattr(base, "pooler", "absent") is not None:
        return False
    from transformers.models.bert.modeling_bert import BertPooler

    generator_state = torch.get_rng_state()
    torch.manual_seed(seed)
    pooler = BertPooler(model.config)
    pooler.dense.weight.data.normal_(0.0, model.config.initializer_range)
    pooler.dense.bias.data.zero_()
    torch.set_rng_state(generator_state)
    base.pooler = pooler.to(next(model.parameters()).device)
    return True


def encode_corpus(texts: Sequence[str], tokenizer: Any, max_len: int) -> list[dict[str, list[int]]]:
    """Token ids (with [CLS]/[SEP], truncated to ``max_len``) and special-token masks of every text."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_len, return_special_tokens_mask=True)
    return [
        {"input_ids": ids, "special_tokens_mask": sm}
        for ids, sm in zip(enc["input_ids"], enc["special_tokens_mask"], strict=True)
        if len(ids) > 2
    ]


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay on biases and LayerNorm weights."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or "LayerNorm" in name or name.endswith(".bias") else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _model_and_tokenizer(texts, cfg: PretrainConfig, state: dict[str, Any] | None) -> tuple[Any, Any]:
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM

    if state is not None:
        tokenizer = AutoTokenizer.from_pretrained(cfg.output_dir)
        mcfg = AutoConfig.for_model(**state["model_config"])
        model = AutoModelForMaskedLM.from_config(mcfg)
        model.load_state_dict(state["model"])
        return model, tokenizer
    if cfg.init:
        logger.info(
            "continued pretraining from %s (its tokenizer and architecture; --tokenizer, --layers, "
            "--hidden, --heads and --dropout are ignored)",
            cfg.init,
        )
        return load_init(cfg.init)
    tokenizer = build_tokenizer(
        texts, kind=cfg.tokenizer, min_freq=cfg.min_freq, max_vocab=cfg.max_vocab, max_len=cfg.max_len
    )
    model = BertForMaskedLM(bert_config(cfg, len(tokenizer), tokenizer.pad_token_id))
    return model, tokenizer


def epoch_batches(lengths: Sequence[int], batch_size: int, seed: int, bucket: int = 50) -> list[list[int]]:
    """Seeded batches of one epoch; texts of similar length share a batch (less padding).

    The texts are shuffled, cut into chunks of ``bucket`` batches, sorted by length inside each
    chunk and split into batches; the batch order is shuffled again. The last incomplete batch
    is dropped.

    Example:
        >>> b = epoch_batches([3, 9, 4, 8, 5, 7], batch_size=2, seed=0)
        >>> sorted(i for batch in b for i in batch), len(b)
        ([0, 1, 2, 3, 4, 5], 3)
    """
    g = torch.Generator().manual_seed(seed)
    n_batches = len(lengths) // batch_size
    order = torch.randperm(len(lengths), generator=g).tolist()[: n_batches * batch_size]
    batches = []
    chunk = batch_size * bucket
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    return [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]


def mlm_loss(model: PreTrainedModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Masked-LM cross-entropy; a BERT computes vocabulary logits for the masked positions only.

    Equal to ``model(**batch).loss`` (mean over masked tokens), without the ``(B, L, V)`` logits of
    the unmasked positions, which cost about a fifth of a small model's step.
    """
    labels = batch["labels"]
    base, head = getattr(model, "bert", None), getattr(model, "cls", None)
    if base is None or head is None:
        return model(**batch).loss
    inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    hidden = base(**inputs, return_dict=True).last_hidden_state
    selected = labels != -100
    logits = head(hidden[selected])
    return torch.nn.functional.cross_entropy(logits.float(), labels[selected])


# ---------------------------------------------------------------------- training
def check_resumable(saved: dict[str, Any], cfg: PretrainConfig, path: str) -> None:
    """A one-line ConfigError when the checkpoint at ``path`` was written with other settings."""
    from simsent.training.checkpoint import check_same_run

    check_same_run(saved, cfg.run_settings(), path)


def pretrain(
    texts: Sequence[str],
    cfg: PretrainConfig,
    corpus_stats: dict[str, Any] | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Pretrain (or continue pretraining) a masked-LM on ``texts`` and save it to ``cfg.output_dir``.

    Args:
        texts: the corpus, one text per item (deduplicate it first, see
            :func:`simsent.pretrain.corpus.read_corpus`).
        cfg: the run's configuration.
        corpus_stats: recorded in ``pretrain_config.json``.
        callback: called as ``callback(step, loss)`` after every optimiser step.

    Returns:
        A summary: steps, seconds, tokens, tokens_per_second, first/final loss (mean of the first
        and last 10% of steps), stop_reason, vocab_size, parameters, output_dir.
    """
    run = _MLMRun(texts, cfg, callback)
    seconds, stop_reason = run.train()
    if cfg.keep_checkpoint:
        run.checkpoint(seconds)
    summary = run.summary(seconds, stop_reason)
    save_pretrained_mlm(run.model, run.tokenizer, cfg, summary, corpus_stats)
    save_history(run.history, cfg.output_dir, summary)
    if not cfg.keep_checkpoint and os.path.isfile(run.ckpt_path):
        os.remove(run.ckpt_path)
    logger.info(
        "pretraining done: %d steps in %.1f min, loss %s -> %s, %s tokens/s; saved to %s",
        run.step,
        summary["seconds"] / 60,
        summary["first_loss"],
        summary["final_loss"],
        summary["tokens_per_second"],
        cfg.output_dir,
    )
    return summary


class _MLMRun:
    """One pretraining session: the model, data, optimiser and counters, resumed from a checkpoint when
    there is one; :meth:`train` runs the steps left."""

    def __init__(
        self, texts: Sequence[str], cfg: PretrainConfig, callback: Callable[[int, float], None] | None
    ):
        os.makedirs(cfg.output_dir, exist_ok=True)
        self.cfg, self.callback = cfg, callback
        self.ckpt_path = os.path.join(cfg.output_dir, CHECKPOINT_FILE)
        state = load_checkpoint(self.ckpt_path) if cfg.resume else None
        if state is not None:
            check_resumable(state.get("config", {}), cfg, self.ckpt_path)
        set_seed(cfg.seed)
        self.model, self.tokenizer = _model_and_tokenizer(texts, cfg, state)
        if state is None:
            save_tokenizer(self.tokenizer, cfg.output_dir)
        self.accelerator = make_accelerator(cfg.device, cfg.precision)  # the loop training runs on too
        self.device = self.accelerator.device
        self.model.to(self.device)
        self._data(texts)
        self._optimiser(state)

    def _data(self, texts: Sequence[str]) -> None:
        """Tokenised examples, batch size, the step plan and the masking collator."""
        from transformers import DataCollatorForLanguageModeling

        cfg = self.cfg
        max_len = min(cfg.max_len, int(getattr(self.model.config, "max_position_embeddings", cfg.max_len)))
        self.examples = encode_corpus(texts, self.tokenizer, max_len)
        if not self.examples:
            raise ConfigError("no text of the corpus gives a token besides [CLS]/[SEP]; check the corpus")
        n = len(self.examples)
        self.bs = min(cfg.batch_size, n)
        self.steps_per_epoch = n // self.bs
        self.total_steps = cfg.max_steps if cfg.max_steps is not None else cfg.epochs * self.steps_per_epoch
        self.collator = DataCollatorForLanguageModeling(
            self.tokenizer, mlm=True, mlm_probability=cfg.mlm_probability
        )
        self.n_params = sum(p.numel() for p in self.model.parameters())
        logger.info(
            "masked-LM: %d parameters, vocabulary %d, %d texts, %d steps/epoch, %d steps planned",
            self.n_params,
            len(self.tokenizer),
            n,
            self.steps_per_epoch,
            self.total_steps,
        )

    def _optimiser(self, state: dict[str, Any] | None) -> None:
        """Optimiser, schedule (through ``accelerate``, with its fp16 scaler) and counters, from the
        checkpoint when resuming."""
        cfg = self.cfg
        optimizer = make_optimizer(param_groups(self.model, cfg.weight_decay), lr=cfg.lr)
        self.schedule = LinearSchedule(self.total_steps, cfg.warmup_ratio)
        scheduler = linear_scheduler(optimizer, self.schedule)
        self.optimizer, self.scheduler = self.accelerator.prepare(optimizer, scheduler)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.step, self.elapsed_before, self.tokens_total, self.history = 0, 0.0, 0, []
        if state is not None:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.step, self.elapsed_before = state["step"], state["elapsed"]
            self.tokens_total, self.history = state["tokens"], state["history"]
            set_rng_state(state["rng"])
            if state.get("scaler") and self.accelerator.scaler is not None:
                self.accelerator.scaler.load_state_dict(state["scaler"])
            logger.info(
                "resumed from %s at step %d (%.1f min trained)",
                self.ckpt_path,
                self.step,
                self.elapsed_before / 60,
            )
        if cfg.max_minutes is None:
            # a changed --max-steps/--epochs on resume extends (or shortens) the plan
            self.schedule.total_steps = max(1, self.total_steps)
        for (
            group
        ) in self.optimizer.param_groups:  # keep lr consistent with the (possibly re-planned) schedule
            group["lr"] = group["initial_lr"] * self.schedule(self.step)

    def checkpoint(self, seconds: float, rng: dict[str, Any] | None = None) -> None:
        """Everything an exact resume needs, at the current step (``rng``: the state before a step that
        failed half-way)."""
        save_checkpoint(
            self.ckpt_path,
            {
                "step": self.step,
                "elapsed": self.elapsed_before + seconds,
                "tokens": self.tokens_total,
                "history": self.history,
                "model": self.model.state_dict(),
                "model_config": self.model.config.to_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "rng": rng if rng is not None else rng_state(),
                "scaler": self.accelerator.scaler.state_dict() if self.accelerator.scaler else {},
                "config": self.cfg.to_dict(),
            },
        )

    def train(self) -> tuple[float, str]:
        """The steps left (or until the time budget); a checkpoint on Ctrl-C or a crash. Returns the
        session's seconds and why it stopped."""
        from tqdm.auto import tqdm

        self.model.train()
        self.bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            desc="Pretraining",
            disable=not self.cfg.show_progress_bar,
        )
        self.start = time.perf_counter()
        self.session_start_step, self.session_tokens, self.window = self.step, 0, []
        self.lengths = [len(e["input_ids"]) for e in self.examples]
        self.batches, self.batches_epoch = [], -1
        self.step_rng, self.mid_step, stop_reason = None, False, "steps"
        with stopping_cleanly(self.bar, self._checkpoint_after_stop) as interrupt:
            while self.step < self.total_steps:
                # a step that fails half-way is redone from here
                self.step_rng, self.mid_step = rng_state(), True
                if not self._one_step():
                    continue
                if self._over_budget():
                    stop_reason = "time budget"
                    break
                if self._checkpoint_due():
                    self.checkpoint(time.perf_counter() - self.start)
                if interrupt.requested:  # Ctrl-C, taken at this step boundary
                    raise KeyboardInterrupt
        self.bar.close()
        return time.perf_counter() - self.start, stop_reason

    def _checkpoint_after_stop(self, exc: BaseException) -> None:
        """Ctrl-C or a crash: a checkpoint to resume from (a step cut half-way is redone on resume)."""
        logger.warning("pretraining interrupted at step %d; writing a checkpoint to resume from", self.step)
        self.checkpoint(time.perf_counter() - self.start, rng=self.step_rng if self.mid_step else None)

    def _checkpoint_due(self) -> bool:
        """Every ``checkpoint_steps`` steps, or (0) at the end of each epoch, as in training; not after
        the last step."""
        every = self.cfg.checkpoint_steps or self.steps_per_epoch
        return self.step % every == 0 and self.step < self.total_steps

    def _one_step(self) -> bool:
        """One optimiser step on the next batch (``False`` when the batch had nothing masked)."""
        cfg = self.cfg
        epoch, pos = divmod(self.step, self.steps_per_epoch)
        if epoch != self.batches_epoch:
            self.batches, self.batches_epoch = epoch_batches(self.lengths, self.bs, cfg.seed + epoch), epoch
        batch = self.collator([self.examples[i] for i in self.batches[pos]])
        if not bool((batch["labels"] != -100).any()):
            return False  # nothing masked in this (tiny) batch: draw the masks again
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with self.accelerator.autocast():
            loss = mlm_loss(self.model, batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"masked-LM loss is {loss.item()} at step {self.step}; lower --lr")
        self.accelerator.backward(loss)
        apply_update(self.accelerator, self.params, self.optimizer, self.scheduler, cfg.max_grad_norm)
        self.step += 1
        self.mid_step = False
        self._record(loss.item(), int(batch["attention_mask"].sum()))
        return True

    def _record(self, loss: float, n_tok: int) -> None:
        """History, progress bar and callback after a step."""
        self.tokens_total += n_tok
        self.session_tokens += n_tok
        seconds = time.perf_counter() - self.start
        self.history.append(
            {
                "step": self.step,
                "loss": round(loss, 5),
                "lr": self.scheduler.get_last_lr()[0],
                "tokens": self.tokens_total,
                "seconds": round(self.elapsed_before + seconds, 2),
            }
        )
        self.window.append(loss)
        self.bar.update(1)
        if self.step % max(1, self.cfg.logging_steps) == 0:
            rate = self.session_tokens / max(seconds, 1e-9)
            self.bar.set_postfix(loss=f"{np.mean(self.window):.3f}", tok_s=f"{rate:.0f}")
            self.window = []
        if self.callback is not None:
            self.callback(self.step, loss)

    def _over_budget(self) -> bool:
        """With ``max_minutes``: whether the budget is spent; else re-plan the schedule's length from the
        measured speed (after the first calibration steps, then every logging step)."""
        cfg = self.cfg
        if cfg.max_minutes is None:
            return False
        seconds = time.perf_counter() - self.start
        budget_left = cfg.max_minutes * 60 - (self.elapsed_before + seconds)
        if budget_left <= 0:
            return True
        done = self.step - self.session_start_step
        replan = done > CALIBRATION_STEPS and self.step % max(1, cfg.logging_steps) == 0
        if done == CALIBRATION_STEPS or replan:
            planned = min(self.total_steps, self.step + int(budget_left * done / seconds))
            if planned != self.schedule.total_steps:
                self.schedule.total_steps = max(planned, self.step + 1)
                self.bar.total = self.schedule.total_steps
        return False

    def summary(self, seconds: float, stop_reason: str) -> dict[str, Any]:
        losses = [h["loss"] for h in self.history]
        k = max(1, len(losses) // 10)
        return {
            "steps": self.step,
            "seconds": round(self.elapsed_before + seconds, 2),
            "session_seconds": round(seconds, 2),
            "tokens": self.tokens_total,
            "tokens_per_second": round(self.session_tokens / max(seconds, 1e-9), 1),
            "first_loss": round(float(np.mean(losses[:k])), 4) if losses else None,
            "final_loss": round(float(np.mean(losses[-k:])), 4) if losses else None,
            "stop_reason": stop_reason,
            "vocab_size": len(self.tokenizer),
            "parameters": self.n_params,
            "texts": len(self.examples),
            "epochs_done": round(self.step / self.steps_per_epoch, 3),
            "device": str(self.device),
            "output_dir": self.cfg.output_dir,
        }


def save_pretrained_mlm(
    model: PreTrainedModel,
    tokenizer: Any,
    cfg: PretrainConfig,
    summary: dict[str, Any],
    corpus_stats: dict[str, Any] | None,
) -> None:
    """Save a standard Hugging Face folder: masked-LM weights (+ pooler), tokenizer, configs."""
    out = cfg.output_dir
    if attach_pooler(model, cfg.seed):
        logger.info(
            "added an untrained dense+tanh pooler so that AutoModel loads every encoder weight "
            "(masked-LM training does not train it: prefer cls/mean/first_last_avg pooling)"
        )
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.model_max_length = int(getattr(model.config, "max_position_embeddings", cfg.max_len))
    save_tokenizer(tokenizer, out)
    max_len = min(cfg.max_len, tokenizer.model_max_length)
    with open(os.path.join(out, "sentence_bert_config.json"), "w", encoding="utf-8") as f:
        json.dump({"max_seq_length": max_len, "do_lower_case": False}, f, indent=2)
    from simsent import __version__

    with open(os.path.join(out, PRETRAIN_CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(
            {
                "simsent_version": __version__,
                "config": cfg.to_dict(),
                "result": summary,
                "corpus": corpus_stats or {},
            },
            f,
            indent=2,
            ensure_ascii=False,
        )


def folder_size(path: str, exclude: Sequence[str] = (CHECKPOINT_FILE,)) -> int:
    """Bytes of the files directly in ``path`` (the checkpoint excluded)."""
    return sum(
        os.path.getsize(os.path.join(path, f))
        for f in os.listdir(path)
        if os.path.isfile(os.path.join(path, f)) and f not in exclude
    )
