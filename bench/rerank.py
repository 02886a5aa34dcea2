"""What a cross-encoder adds on FAQ retrieval: the bi-encoder's top 20 / 50 re-ordered by a reranker
trained on the same labelled queries fit gets, scored on never-seen queries.

Per task, the FAQ retrieval of ``bench/fit_retrieval.py`` (valid split, seed 42: 1,000 labelled queries,
up to 500 never-seen ones sharing no text with them, a 3,000-text corpus). The reranker starts from the
start model (a new score head) and trains with ``rerank_listwise`` on (query, positive, negative) rows of
the labelled queries: a query's own negative pair first, else one mined from the corpus by the start
model (fit's mnrl-hard rows: the best-ranked corpus text 0.05 below the positive, none of the query's
positives). The first stage is the start model
itself (raw: fit kept it on BQ, LCQMC and PAWSX in ``results/fit_retrieval_e5.md``; on ATEC fit's
winner was mnrl-hard, whose figures are in that file). The reranker's order is
scored alone and blended with the first stage's cosine (``--blend``, 0.5 as fit's second row). Latency: the
median over 100 never-seen queries
of encoding the query and scoring its top 20 with the reranker, torch fp32 and ONNX int8, one at a time.

    python bench/rerank.py --model ../shared/models/e5-small-ml-zh --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import data_hashes_line, model_label, write_report  # noqa: E402
from fit_retrieval import faq_of_task  # noqa: E402


def _training_rows(given: list, corpus: list[str], model, group_size: int) -> list[dict]:
    """(anchor, positive, negative) rows as fit's mnrl-hard candidate gets them (its judge's rows: the
    query's own negative first, else the best-ranked corpus text 0.05 below the positive that is none of
    the query's positives), searching the whole corpus so that nearly every row gets one; with
    ``group_size`` > 2 each row's ``negatives`` too (the next best-ranked ones)."""
    from simsent.experiments.fit.config import FitRecipe
    from simsent.experiments.fit.judges import RetrievalJudge

    judge = RetrievalJudge(corpus, mine_range_max=len(corpus))
    rows = judge.training_rows(FitRecipe.named("mnrl-hard"), given, model, negatives=group_size - 1)
    return [r for r in rows if r.get("negative")]


def _first_stage(model, unseen: list, corpus: list[str], top: int) -> tuple[np.ndarray, np.ndarray, list]:
    """Each never-seen query's top ``top`` corpus positions by cosine (its own text left out), their
    cosines, and its gold."""
    from simsent.search.backends import numpy_search

    pos_of = {t: i for i, t in enumerate(corpus)}
    doc = model.encode(corpus, batch_size=64, normalize_embeddings=True)
    qry = model.encode([r.query for r in unseen], batch_size=64, normalize_embeddings=True)
    _, ids = numpy_search(doc, qry, top + 1)
    own = [pos_of.get(r.query, -1) for r in unseen]
    tops = np.stack([[j for j in row if j != o][:top] for row, o in zip(ids, own, strict=True)])
    cosines = np.einsum("qd,qkd->qk", qry, doc[tops])
    return tops, cosines, [{pos_of[p] for p in r.positives} for r in unseen]


def _figures(orders: np.ndarray, gold: list[set[int]]) -> dict[str, float]:
    """Recall@1 and MRR@10 (x 100) of ranked corpus positions against each query's gold."""
    first = [next((k + 1 for k, j in enumerate(row) if j in g), None)
             for row, g in zip(orders, gold, strict=True)]
    return {"recall@1": 100 * float(np.mean([f == 1 for f in first])),
            "mrr@10": 100 * float(np.mean([1 / f if f and f <= 10 else 0.0 for f in first]))}


def _logits(reranker, unseen: list, corpus: list[str], tops: np.ndarray, k: int) -> np.ndarray:
    pairs = [(r.query, corpus[j]) for r, row in zip(unseen, tops, strict=True) for j in row[:k]]
    return reranker.predict(pairs, batch_size=64, apply_activation=False).reshape(len(unseen), k)


def _reordered(tops: np.ndarray, cosines: np.ndarray, logits: np.ndarray, blend: float) -> np.ndarray:
    """The top ``k`` (``logits``' width) re-ordered as a search does at ``blend``."""
    from simsent.search.rerank import blended_scores

    k = logits.shape[1]
    order = np.argsort(-blended_scores(cosines[:, :k], logits, blend), axis=1, kind="stable")
    return np.take_along_axis(tops[:, :k], order, axis=1)


def _latency_ms(model, reranker, unseen: list, corpus: list[str], tops: np.ndarray, n: int = 100) -> float:
    """Median ms of encoding one query and reranking its top 20 (``reranker`` None: encoding alone), one
    query at a time."""
    times = []
    for r, row in list(zip(unseen, tops, strict=True))[:n]:
        start = time.perf_counter()
        model.encode([r.query], normalize_embeddings=True)
        if reranker is not None:
            reranker.predict([(r.query, corpus[j]) for j in row[:20]], batch_size=32)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def run_task(task: str, a: argparse.Namespace, work: str) -> dict:
    from simsent.modeling.cross_encoder import CrossEncoder
    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    given, unseen, corpus = faq_of_task(task, a.data_dir, a.fit_queries, a.unseen_queries, a.corpus_size,
                                        a.seed)
    model = SentenceEncoder.load(a.model)
    rows = _training_rows(given, corpus, model, a.group_size)
    out = os.path.join(work, task)
    args = TrainingArguments(output_dir=out, objective="rerank_listwise", epochs=a.epochs, batch_size=16,
                             lr=a.lr, warmup_ratio=0.1, seed=a.seed, eval_steps=0, checkpoints=False,
                             resume=False, device="cpu", objective_kwargs={"group_size": a.group_size})
    t0 = time.perf_counter()
    start = a.reranker_start or a.model
    Trainer(CrossEncoder.from_pretrained(start, max_len=a.max_len, seed=a.seed, layers=a.layers), args,
            rows).train()
    train_s = time.perf_counter() - t0
    reranker = CrossEncoder.load(out)
    tops, cosines, gold = _first_stage(model, unseen, corpus, 50)
    logits = _logits(reranker, unseen, corpus, tops, 50)
    res = {"sizes": (len(given), len(rows), len(unseen), len(corpus)), "train_s": train_s,
           "raw": _figures(tops, gold)}
    for k in (20, 50):  # the top 20's logits are the top 50's first 20 columns (each pair scored alone)
        res[f"rerank{k}"] = _figures(_reordered(tops, cosines, logits[:, :k], 0.0), gold)
        res[f"blend{k}"] = _figures(_reordered(tops, cosines, logits[:, :k], a.blend), gold)
    export_onnx(reranker, out + "-onnx", quantize="int8")
    int8 = CrossEncoder.load(out + "-onnx", backend="onnx")
    int8_logits = _logits(int8, unseen, corpus, tops, 20)
    res["rerank20_int8"] = _figures(_reordered(tops, cosines, int8_logits, 0.0), gold)
    res["blend20_int8"] = _figures(_reordered(tops, cosines, int8_logits, a.blend), gold)
    res["ms_bi"] = _latency_ms(model, None, unseen, corpus, tops)
    res["ms_torch"] = _latency_ms(model, reranker, unseen, corpus, tops)
    res["ms_int8"] = _latency_ms(model, int8, unseen, corpus, tops)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default="../shared/data/senteval_cn")
    ap.add_argument("--model", required=True)
    ap.add_argument("--tasks", default="ATEC,BQ,LCQMC,PAWSX")
    ap.add_argument("--fit-queries", type=int, default=1000)
    ap.add_argument("--unseen-queries", type=int, default=500)
    ap.add_argument("--corpus-size", type=int, default=3000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-len", type=int, default=96)
    ap.add_argument("--group-size", type=int, default=2,
                    help="listwise group: a positive and group-size - 1 mined negatives")
    ap.add_argument("--blend", type=float, default=0.5,
                    help="the first stage's weight in the blended order (fit's BLENDS)")
    ap.add_argument("--layers", type=int, default=None,
                    help="the reranker keeps the start model's first N layers (default: all)")
    ap.add_argument("--reranker-start", default=None,
                    help="the reranker starts from this model (e.g. a cross-encoder folder such as "
                    "bge-reranker-base, its head kept); default: --model with a new head")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--work", default="/tmp/simsent-rerank")
    ap.add_argument("--output", default="results/rerank_e5.md")
    ap.add_argument("--company", default="none")
    a = ap.parse_args()
    t0 = time.perf_counter()
    per_task = {}
    for task in a.tasks.split(","):
        per_task[task] = run_task(task, a, a.work)
        print(task, per_task[task], flush=True)
        _report(a, per_task, t0)  # after each task: a stopped run keeps what it finished


def _report(a: argparse.Namespace, per_task: dict, t0: float) -> None:
    """The results file of the tasks finished so far."""
    import torch

    from simsent.data.tasks import task_file
    from simsent.experiments.provenance import versions

    threads = torch.get_num_threads()
    files = [task_file(a.data_dir, t, "valid") for t in per_task]
    lines = [
        f"# A reranker over the bi-encoder's top hits (start model {model_label(a.model)})", "",
        f"- command: `python {' '.join(sys.argv)}` ({(time.perf_counter() - t0) / 60:.1f} min, "
        f"{threads} torch threads; tasks finished: {', '.join(per_task)})",
        "- protocol: see bench/rerank.py's docstring; the reranker: "
        + (f"started from {model_label(a.reranker_start)}, " if a.reranker_start else "")
        + (f"the start model's first {a.layers} layers, " if a.layers else "all the start model's layers, ")
        + "rerank_listwise, group of "
        f"{a.group_size} (1 positive, {a.group_size - 1} negative(s)), {a.epochs} epoch(s), batch 16, lr "
        f"{a.lr}, warm-up 10%, pairs cut at {a.max_len} tokens, seed {a.seed}; blended: {a.blend} of the "
        "first stage's standardised cosine + the rest of the reranker's standardised logit",
        f"- other jobs on the 2-core machine during the run: {a.company}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        data_hashes_line(sorted(set(files)), a.data_dir), "",
        "Never-seen queries, x 100 (first stage: the start model, raw):", "",
        "| task | queries (train / rows / never-seen), corpus | R@1 raw | + rerank 20 | + rerank 50 "
        "| + rerank 20, int8 | blended 20 | blended 20, int8 | MRR@10 raw | + rerank 20 | + rerank 50 "
        "| blended 20 | blended 50 | gain MRR@10: rerank 20 | blended 20 |",
        "|---|---|" + "---:|" * 13,
    ]
    for task, r in per_task.items():
        g, rows, u, c = r["sizes"]
        recall = [r[n]["recall@1"] for n in ("raw", "rerank20", "rerank50", "rerank20_int8", "blend20",
                                              "blend20_int8")]
        mrr = [r[n]["mrr@10"] for n in ("raw", "rerank20", "rerank50", "blend20", "blend50")]
        gains = f" | {mrr[1] - mrr[0]:+.2f} | {mrr[3] - mrr[0]:+.2f} |"
        lines.append(f"| {task} | {g} / {rows} / {u}, {c} | " + " | ".join(f"{v:.1f}" for v in recall) + " | "
                     + " | ".join(f"{v:.2f}" for v in mrr) + gains)
    lines += ["", "CPU ms per query, one at a time (median of 100; encoding the query included):", "",
              "| task | bi-encoder alone | + rerank top 20, torch fp32 | + rerank top 20, ONNX int8 | "
              "the int8 reranking's share (int8 - alone) | reranker training (s) |",
              "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {t} | {r['ms_bi']:.1f} | {r['ms_torch']:.1f} | {r['ms_int8']:.1f} | "
              f"{r['ms_int8'] - r['ms_bi']:.1f} | {r['train_s']:.0f} |" for t, r in per_task.items()]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
