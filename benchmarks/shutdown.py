"""How long `emoq run` takes to stop on SIGTERM, sent to its whole process group or to the supervisor only.

    .venv/bin/python benchmarks/shutdown.py [--model PATH_OR_ID] [--rounds 1]

Each round starts `emoq run` in a fresh data folder (SQLite, filesystem broker) as the leader of its own
process group, as `timeout` or a service manager would, waits until a model is served, submits a long
clip so a job is running when the signal comes, sends SIGTERM, and prints the seconds until the
supervisor exited, its exit code, the job's status afterwards and whether anything had to be killed or a
model was loaded while stopping.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from shared.config import get_settings

RATE = 16000
KILLED = "did not stop in time"
MODEL_LOADED = '"model loaded"'


@dataclass
class Stopped:
    seconds: float
    returncode: int
    job_status: str
    killed: bool
    loads_while_stopping: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_clip(path: Path, seconds: float) -> None:
    t = np.arange(round(seconds * RATE)) / RATE
    sf.write(path, (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32), RATE)


def start(folder: Path, model: str, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EMOQ_")},
        "EMOQ_DATA_DIR": str(folder / "var"),
        "EMOQ_MODEL": model,
        "EMOQ_API_PORT": str(port),
        "EMOQ_AUTH_DISABLED": "true",
        "EMOQ_LOG_FORMAT": "json",
        # Small windows, one per forward pass: the clip runs long enough to be in flight at the signal.
        "EMOQ_WINDOW_SECONDS": "0.05",
        "EMOQ_INFERENCE_BATCH_SIZE": "1",
        "EMOQ_WORKER_METRICS_PORT": "0",
        "EMOQ_WEBHOOKS_METRICS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    log = folder / "run.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process, log


def wait_serving(client: httpx.Client, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200 and client.get("/v1/models").json()["models"]:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit("emoq run did not become ready")


def one_round(model: str, to_group: bool) -> Stopped:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        port = free_port()
        process, log = start(folder, model, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            try:
                wait_serving(client)
                clip = folder / "long.wav"
                write_clip(clip, 120.0)
                with clip.open("rb") as audio:
                    job_id = client.post("/v1/jobs", files={"file": (clip.name, audio)}).json()["id"]
                deadline = time.monotonic() + 60
                while client.get(f"/v1/jobs/{job_id}").json()["status"] != "processing":
                    if time.monotonic() > deadline:
                        raise SystemExit("the job never started")
                    time.sleep(0.05)
                mark = log.stat().st_size
                started = time.monotonic()
                if to_group:
                    os.killpg(process.pid, signal.SIGTERM)
                else:
                    process.send_signal(signal.SIGTERM)
                returncode = process.wait(timeout=120)
                seconds = time.monotonic() - started
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        text = log.read_text(errors="replace")
        status = job_status(folder, job_id)
        return Stopped(
            seconds=seconds,
            returncode=returncode,
            job_status=status,
            killed=KILLED in text[mark:],
            loads_while_stopping=text[mark:].count(MODEL_LOADED),
        )


def job_status(folder: Path, job_id: str) -> str:
    import sqlite3

    with sqlite3.connect(folder / "var" / "emoq.db") as db:
        row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id.replace("-", ""),)).fetchone()
        if row is None:
            row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return str(row[0]) if row else "missing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=get_settings().model)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for round_ in range(args.rounds):
        for to_group, label in ((True, "process group"), (False, "supervisor only")):
            stopped = one_round(args.model, to_group)
            print(json.dumps({"round": round_ + 1, "sigterm_to": label, **stopped.__dict__}), flush=True)


if __name__ == "__main__":
    main()
