"""HTTP load for the service benchmarks: N keep-alive connections through ``aiohttp``'s client, each
posting one request after another.

It runs in its own process (``python bench/_loadgen.py URL ...``) on one asyncio loop, so that the client
takes little of the CPU it shares with the server (a thread per client with httpx took about a third of
the two cores). ``aiohttp`` is an established client (C HTTP parser, full HTTP/1.1: chunked bodies,
keep-alive), so others can reproduce the figures with the same tool. Bounded in time and in requests per
connection; only 127.0.0.1. The first ``--warmup`` seconds load the server without being measured.
Prints one JSON line: requests, errors, wall seconds and the latency of every answered request in ms.

    python bench/_loadgen.py http://127.0.0.1:8000/embed --clients 32 --seconds 8 --texts texts.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


async def one_client(
    k: int, session, url: str, bodies: list[bytes], start: float, stop: float, limit: int, out: dict
) -> None:
    """One connection's worth of requests, one after another, until ``stop``."""
    i = k
    headers = {"Content-Type": "application/json"}
    for _ in range(limit):
        if time.perf_counter() >= stop:
            break
        t0 = time.perf_counter()
        async with session.post(url, data=bodies[i % len(bodies)], headers=headers) as response:
            await response.read()
            status = response.status
        if t0 < start:  # warm-up: connections open, caches fill, batches settle
            pass
        elif status == 200:
            out["latencies"].append(1000 * (time.perf_counter() - t0))
        else:
            out["errors"] += 1
        i += 1


async def run(
    url: str, texts: list[str], clients: int, seconds: float, limit: int, warmup: float = 1.0
) -> dict:
    import aiohttp

    if urlsplit(url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the load generator only talks to 127.0.0.1")
    openai = urlsplit(url).path.endswith("/v1/embeddings")  # OpenAI's body: {"model", "input"}
    payloads = [{"model": "simsent", "input": t} if openai else {"texts": [t]} for t in texts]
    bodies = [json.dumps(p, ensure_ascii=False).encode() for p in payloads]
    out: dict = {"latencies": [], "errors": 0}
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter() + warmup
        stop = start + seconds
        await asyncio.gather(
            *(one_client(k, session, url, bodies, start, stop, limit, out) for k in range(clients))
        )
        out["wall_s"] = time.perf_counter() - start  # requests sent after the warm-up, to the last answer
    out["requests"] = len(out["latencies"])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url")
    p.add_argument("--texts", required=True, help="a JSON list of texts, one per request, in turn")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of load before measuring")
    p.add_argument("--max-requests", type=int, default=100_000, help="per connection")
    a = p.parse_args()
    with open(a.texts, encoding="utf-8") as f:
        texts = json.load(f)
    print(json.dumps(asyncio.run(run(a.url, texts, a.clients, a.seconds, a.max_requests, a.warmup))))


if __name__ == "__main__":
    main()
