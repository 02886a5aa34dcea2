"""What a cross-encoder adds on FAQ retrieval: the bi-encoder's top 20 / 50 re-ordered by a reranker
trained on the same labelled queries fit gets, scored on never-seen queries.

Per task, the FAQ retrieval of ``bench/fit_retrieval.py`` (valid split, seed 42: 1,000 labelled queries,
up to 500 never-seen ones sharing no text with them, a 3,000-text corpus). The reranker starts from the
start model (a new score head) and trains with ``rerank_listwise`` on (query, positive, negative) rows of
the labelled queries: a query's own negative pair first, else one mined from the corpus by the start
model (fit's mnrl-hard rows: the best-ranked corpus text 0.05 below the positive, none of the query's
positives). The first stage is the start model
itself (raw: fit kept it on BQ, LCQMC and PAWSX in ``results/fit_retrieval_e5.md``; on ATEC fit's
winner was mnrl-hard, whose figures are in that file). Latency: the median over 100 never-seen queries
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


def _training_rows(given: list, corpus: list[str], model) -> list[dict]:
    """(anchor, positive, negative) rows as fit's mnrl-hard candidate gets them (its judge's rows: the
    query's own negative first, else the best-ranked corpus text 0.05 below the positive that is none of
    the query's positives), searching the whole corpus so that nearly every row gets one."""
    from simsent.experiments.fit.config import FitRecipe
    from simsent.experiments.fit.judges import RetrievalJudge

    judge = RetrievalJudge(corpus, mine_range_max=len(corpus))
    return [r for r in judge.training_rows(FitRecipe.named("mnrl-hard"), given, model) if r.get("negative")]


def _first_stage(model, unseen: list, corpus: list[str], top: int) -> tuple[np.ndarray, list[set[int]]]:
    """Each never-seen query's top ``top`` corpus positions by cosine (its own text left out) and its gold."""
    from simsent.search.backends import numpy_search

    pos_of = {t: i for i, t in enumerate(corpus)}
    doc = model.encode(corpus, batch_size=64, normalize_embeddings=True)
    qry = model.encode([r.query for r in unseen], batch_size=64, normalize_embeddings=True)
    _, ids = numpy_search(doc, qry, top + 1)
    own = [pos_of.get(r.query, -1) for r in unseen]
    tops = np.stack([[j for j in row if j != o][:top] for row, o in zip(ids, own, strict=True)])
    return tops, [{pos_of[p] for p in r.positives} for r in unseen]


def _figures(orders: np.ndarray, gold: list[set[int]]) -> dict[str, float]:
    """Recall@1 and MRR@10 (x 100) of ranked corpus positions against each query's gold."""
    first = [next((k + 1 for k, j in enumerate(row) if j in g), None)
             for row, g in zip(orders, gold, strict=True)]
    return {"recall@1": 100 * float(np.mean([f == 1 for f in first])),
            "mrr@10": 100 * float(np.mean([1 / f if f and f <= 10 else 0.0 for f in first]))}


def _reranked(reranker, unseen: list, corpus: list[str], tops: np.ndarray, k: int) -> np.ndarray:
    pairs = [(r.query, corpus[j]) for r, row in zip(unseen, tops, strict=True) for j in row[:k]]
    scores = reranker.predict(pairs, batch_size=64).reshape(len(unseen), k)
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.take_along_axis(tops[:, :k], order, axis=1)


def _latency_ms(model, reranker, unseen: list, corpus: list[str], tops: np.ndarray, n: int = 100) -> float:
    """Median ms of encoding one query and reranking its top 20, one query at a time."""
    times = []
    for r, row in list(zip(unseen, tops, strict=True))[:n]:
        start = time.perf_counter()
        model.encode([r.query], normalize_embeddings=True)
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
    rows = _training_rows(given, corpus, model)
    out = os.path.join(work, task)
    args = TrainingArguments(output_dir=out, objective="rerank_listwise", epochs=a.epochs, batch_size=16,
                             lr=a.lr, warmup_ratio=0.1, seed=a.seed, eval_steps=0, checkpoints=False,
                             resume=False, device="cpu")
    t0 = time.perf_counter()
    Trainer(CrossEncoder.from_pretrained(a.model, max_len=a.max_len, seed=a.seed), args, rows).train()
    train_s = time.perf_counter() - t0
    reranker = CrossEncoder.load(out)
    tops, gold = _first_stage(model, unseen, corpus, 50)
    res = {"sizes": (len(given), len(rows), len(unseen), len(corpus)), "train_s": train_s,
           "raw": _figures(tops, gold),
           **{f"rerank{k}": _figures(_reranked(reranker, unseen, corpus, tops, k), gold) for k in (20, 50)}}
    export_onnx(reranker, out + "-onnx", quantize="int8")
    int8 = CrossEncoder.load(out + "-onnx", backend="onnx")
    res["rerank20_int8"] = _figures(_reranked(int8, unseen, corpus, tops, 20), gold)
    start = time.perf_counter()
    for r in unseen[:100]:
        model.encode([r.query], normalize_embeddings=True)
    res["ms_bi"] = 1000 * (time.perf_counter() - start) / min(100, len(unseen))
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
        "- protocol: see bench/rerank.py's docstring; the reranker: rerank_listwise, "
        f"{a.epochs} epoch(s), batch 16, lr {a.lr}, warm-up 10%, pairs cut at {a.max_len} tokens, seed "
        f"{a.seed}",
        f"- other jobs on the 2-core machine during the run: {a.company}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        data_hashes_line(sorted(set(files)), a.data_dir), "",
        "Never-seen queries, x 100 (first stage: the start model, raw):", "",
        "| task | queries (train / rows / never-seen), corpus | R@1 raw | + rerank top 20 | + rerank top 50 "
        "| + rerank top 20, int8 | MRR@10 raw | + rerank 20 | + rerank 50 | gain MRR@10 (top 20) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task, r in per_task.items():
        g, rows, u, c = r["sizes"]
        lines.append(
            f"| {task} | {g} / {rows} / {u}, {c} | {r['raw']['recall@1']:.1f} | "
            f"{r['rerank20']['recall@1']:.1f} | {r['rerank50']['recall@1']:.1f} | "
            f"{r['rerank20_int8']['recall@1']:.1f} | {r['raw']['mrr@10']:.2f} | "
            f"{r['rerank20']['mrr@10']:.2f} | {r['rerank50']['mrr@10']:.2f} | "
            f"{r['rerank20']['mrr@10'] - r['raw']['mrr@10']:+.2f} |")
    lines += ["", "CPU ms per query, one at a time (median of 100; encoding the query included):", "",
              "| task | bi-encoder alone | + rerank top 20, torch fp32 | + rerank top 20, ONNX int8 | "
              "reranker training (s) |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {t} | {r['ms_bi']:.1f} | {r['ms_torch']:.1f} | {r['ms_int8']:.1f} | {r['train_s']:.0f} |"
              for t, r in per_task.items()]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
