"""``POST /v1/embeddings`` against ``POST /embed`` on the same ``simsent serve``: requests/s and latency.

One server (the bundled MiniLM, micro-batching on), loaded by ``_loadgen.py`` (aiohttp keep-alive
connections in their own process, one text per request) in alternating rounds of the two routes, so
that drift of the shared 2 cores hits both alike. The OpenAI route adds its usage (token counts taken from
the batcher's own tokenisation) and a different body; the figures say what that costs.

    python bench/openai_api.py --data-dir ../shared/data/senteval_cn
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile

import numpy as np

from _common import model_label, shared_texts, start_model, write_report
from deploy import load, serving


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--output", default="results/openai_api.md")
    ap.add_argument("--company", default="none")
    a = ap.parse_args()
    model = start_model(a.model)
    texts, _ = shared_texts(a.data_dir)
    texts_file = os.path.join(tempfile.mkdtemp(), "texts.json")
    with open(texts_file, "w", encoding="utf-8") as f:
        json.dump(texts[:2000], f, ensure_ascii=False)
    runs: dict[str, list[dict]] = {"/embed": [], "/v1/embeddings": []}
    with serving(model, 32, a.threads, "torch") as url:
        for _ in range(a.rounds):
            for route in runs:
                runs[route].append(load(url, texts_file, a.clients, a.seconds, route))
    lines = [
        f"# /v1/embeddings vs /embed ({model_label(a.model)}, {a.clients} clients, one text per request)",
        "",
        "| route | requests/s (median of rounds) | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for route, rs in runs.items():
        med = lambda k, rs=rs: float(np.median([r[k] for r in rs]))  # noqa: E731
        lines.append(f"| `{route}` | {med('rps'):.0f} | {med('p50_ms'):.0f} | {med('p99_ms'):.0f} | "
                     f"{sum(r['errors'] for r in rs)} |")
    rps = {route: np.median([r["rps"] for r in rs]) for route, rs in runs.items()}
    ratio = rps["/v1/embeddings"] / rps["/embed"]
    lines += [
        "",
        f"- `/v1/embeddings` serves {ratio:.2f}x the requests/s of `/embed`.",
        f"- {a.rounds} alternating rounds of {a.seconds:g} s each (after 2 s of warm-up load); server: "
        f"`simsent serve` with micro-batching (32 texts, 5 ms), {a.threads} threads, on the same 2 cores as "
        "the load generator.",
        f"- Command: `python {shlex.join(sys.argv)}`; python {platform.python_version()}; other jobs: "
        f"{a.company}.",
    ]
    write_report(a.output, lines)


if __name__ == "__main__":
    main()
