"""A small HTTP load generator: N keep-alive connections, each posting one request after another.

It runs in its own process (``python bench/_loadgen.py URL ...``), on asyncio with raw sockets, so
that the client takes as little of the CPU it shares with the server as a tool like ``wrk`` would
(a thread per client with httpx took about a third of the two cores). Bounded in time and in
requests per connection; only 127.0.0.1. The first ``--warmup`` seconds load the server without being
measured. Prints one JSON line: requests, errors, wall seconds and the latency of every answered
request in ms.

    python bench/_loadgen.py http://127.0.0.1:8000/embed --clients 32 --seconds 8 --texts texts.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


def request_bytes(host: str, port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length body; returns the status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def one_client(
    k: int, host: str, port: int, requests: list[bytes], start: float, stop: float, limit: int, out: dict
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = k
    try:
        for _ in range(limit):
            if time.perf_counter() >= stop:
                break
            t0 = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status = await read_response(reader)
            if t0 < start:  # warm-up: connections open, caches fill, batches settle
                pass
            elif status == 200:
                out["latencies"].append(1000 * (time.perf_counter() - t0))
            else:
                out["errors"] += 1
            i += 1
    finally:
        writer.close()


async def run(
    url: str, texts: list[str], clients: int, seconds: float, limit: int, warmup: float = 1.0
) -> dict:
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("the load generator only talks to 127.0.0.1")
    port = parts.port or 80
    bodies = [json.dumps({"texts": [t]}, ensure_ascii=False).encode() for t in texts]
    requests = [request_bytes(parts.hostname, port, parts.path, body) for body in bodies]
    out: dict = {"latencies": [], "errors": 0}
    start = time.perf_counter() + warmup
    stop = start + seconds
    await asyncio.gather(
        *(one_client(k, parts.hostname, port, requests, start, stop, limit, out) for k in range(clients))
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
