"""Throughput of the inference engine against the plain loop a user could write, one after the other.

    .venv/bin/python benchmarks/throughput.py                          # everything (long)
    nice -n 10 .venv/bin/python benchmarks/throughput.py --clips 8 --models shipped --precisions fp32,int8

On the same clips (the EmoDB clips in ../shared/data, plus one long synthetic file made of them), runs:
1. the plain in-process loop, `transformers.pipeline("audio-classification")` at fp32, clip after clip;
2. EmoQ end to end, the real `emoq run` (API -> broker -> worker -> database) in a temporary folder:
   one batch of all clips, and the same clips as separate jobs from concurrent clients;
for the shipped model and a config-built base-size Wav2Vec2 (~94 M parameters, random weights: speed
and agreement, not accuracy), at each precision asked. Prints one table: audio seconds per wall second,
ratio to the plain loop, job latency p50/p95, top-label agreement and max |Δprob| against EmoQ at fp32
(same windows, so only the arithmetic differs), the share of the machine's CPU time the path used, and
/healthz p99 and submit p50 while EmoQ ran.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
EMODB = REPO.parent / "shared" / "data" / "emodb"
SHIPPED = REPO / "models" / "emoq-emodb-small"
RATE = 16000
FINAL = {"succeeded", "failed", "cancelled"}


@dataclass
class Row:
    model: str
    path: str
    precision: str
    audio_seconds: float
    wall_seconds: float
    cpu_seconds: float  # of every process of the path (EmoQ: API, broker, workers, scheduler)
    latencies: list[float] = field(default_factory=list)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # clip name -> label -> score
    health_p99_ms: float | None = None
    submit_p50_ms: float | None = None

    @property
    def throughput(self) -> float:
        return self.audio_seconds / self.wall_seconds

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / (self.wall_seconds * (os.cpu_count() or 1))

    @property
    def per_cpu_second(self) -> float:
        """Audio seconds per CPU second: what the path costs, whatever else the machine was doing."""
        return self.audio_seconds / self.cpu_seconds


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# --- inputs -------------------------------------------------------------------------------------------


def load_clips(count: int, long_seconds: float, folder: Path) -> list[Path]:
    """The first ``count`` EmoDB clips as 16-bit WAV files, and one long file made of them."""
    manifest = EMODB / "manifest.csv"
    if not manifest.is_file():
        raise SystemExit(f"needs the EmoDB clips in {EMODB} (see ../shared/data/README.md); not found")
    with manifest.open() as handle:
        names = [row["path"] for row in csv.DictReader(handle)][:count]
    paths, waves = [], []
    for name in names:
        wave, rate = sf.read(EMODB / name, dtype="float32")
        assert rate == RATE, f"{name} is {rate} Hz"
        path = folder / f"{Path(name).stem}.wav"
        sf.write(path, wave, RATE, subtype="PCM_16")
        paths.append(path)
        waves.append(wave)
    if long_seconds > 0:
        joined = np.concatenate(waves)
        repeats = int(np.ceil(long_seconds * RATE / len(joined)))
        long_wave = np.tile(joined, repeats)[: round(long_seconds * RATE)]
        sf.write(folder / "long.wav", long_wave, RATE, subtype="PCM_16")
        paths.append(folder / "long.wav")
    return paths


def audio_seconds(paths: list[Path]) -> float:
    return sum(sf.info(path).duration for path in paths)


def base_size_checkpoint(folder: Path) -> Path:
    """Wav2Vec2-base's shape (12 layers, 768 wide, ~94 M parameters) with random weights and the
    shipped model's labels and feature extractor, built from a config: nothing is downloaded."""
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    labels = json.loads((SHIPPED / "config.json").read_text())["id2label"]
    config = Wav2Vec2Config(
        id2label={int(k): v for k, v in labels.items()}, label2id={v: int(k) for k, v in labels.items()}
    )
    Wav2Vec2ForSequenceClassification(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor.from_pretrained(SHIPPED).save_pretrained(folder)
    return folder


# --- CPU time of a process tree, from /proc ------------------------------------------------------------


def tree_cpu(root: int) -> dict[int, tuple[str, float]]:
    """User + system CPU seconds of ``root`` and each live descendant (with the children they reaped),
    by pid, each with its role: the ``emoq`` subcommand it runs, "pool" for a worker's child processes."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(v) for v in fields[11:15])
    roles, frontier = {root: "run"}, [root]
    while frontier:
        parent = frontier.pop()
        for pid in (pid for pid, ppid in parents.items() if ppid == parent and pid not in roles):
            roles[pid] = "pool" if roles[parent] != "run" else _role(pid)
            frontier.append(pid)
    return {pid: (role, times.get(pid, 0) / tick) for pid, role in roles.items()}


def _role(pid: int) -> str:
    try:
        argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")
    except OSError:
        return "?"
    return argv[argv.index("cli.main") + 1] if "cli.main" in argv[:-1] else Path(argv[0]).name


def tree_cpu_seconds(root: int) -> float:
    return sum(seconds for _, seconds in tree_cpu(root).values())


def cpu_by_role(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> str:
    """Where the CPU time between two ``tree_cpu`` readings went, by role, dearest first."""
    spent: dict[str, float] = {}
    for pid, (role, seconds) in after.items():
        spent[role] = spent.get(role, 0.0) + seconds - before.get(pid, (role, 0.0))[1]
    return ", ".join(f"{role} {seconds:.2f}" for role, seconds in sorted(spent.items(), key=lambda i: -i[1]))


# --- 1. the plain loop ---------------------------------------------------------------------------------


def plain_loop(model: Path, name: str, paths: list[Path], *, threads: int | None = None) -> Row:
    """``threads``: torch's intra-op threads for this loop; None leaves torch's default (one per core),
    as a loop written without thought for it runs."""
    import torch

    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads or default_threads)
    try:
        return _plain_loop(
            model, name, paths, label="plain loop" if threads is None else f"plain loop, {threads} thread"
        )
    finally:
        torch.set_num_threads(default_threads)


def _plain_loop(model: Path, name: str, paths: list[Path], *, label: str) -> Row:
    import torch
    from transformers import pipeline

    classify = pipeline("audio-classification", model=str(model), device="cpu")
    waves = [sf.read(path, dtype="float32")[0] for path in paths]
    classify({"raw": waves[0], "sampling_rate": RATE}, top_k=None)  # warm up, as a server would be
    cpu_before, started = time.process_time(), time.perf_counter()
    latencies, scores = [], {}
    for path, wave in zip(paths, waves, strict=True):
        clip_started = time.perf_counter()
        with torch.inference_mode():
            answer = classify({"raw": wave, "sampling_rate": RATE}, top_k=None)
        latencies.append(time.perf_counter() - clip_started)
        scores[path.stem] = {r["label"]: r["score"] for r in answer}
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    return Row(
        name,
        label,
        "fp32",
        audio_seconds(paths),
        wall,
        cpu,
        latencies,
        scores,
    )


# --- 2. EmoQ end to end --------------------------------------------------------------------------------


@contextmanager
def emoq_run(
    folder: Path, model: Path, precision: str, extra_env: dict[str, str]
) -> Iterator[tuple[str, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EMOQ_")},
        "EMOQ_DATA_DIR": str(folder / "var"),
        "EMOQ_API_PORT": str(port),
        "EMOQ_AUTH_DISABLED": "true",
        "EMOQ_LOG_LEVEL": "WARNING",
        "EMOQ_MODEL": str(model),
        "EMOQ_PRECISION": precision,
        "EMOQ_WORKER_METRICS_PORT": "0",
        "EMOQ_WEBHOOKS_METRICS_PORT": "0",
        "EMOQ_RATE_LIMIT_PER_MINUTE": "100000",
        **extra_env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "emoq.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).json().get("models"):
                    break
            except (httpx.HTTPError, json.JSONDecodeError):
                pass
            if process.poll() is not None:
                raise SystemExit(f"emoq run exited; see {folder / 'emoq.log'}")
            time.sleep(0.5)
        else:
            raise SystemExit(f"EmoQ did not start; see {folder / 'emoq.log'}")
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


class HealthProbe:
    """/healthz every 100 ms while a path runs: the service shell must stay responsive under load."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.wait(0.1):
                started = time.perf_counter()
                client.get(f"{self.url}/healthz")
                self.latencies.append(time.perf_counter() - started)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def job_scores(job: dict) -> dict[str, float]:
    return {s["label"]: s["score"] for s in job["result"]["scores"]} if job.get("result") else {}


def job_latency(job: dict) -> float:
    return (
        datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["created_at"])
    ).total_seconds()


def wait_for_job(client: httpx.Client, url: str, job_id: str) -> dict:
    """As a client that wants the answer soon: the server holds the request until the job ends
    (``Prefer: wait``), asked again only if the server's cap on a wait passes first."""
    params, headers = {"segments": "false"}, {"Prefer": "wait=30"}
    while True:
        job = client.get(f"{url}/v1/jobs/{job_id}", params=params, headers=headers).json()
        if job["status"] in FINAL:
            return job


def wait_for_batch(client: httpx.Client, url: str, batch_id: str) -> dict[str, dict]:
    """As a batch client waits: the batch's status (not each of its jobs) until it has completed, then
    its jobs once, in pages. Polling every job every 50 ms cost the API more CPU than the model did; the
    pause grows with the wait (2 % of it, 50-250 ms), so it adds at most 2 % to a wall time."""
    started = time.perf_counter()
    while client.get(f"{url}/v1/batches/{batch_id}", params={"limit": 1}).json()["status"] != "completed":
        time.sleep(min(0.25, max(0.05, 0.02 * (time.perf_counter() - started))))
    jobs: dict[str, dict] = {}
    cursor = None
    while True:
        page = client.get(
            f"{url}/v1/batches/{batch_id}", params={"limit": 500, **({"cursor": cursor} if cursor else {})}
        ).json()
        jobs |= {job["id"]: job for job in page["jobs"]}
        if not (cursor := page["next_cursor"]):
            return jobs


def warm_up(url: str, paths: list[Path]) -> None:
    """A few jobs before the clock starts, as the plain loop's first call: a serving EmoQ is warm (its
    worker processes have run the code paths and compiled the statements a job takes once already)."""
    with httpx.Client(timeout=600) as client:
        files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]
        batch = client.post(f"{url}/v1/batches", files=files)
        batch.raise_for_status()
        wait_for_batch(client, url, batch.json()["id"])


def emoq_batch(url: str, pid: int, paths: list[Path], name: str, precision: str) -> Row:
    with httpx.Client(timeout=600) as client, HealthProbe(url) as probe:
        before, started = tree_cpu(pid), time.perf_counter()
        files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]
        batch = client.post(f"{url}/v1/batches", files=files)
        batch.raise_for_status()
        ids = dict(zip((p.stem for p in paths), batch.json()["job_ids"], strict=True))
        by_id = wait_for_batch(client, url, batch.json()["id"])
        jobs = {name: by_id[job_id] for name, job_id in ids.items()}
        wall = time.perf_counter() - started
        after = tree_cpu(pid)
    cpu = sum(seconds for _, seconds in after.values()) - sum(seconds for _, seconds in before.values())
    print(
        f"{name} {precision} one batch, CPU seconds by process: {cpu_by_role(before, after)}", file=sys.stderr
    )
    failed = [n for n, j in jobs.items() if j["status"] != "succeeded"]
    if failed:
        raise SystemExit(f"{len(failed)} jobs did not succeed, e.g. {jobs[failed[0]]}")
    row = Row(name, "EmoQ, one batch", precision, audio_seconds(paths), wall, cpu)
    row.latencies = [job_latency(j) for j in jobs.values()]
    row.scores = {n: job_scores(j) for n, j in jobs.items()}
    row.health_p99_ms = percentile(probe.latencies, 99) * 1000
    return row


def emoq_clients(url: str, pid: int, paths: list[Path], name: str, precision: str, clients: int) -> Row:
    """Each client sends its next clip as soon as its previous one has an answer, which it waits for
    with ``Prefer: wait`` (polling at 10 ms to 100 ms intervals, before, cost the API more CPU than
    the model)."""
    pending = list(enumerate(paths))
    lock = threading.Lock()
    latencies: list[float] = []
    submits: list[float] = []
    scores: dict[str, dict[str, float]] = {}

    def client_loop() -> None:
        with httpx.Client(timeout=600) as client:
            while True:
                with lock:
                    if not pending:
                        return
                    _, path = pending.pop(0)
                started = time.perf_counter()
                accepted = client.post(
                    f"{url}/v1/jobs", files={"file": (path.name, path.read_bytes(), "audio/wav")}
                )
                submits.append(time.perf_counter() - started)
                accepted.raise_for_status()
                job = wait_for_job(client, url, accepted.json()["id"])
                if job["status"] != "succeeded":
                    raise SystemExit(f"job did not succeed: {job}")
                latencies.append(time.perf_counter() - started)
                scores[path.stem] = job_scores(job)

    with HealthProbe(url) as probe:
        cpu_before, started = tree_cpu_seconds(pid), time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            for future in [pool.submit(client_loop) for _ in range(clients)]:
                future.result()
        wall = time.perf_counter() - started
        cpu = tree_cpu_seconds(pid) - cpu_before
    row = Row(name, f"EmoQ, {clients} clients", precision, audio_seconds(paths), wall, cpu)
    row.latencies, row.scores = latencies, scores
    row.health_p99_ms = percentile(probe.latencies, 99) * 1000
    row.submit_p50_ms = percentile(submits, 50) * 1000
    return row


# --- the table -----------------------------------------------------------------------------------------


def fidelity(row: Row, reference: Row | None) -> tuple[str, str]:
    """Top-label agreement and max |Δprob| against the same path at fp32 (same windows)."""
    if reference is None or reference is row or not reference.scores:
        return "", ""
    shared = [n for n in row.scores if n in reference.scores]
    agree = sum(
        max(row.scores[n], key=row.scores[n].get) == max(reference.scores[n], key=reference.scores[n].get)
        for n in shared
    )
    delta = max(
        abs(row.scores[n][label] - reference.scores[n][label]) for n in shared for label in row.scores[n]
    )
    return f"{100 * agree / len(shared):.1f} %", f"{delta:.4f}"


def table(rows: list[Row]) -> str:
    out = io.StringIO()
    out.write(
        "| model | path | precision | audio-s/s | ratio to plain loop | p50 s | p95 s | top-1 vs fp32 | max Δprob "
        "| CPU busy | audio-s per CPU-s | ratio per CPU-s | /healthz p99 ms | submit p50 ms |\n"
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    for row in rows:
        plain = next((r for r in rows if r.model == row.model and r.path == "plain loop"), None)
        reference = next(
            (r for r in rows if r.model == row.model and r.path == row.path and r.precision == "fp32"), None
        )
        agreement, delta = fidelity(row, reference)
        ratio = f"{row.throughput / plain.throughput:.2f}" if plain else ""
        cpu_ratio = f"{row.per_cpu_second / plain.per_cpu_second:.2f}" if plain else ""
        health = f"{row.health_p99_ms:.0f}" if row.health_p99_ms is not None else ""
        submit = f"{row.submit_p50_ms:.0f}" if row.submit_p50_ms is not None else ""
        out.write(
            f"| {row.model} | {row.path} | {row.precision} | {row.throughput:.1f} | {ratio} "
            f"| {percentile(row.latencies, 50):.2f} | {percentile(row.latencies, 95):.2f} | {agreement} | {delta} "
            f"| {100 * row.cpu_share:.0f} % | {row.per_cpu_second:.1f} | {cpu_ratio} | {health} | {submit} |\n"
        )
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=60, help="EmoDB clips (default 60)")
    parser.add_argument("--long-seconds", type=float, default=120.0, help="length of the long file; 0: none")
    parser.add_argument("--models", default="shipped,base", help="comma-separated: shipped, base")
    parser.add_argument(
        "--precisions", default="fp32,bf16,int8", help="comma-separated EMOQ_PRECISION values"
    )
    parser.add_argument(
        "--paths",
        default="plain,plain1,batch,clients",
        help="comma-separated: plain, plain1 (the plain loop on one torch thread), batch, clients",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--batch-size", type=int, default=None, help="EMOQ_INFERENCE_BATCH_SIZE for EmoQ")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="EMOQ_NAME=VALUE",
        help="a setting for EmoQ (repeatable), e.g. EMOQ_WORKER_NICE=0; the shell's EMOQ_* are not passed on",
    )
    args = parser.parse_args()
    paths_wanted = set(args.paths.split(","))
    extra_env = dict(item.split("=", 1) for item in args.set)
    if args.batch_size:
        extra_env["EMOQ_INFERENCE_BATCH_SIZE"] = str(args.batch_size)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="emoq-throughput-") as tmp:
        folder = Path(tmp)
        (folder / "clips").mkdir()
        paths = load_clips(args.clips, args.long_seconds, folder / "clips")
        print(
            f"{len(paths)} files, {audio_seconds(paths):.1f} s of audio, {os.cpu_count()} cores",
            file=sys.stderr,
        )
        models = {"shipped": SHIPPED}
        if "base" in args.models.split(","):
            (folder / "base").mkdir()
            models["base"] = base_size_checkpoint(folder / "base")
        for name in args.models.split(","):
            model = models[name]
            if "plain" in paths_wanted:
                rows.append(plain_loop(model, name, paths))
                print(table(rows), file=sys.stderr)  # so far, in case a later path fails
            if "plain1" in paths_wanted:
                rows.append(plain_loop(model, name, paths, threads=1))
                print(table(rows), file=sys.stderr)
            for precision in args.precisions.split(","):
                if not paths_wanted & {"batch", "clients"}:
                    break
                run_folder = folder / f"{name}-{precision}"
                run_folder.mkdir()
                with emoq_run(run_folder, model, precision, extra_env) as (url, pid):
                    warm_up(url, paths[:4])
                    if "batch" in paths_wanted:
                        rows.append(emoq_batch(url, pid, paths, name, precision))
                        print(table(rows), file=sys.stderr)  # so far, in case a later path fails
                    if "clients" in paths_wanted:
                        rows.append(emoq_clients(url, pid, paths, name, precision, args.clients))
                        print(table(rows), file=sys.stderr)  # so far, in case a later path fails
    print(table(rows))
    print(
        "CPU busy: CPU time of the path's processes over wall time x cores; audio-s per CPU-s: the same "
        "audio over that CPU time, the path's cost whatever else ran; p50/p95: per job, from submission "
        "(EmoQ: created_at) to its answer; fidelity against the same path at fp32."
    )


if __name__ == "__main__":
    main()
