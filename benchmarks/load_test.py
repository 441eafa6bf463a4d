"""Load test: sustained submissions from many concurrent clients plus a burst, then queue drain.

    .venv/bin/python benchmarks/load_test.py                  # starts `emoq run` (embedded) on loopback
    .venv/bin/python benchmarks/load_test.py --url http://127.0.0.1:8000 --api-key emoq_...

Prints API latency percentiles for submissions, the error rate, how long the queue took to drain, and
how many accepted jobs did not end (lost: must be 0). Request loops are bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

FINAL = {"succeeded", "failed", "cancelled"}


def clip_bytes(seconds: float, folder: Path) -> bytes:
    t = np.arange(int(seconds * 16000)) / 16000
    voice = 0.3 * np.sin(2 * np.pi * (140 + 40 * np.sin(2 * np.pi * 0.5 * t)) * t)
    path = folder / "clip.wav"
    sf.write(path, voice.astype(np.float32), 16000, subtype="PCM_16")
    return path.read_bytes()


@contextmanager
def embedded_service(folder: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "EMOQ_DATA_DIR": str(folder / "var"),
        "EMOQ_API_PORT": str(port),
        "EMOQ_AUTH_DISABLED": "true",
        "EMOQ_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "emoq.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).json().get("models"):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit(f"EmoQ did not start; see {folder / 'emoq.log'}")
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


async def submit(
    client: httpx.AsyncClient, audio: bytes, latencies: list[float], accepted: list[str], errors: list[str]
) -> None:
    started = time.perf_counter()
    try:
        response = await client.post("/v1/jobs", files={"file": ("clip.wav", audio, "audio/wav")})
    except httpx.HTTPError as exc:
        errors.append(type(exc).__name__)
        return
    latencies.append(time.perf_counter() - started)
    if response.status_code == 202:
        accepted.append(response.json()["id"])
    else:
        errors.append(str(response.status_code))


async def sustained(
    client: httpx.AsyncClient,
    audio: bytes,
    clients: int,
    seconds: float,
    limit: int,
    latencies: list[float],
    accepted: list[str],
    errors: list[str],
) -> None:
    deadline = time.monotonic() + seconds
    per_client = limit // clients

    async def one_client() -> None:
        for _ in range(per_client):
            if time.monotonic() >= deadline:
                return
            await submit(client, audio, latencies, accepted, errors)

    await asyncio.gather(*(one_client() for _ in range(clients)))


async def drain(
    client: httpx.AsyncClient, accepted: list[str], timeout: float
) -> tuple[float, dict[str, int]]:
    """Poll until every accepted job has ended (or the timeout); then count the outcomes."""

    async def status(job_id: str) -> str:
        for attempt in range(3):
            try:
                response = await client.get(f"/v1/jobs/{job_id}")
                break
            except httpx.RemoteProtocolError:
                # A keep-alive connection the server closed just as it was reused: a GET may be repeated.
                if attempt == 2:
                    raise
        return response.json().get("status", "missing") if response.status_code == 200 else "missing"

    started = time.monotonic()
    pending = list(accepted)
    while pending and time.monotonic() - started < timeout:
        # The oldest first, at most 100 at a time: they end in roughly submission order.
        head = pending[:100]
        ended = {
            job_id
            for job_id, s in zip(head, await asyncio.gather(*map(status, head)), strict=True)
            if s in FINAL
        }
        pending = [job_id for job_id in pending if job_id not in ended]
        if len(ended) < len(head):
            await asyncio.sleep(0.5)
    elapsed = time.monotonic() - started
    outcome: dict[str, int] = {}
    for state in await asyncio.gather(*map(status, accepted)):
        outcome[state] = outcome.get(state, 0) + 1
    return elapsed, outcome


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


async def run(url: str, args: argparse.Namespace, audio: bytes) -> None:
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients + args.burst)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as client:
        latencies: list[float] = []
        accepted: list[str] = []
        errors: list[str] = []
        started = time.perf_counter()
        await sustained(
            client, audio, args.clients, args.seconds, args.max_requests, latencies, accepted, errors
        )
        sustained_s = time.perf_counter() - started
        sustained_n = len(latencies) + len(errors)
        burst_latencies: list[float] = []
        await asyncio.gather(
            *(submit(client, audio, burst_latencies, accepted, errors) for _ in range(args.burst))
        )
        drain_s, outcome = await drain(client, accepted, args.drain_timeout)
    total = sustained_n + args.burst
    lost = len(accepted) - sum(outcome.get(s, 0) for s in FINAL)
    print(f"target            {url}")
    print(
        f"sustained         {args.clients} clients, {sustained_n} submissions in {sustained_s:.1f} s "
        f"({sustained_n / sustained_s:.1f}/s), {args.clip_seconds:g} s clips"
    )
    print(
        f"  latency ms      p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}  "
        f"p99 {percentile(latencies, 99):.0f}  max {max(latencies) * 1000:.0f}"
    )
    print(
        f"burst             {args.burst} at once: p50 {percentile(burst_latencies, 50):.0f} ms  "
        f"p95 {percentile(burst_latencies, 95):.0f} ms  max {max(burst_latencies, default=0) * 1000:.0f} ms"
    )
    print(
        f"errors            {len(errors)} of {total} ({100 * len(errors) / total:.2f} %) {sorted(set(errors))}"
    )
    print(f"queue drain       {drain_s:.1f} s after the last submission; outcomes {outcome}")
    print(f"lost jobs         {lost}")
    print(f"mean latency      {statistics.mean(latencies) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running EmoQ; default: start `emoq run` on loopback")
    parser.add_argument("--api-key")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the sustained phase")
    parser.add_argument("--max-requests", type=int, default=2000, help="cap on sustained submissions")
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--clip-seconds", type=float, default=2.0)
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        audio = clip_bytes(args.clip_seconds, Path(folder))
        if args.url:
            asyncio.run(run(args.url, args, audio))
        else:
            with embedded_service(Path(folder)) as url:
                asyncio.run(run(url, args, audio))


if __name__ == "__main__":
    main()
