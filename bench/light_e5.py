"""One table to choose a light encoder from, with e5-small-ml-zh as the teacher: e5 itself (torch, and
ONNX int8), its static student at several widths (as built, and tuned on the text by distillation), a
TextCNN distilled from it, and e5 fine-tuned with
and without Matryoshka read at 384 / 256 / 128 / 64 dimensions.

Protocol (``--seed`` 42, ``--split-seed`` 0):

- pairs: each task's valid split shuffled with the split seed (as ``bench/light_encoders.py``); the
  first half gives unlabelled training text (the students' corpus), the second half, capped at
  ``--eval-pairs``, is scored: Spearman x100 of cosine against the gold label.
- the tuned static student: ``tune_static`` with its defaults (cosine to the teacher's centred vectors,
  lr 3e-3, batch 256) for ``--static-epochs`` on the whole training text, then PCA to each width; its
  training seconds include encoding the text with the teacher.
- retrieval: FAQ search built from the LCQMC and BQ valid splits as ``bench/fit_retrieval.py`` builds it
  (1,000 labelled queries, up to 500 never-seen ones, a 3,000-text corpus): Recall@1 x100 of the
  never-seen queries. The fine-tuned rows train on the labelled queries of both (MNRL, i.e. supervised
  SimCSE with in-batch negatives, 1 epoch, batch 32, lr 2e-5), once at full width and once with the
  loss also at 256 / 128 / 64 (Matryoshka); a row "at d" cuts the vectors to their first d dimensions
  and renormalises. Their pair figures can include sentences of the retrieval training queries (the
  same valid splits): compare them with each other, not with the untrained rows.
- speed: ``encode`` of ``--speed-sents`` evaluation sentences, batch 64, best of 2 after a warm-up, on
  ``--threads`` threads, every model in the same run; sentence-transformers fp32 (the same folder
  through ``SentenceTransformer``) is the reference of the speed ratios.

    python bench/light_e5.py --model ../shared/models/e5-small-ml-zh
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import data_hashes_line, model_label, write_report  # noqa: E402
from fit_retrieval import faq_of_task  # noqa: E402
from light_encoders import split_tasks, throughput, train  # noqa: E402

log = logging.getLogger("bench.light_e5")
DIMS = (384, 256, 128, 64)
RETRIEVAL_TASKS = ("LCQMC", "BQ")


class Remembered:
    """A model's vectors of every text it was asked for once, handed back cut to ``dim`` and renormalised
    (a Matryoshka prefix): the evaluations of several widths encode once."""

    def __init__(self, model, texts: list[str], dim: int | None = None, table: dict | None = None) -> None:
        self.normalize = True
        if table is None:
            vectors = np.asarray(model.encode(texts, batch_size=64, normalize_embeddings=True), np.float32)
            table = dict(zip(texts, vectors, strict=True))
        self.table, self.dim = table, dim

    def at(self, dim: int) -> Remembered:
        return Remembered(None, [], dim, self.table)

    def encode(self, sentences, batch_size: int = 64, **_kwargs) -> np.ndarray:
        from simsent.modeling.inputs import prefix_rows

        single = isinstance(sentences, str)
        rows = np.stack([self.table[s] for s in ([sentences] if single else sentences)])
        rows = prefix_rows(rows, self.dim) if self.dim else rows
        return rows[0] if single else rows

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim or len(next(iter(self.table.values())))


def quality(model, evals: dict, faqs: dict) -> dict:
    """Spearman per task and Recall@1 per retrieval task of ``model`` (a :class:`Remembered`)."""
    from simsent.evaluation.sts import STSEvaluator
    from simsent.experiments.fit.judges import RetrievalJudge

    out = {"spearman": {t: STSEvaluator(rows, name=t, batch_size=64)(model)["spearman"]
                        for t, rows in evals.items()}}
    out["mean"] = float(np.mean(list(out["spearman"].values())))
    out["recall@1"] = {}
    for task, (unseen, corpus) in faqs.items():
        judge = RetrievalJudge(corpus, metric="recall@1")
        _, figures = judge.measure(judge.encode(model, [unseen]), 0, unseen, None)
        out["recall@1"][task] = figures["recall@1"]
    return out


def weights_mb(folder: str, only: str | None = None) -> float:
    """Megabytes of a model folder's weight files (``only``: that one file), ONNX graphs left out."""
    if only:
        return os.path.getsize(os.path.join(folder, only)) / 2**20
    sizes = [os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder)
             for f in files if f.endswith((".safetensors", ".bin", ".pt")) and "checkpoint" not in root]
    return sum(sizes) / 2**20


def fine_tuned(start: str, rows: list[dict], out: str, dims: list[int] | None, seed: int) -> tuple:
    """e5 trained with MNRL on the retrieval rows (Matryoshka at ``dims`` when given); with its seconds."""
    from simsent.experiments.cells import train_in_place
    from simsent.modeling.sentence_encoder import SentenceEncoder

    model = SentenceEncoder.from_pretrained(start)
    started = time.perf_counter()
    train_in_place(model, rows, objective="supervised_simcse", epochs=1, batch_size=32, lr=2e-5, seed=seed,
                   **({"matryoshka_dims": dims} if dims else {}))
    model.save(out)
    return model, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the teacher / start model (e5-small-ml-zh)")
    ap.add_argument("--data-dir", default="../shared/data/senteval_cn")
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--eval-pairs", type=int, default=1000)
    ap.add_argument("--student-sents", type=int, default=10000, help="training text for the TextCNN")
    ap.add_argument("--static-dims", default="256,128,64")
    ap.add_argument("--static-epochs", type=int, default=5, help="the tuned static student's epochs")
    ap.add_argument("--speed-sents", type=int, default=2000)
    ap.add_argument("--fit-queries", type=int, default=1000, help="labelled FAQ queries a task")
    ap.add_argument("--unseen-queries", type=int, default=500)
    ap.add_argument("--corpus-size", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--company", default="none")
    ap.add_argument("--output", default="results/light_e5.md")
    a = ap.parse_args()
    import torch

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("simsent", "transformers", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    torch.set_num_threads(a.threads)
    started = time.perf_counter()
    work = tempfile.mkdtemp(prefix="simsent-light-e5-")
    texts, evals = split_tasks(a.data_dir, a.split_seed, a.eval_pairs)
    faq = {t: faq_of_task(t, a.data_dir, a.fit_queries, a.unseen_queries, a.corpus_size, a.seed)
           for t in RETRIEVAL_TASKS}
    faqs = {t: (unseen, corpus) for t, (_, unseen, corpus) in faq.items()}
    eval_sents = list(dict.fromkeys(s for rows in evals.values() for r in rows
                                    for s in (r["sentence1"], r["sentence2"])))
    searched = [x for unseen, corpus in faqs.values() for x in (*corpus, *(r.query for r in unseen))]
    every = list(dict.fromkeys(eval_sents + searched))
    speed_sents = eval_sents[: a.speed_sents]
    rows: dict[str, dict] = {}
    for name, row in _rows(a, work, texts, evals, faqs, faq, every, speed_sents):
        rows[name] = row
        log.info("%s: %s", name, {k: v for k, v in row.items() if k != "quality"} | {
            "mean": round(row["quality"]["mean"], 2) if row.get("quality") else None})
        _report(a, rows, evals, faq, time.perf_counter() - started)


def _rows(a, work: str, texts: list[str], evals: dict, faqs: dict, faq: dict, every: list[str],
          speed_sents: list[str]):
    """Each row of the table as it is measured: (name, figures)."""
    from sentence_transformers import SentenceTransformer

    from simsent.adapt.distill import distill
    from simsent.adapt.static import distill_static
    from simsent.modeling.onnx import INT8_FILE, ONNX_DIR, OnnxSentenceEncoder, export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    st = SentenceTransformer(a.model, device="cpu")
    yield "sentence-transformers fp32 (reference of speed)", {"sent_s": throughput(st, speed_sents)}
    del st
    teacher = SentenceEncoder.load(a.model)
    width = teacher.get_sentence_embedding_dimension()
    base = {"mb": weights_mb(a.model), "bytes": 4 * width}
    yield "e5-small-ml-zh, torch fp32 (simsent)", {
        **base, "quality": quality(Remembered(teacher, every), evals, faqs),
        "sent_s": throughput(teacher, speed_sents)}
    for name, optimize in (("int8", False), ("int8, transformer optimiser first (--optimize)", True)):
        folder = os.path.join(work, f"int8-{optimize}")
        export_onnx(teacher, folder, quantize="int8", optimize=optimize)
        int8 = OnnxSentenceEncoder.load(folder, threads=a.threads)
        yield f"e5-small-ml-zh, ONNX {name} (simsent export)", {
            "mb": weights_mb(folder, f"{ONNX_DIR}/{INT8_FILE}"), "bytes": 4 * width,
            "quality": quality(Remembered(int8, every), evals, faqs), "sent_s": throughput(int8, speed_sents)}
        del int8
    for dim in (int(d) for d in a.static_dims.split(",")):
        start = time.perf_counter()
        student = distill_static(teacher, texts, dim=dim)
        seconds = time.perf_counter() - start
        student.save(os.path.join(work, f"static{dim}"))
        yield f"static student, {dim} dims", {
            "mb": weights_mb(os.path.join(work, f"static{dim}")), "bytes": 4 * dim, "train_s": seconds,
            "quality": quality(Remembered(student, every), evals, faqs),
            "sent_s": throughput(student, speed_sents)}
    yield from _tuned_static_rows(a, work, teacher, texts, evals, faqs, every, speed_sents)
    import random

    corpus = random.Random(a.seed).sample(texts, min(a.student_sents, len(texts)))
    opts = {"emb_dim": 128, "filters": 128, "kernel_sizes": (2, 3, 4), "dropout": 0.1,
            "init_from_teacher": True}
    res = distill(teacher, "textcnn", corpus, os.path.join(work, "textcnn"), loss="both", epochs=3, lr=1e-3,
                  seed=a.seed, max_len=64, cache_dir=os.path.join(work, "cache"), textcnn_options=opts,
                  show_progress_bar=False)
    cnn = res["model"]
    yield "TextCNN distilled from e5 (mse+cosine, e5-initialised embeddings)", {
        "mb": weights_mb(os.path.join(work, "textcnn")), "bytes": 4 * cnn.get_sentence_embedding_dimension(),
        "train_s": res["train_seconds"], "quality": quality(Remembered(cnn, every), evals, faqs),
        "sent_s": throughput(cnn, speed_sents)}
    from simsent.modeling.encoders.textcnn import build_textcnn_model

    cnn_opts = {k: v for k, v in opts.items() if k != "init_from_teacher"}
    for label, objective, extra in (("SimCSE", "simcse", {}),
                                    ("AM-Softmax (K=3, m=0.1, s=20)", "amsoftmax",
                                     {"views": 3, "margin": 0.1, "scale": 20.0})):
        cnn = build_textcnn_model(corpus, seed=a.seed, max_len=64, **cnn_opts)
        seconds = train(cnn, corpus, os.path.join(work, objective), objective, epochs=1, lr=1e-3, seed=a.seed,
                        **extra)
        yield f"TextCNN + {label}, no teacher", {
            "mb": sum(p.numel() * p.element_size() for p in cnn.parameters()) / 2**20,
            "bytes": 4 * cnn.get_sentence_embedding_dimension(), "train_s": seconds,
            "quality": quality(Remembered(cnn, every), evals, faqs), "sent_s": throughput(cnn, speed_sents)}
    labelled = [{"anchor": r.query, "positive": p} for given, _, _ in faq.values() for r in given
                for p in r.positives]
    for label, dims in (("MNRL", None), ("MNRL + Matryoshka 384/256/128/64", list(DIMS))):
        model, seconds = fine_tuned(a.model, labelled, os.path.join(work, label[:4] + str(bool(dims))), dims,
                                    a.seed)
        seen = Remembered(model, every)
        for dim in DIMS:
            yield f"e5 + {label}, at {dim}", {
                **base, "bytes": 4 * dim, "train_s": seconds,
                "quality": quality(seen.at(dim) if dim < width else seen, evals, faqs)}


def _tuned_static_rows(a, work: str, teacher, texts: list[str], evals: dict, faqs: dict, every: list[str],
                       speed_sents: list[str]):
    """The static student built at full width, tuned on the training text by distillation (the teacher's
    vectors of the text encoded inside the timing), then projected to each ``--static-dims``."""
    from simsent.adapt.static import distill_static
    from simsent.adapt.static_tune import project_static, tune_static

    start = time.perf_counter()
    tuned = tune_static(distill_static(teacher, texts, dim=None), teacher, texts, epochs=a.static_epochs,
                        seed=a.seed, show_progress_bar=False, device="cpu")
    seconds = time.perf_counter() - start
    for dim in (int(d) for d in a.static_dims.split(",")):
        student = project_static(tuned, texts, dim)
        student.save(os.path.join(work, f"static-tuned{dim}"))
        yield f"static student tuned on the text ({a.static_epochs} epochs of distillation), {dim} dims", {
            "mb": weights_mb(os.path.join(work, f"static-tuned{dim}")), "bytes": 4 * dim, "train_s": seconds,
            "quality": quality(Remembered(student, every), evals, faqs),
            "sent_s": throughput(student, speed_sents)}


def _report(a, rows: dict, evals: dict, faq: dict, seconds: float) -> None:
    import torch

    from simsent.data.tasks import TASKS, task_file
    from simsent.experiments.provenance import versions

    ref = rows.get("sentence-transformers fp32 (reference of speed)", {}).get("sent_s")
    files = [task_file(a.data_dir, t, "valid") for t in TASKS]
    lines = [
        f"# Light encoders from e5 (teacher and start model: {model_label(a.model)})", "",
        f"- command: `python {' '.join(sys.argv)}` ({seconds / 60:.1f} min, {torch.get_num_threads()} torch "
        f"threads; rows finished: {len(rows)})",
        f"- protocol: see bench/light_e5.py's docstring; seeds: split {a.split_seed}, training {a.seed}; "
        f"pairs scored a task: {', '.join(f'{t} {len(r)}' for t, r in evals.items())}; retrieval (labelled "
        "queries / never-seen queries / corpus): "
        + ", ".join(f"{t} {len(g)} / {len(u)} / {len(c)}" for t, (g, u, c) in faq.items()),
        f"- other jobs on the 2-core machine during the run: {a.company}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        data_hashes_line(files, a.data_dir), "",
        "| model | " + " | ".join(TASKS) + " | mean | R@1 " + " | R@1 ".join(RETRIEVAL_TASKS)
        + " | sent/s | x ST fp32 | weights MB | bytes a vector | train s |",
        "|---|" + "---:|" * (len(TASKS) + len(RETRIEVAL_TASKS) + 6),
    ]
    for name, r in rows.items():
        q = r.get("quality")
        cells = ([f"{q['spearman'][t]:.2f}" for t in TASKS] + [f"{q['mean']:.2f}"]
                 + [f"{q['recall@1'][t]:.1f}" for t in RETRIEVAL_TASKS]) if q else ["-"] * (len(TASKS) + 3)
        sent_s = r.get("sent_s")
        cells += [f"{sent_s:.0f}" if sent_s else "as e5", f"{sent_s / ref:.2f}" if sent_s and ref else "-",
                  f"{r['mb']:.0f}" if "mb" in r else "-", str(r.get("bytes", "-")),
                  f"{r['train_s']:.0f}" if r.get("train_s") else "-"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
