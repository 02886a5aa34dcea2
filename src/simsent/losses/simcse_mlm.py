"""Unsupervised SimCSE with the masked-language-model auxiliary loss (the paper's ``do_mlm``).

``loss = simcse(z1, z2) + mlm_weight * mlm`` (Gao et al. appendix: weight 0.1). The SimCSE part is
:meth:`UnsupervisedSimCSELoss.compute` on the two dropout views of the unmasked batch. The MLM
part masks a copy of the duplicated batch as ``DataCollatorForLanguageModeling`` does (15% of
the non-special tokens are chosen; of those 80% become ``[MASK]``, 10% a random token, 10% stay)
and predicts the chosen tokens from a second encoder pass.

The MLM head is taken from ``AutoModelForMaskedLM.from_pretrained(base_model)`` when that loads
(a BERT-like checkpoint keeps its pretrained ``cls`` head; a checkpoint without MLM weights gets
the library's freshly initialised head), else a fresh ``dense -> GELU -> LayerNorm -> vocab``
head (:class:`MLMHead`). Either way the output projection is tied to the encoder's input
embeddings. The head lives in the objective and is **not saved** with the model.

Inputs: one text column ``sentence``; no labels. Needs a Hugging Face transformer encoder.

Example:
    >>> import torch
    >>> ids = torch.tensor([[2, 10, 11, 12, 3, 0]])
    >>> special = torch.tensor([[1, 0, 0, 0, 1, 1]]).bool()  # [CLS], [SEP], padding
    >>> masked, labels = mask_tokens(ids, special, mask_token_id=4, vocab_size=20, probability=1.0)
    >>> labels.tolist()
    [[-100, 10, 11, 12, -100, -100]]
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

from simsent.errors import ConfigError
from simsent.losses.simcse import UnsupervisedSimCSELoss

logger = logging.getLogger(__name__)


def mask_tokens(
    input_ids: torch.Tensor,
    special: torch.Tensor,
    mask_token_id: int,
    vocab_size: int,
    probability: float = 0.15,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking: returns (masked ids, labels with -100 where no prediction is made).

    ``special`` is True for tokens never masked (special tokens, padding).
    """
    labels = input_ids.clone()
    chosen = (
        torch.bernoulli(torch.full(input_ids.shape, probability), generator=generator)
        .bool()
        .to(input_ids.device)
    )
    chosen &= ~special
    labels[~chosen] = -100
    masked = input_ids.clone()
    to_mask = (
        torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool().to(input_ids.device)
        & chosen
    )
    masked[to_mask] = mask_token_id
    to_random = (
        torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool().to(input_ids.device)
        & chosen
        & ~to_mask
    )
    masked[to_random] = torch.randint(vocab_size, input_ids.shape, generator=generator).to(input_ids.device)[
        to_random
    ]
    return masked, labels


class MLMHead(nn.Module):
    """BERT's prediction head ``dense -> GELU -> LayerNorm -> embeddings.T + bias``, tied to embeddings."""

    def __init__(self, hidden_size: int, embeddings: nn.Embedding, layer_norm_eps: float = 1e-12) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, embeddings.embedding_dim)
        self.norm = nn.LayerNorm(embeddings.embedding_dim, eps=layer_norm_eps)
        self.embeddings = embeddings
        self.bias = nn.Parameter(torch.zeros(embeddings.num_embeddings))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.norm(F.gelu(self.dense(hidden))) @ self.embeddings.weight.T + self.bias


def load_mlm_head(base_model: str | None, hf_model: nn.Module) -> tuple[nn.Module, str]:
    """The MLM head of ``base_model`` tied to ``hf_model``'s embeddings, else a fresh :class:`MLMHead`."""
    emb = hf_model.get_input_embeddings()
    if base_model:
        try:
            from transformers import AutoModelForMaskedLM
            from transformers.utils import logging as hf_logging

            level = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()  # a checkpoint without MLM weights gives a noisy load report
            try:
                mlm, info = AutoModelForMaskedLM.from_pretrained(base_model, output_loading_info=True)
            finally:
                hf_logging.set_verbosity(level)
            heads = [m for name, m in mlm.named_children() if name != mlm.base_model_prefix]
            out = mlm.get_output_embeddings()
            if len(heads) == 1 and out is not None and out.weight.shape == emb.weight.shape:
                out.weight = emb.weight
                fresh = any(not k.startswith(mlm.base_model_prefix) for k in info.get("missing_keys", []))
                return heads[0], "fresh (transformers)" if fresh else "pretrained"
        except Exception as exc:  # no MLM class for this architecture, unreadable folder, ...
            logger.info("no MLM head from %s (%s); using a fresh one", base_model, exc)
    eps = getattr(hf_model.config, "layer_norm_eps", 1e-12)
    return MLMHead(hf_model.config.hidden_size, emb, eps), "fresh"


class SimCSEMLMLoss(UnsupervisedSimCSELoss):
    """Unsupervised SimCSE + ``mlm_weight`` x masked-LM loss.

    Args:
        model: a :class:`~simsent.SentenceEncoder` with a transformer encoder.
        temperature, variant: as :class:`UnsupervisedSimCSELoss`.
        mlm_weight: weight of the MLM term (paper: 0.1).
        mlm_probability: share of tokens chosen for prediction (0.15).
    """

    name = "simcse_mlm"
    sweepable = False

    def __init__(
        self,
        model,
        temperature: float = 0.05,
        variant: str = "paper",
        mlm_weight: float = 0.1,
        mlm_probability: float = 0.15,
    ) -> None:
        super().__init__(model, temperature=temperature, variant=variant)
        hf = getattr(model.encoder, "model", None)
        tok = getattr(model.encoder, "tokenizer", None)
        if hf is None or tok is None or getattr(tok, "mask_token_id", None) is None:
            raise ConfigError(
                "simcse_mlm needs a Hugging Face transformer encoder whose tokenizer has a mask token"
            )
        self.mlm_weight = float(mlm_weight)
        self.mlm_probability = float(mlm_probability)
        self.mask_token_id = int(tok.mask_token_id)
        self.special_ids = sorted(set(tok.all_special_ids))
        self.mlm_head, kind = load_mlm_head(model.extra_config.get("base_model"), hf)
        self.vocab_size = hf.get_input_embeddings().num_embeddings
        logger.info("simcse_mlm: %s MLM head, weight %.3g", kind, self.mlm_weight)


    def mlm_loss(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mask a copy of the batch and return the cross-entropy of the masked tokens."""
        ids = features["input_ids"]
        special = torch.isin(ids, torch.tensor(self.special_ids, device=ids.device))
        if "attention_mask" in features:
            special |= features["attention_mask"] == 0
        masked, labels = mask_tokens(ids, special, self.mask_token_id, self.vocab_size, self.mlm_probability)
        hidden = self.model.encoder({**features, "input_ids": masked})["token_embeddings"]
        logits = self.mlm_head(hidden)
        if not (labels != -100).any():
            return logits.sum() * 0.0
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)

    def forward(self, features, labels=None):
        contrastive = super().forward(features, labels)
        if self.mlm_weight == 0:
            return contrastive
        return contrastive + self.mlm_weight * self.mlm_loss(features[0])
