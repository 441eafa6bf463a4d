"""The README's first webhook, pasted as a reader would, against `emoq run` as `make run` starts it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.integration.stack import Stack, free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def readme_webhook_example() -> str:
    section = (ROOT / "README.md").read_text().split("## A first webhook", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]


def test_the_readme_webhook_round_trip_delivers_a_signed_event(tmp_path: Path, tiny_model: Path) -> None:
    # `make run`: auth off on loopback, and nothing else set; no webhook secret, no private hosts allowed.
    env = {
        "EMOQ_AUTH_DISABLED": "true",
        "EMOQ_DATA_DIR": str(tmp_path / "var"),
        "EMOQ_MODEL": str(tiny_model),
    }
    env |= {
        f"EMOQ_{name}": str(free_port())
        for name in ("WORKER_METRICS_PORT", "WEBHOOKS_METRICS_PORT", "TRAINING_METRICS_PORT")
    }
    env["EMOQ_METRICS_PORT"] = str(free_port())
    stack = Stack(tmp_path, env)
    for name in [name for name in os.environ if name.startswith("EMOQ_") and name not in env]:
        stack.env.pop(name, None)
    receiver_port = free_port()
    script = (
        readme_webhook_example()
        .replace("127.0.0.1:8000", f"127.0.0.1:{stack.port}")
        .replace("9000", str(receiver_port))
        .replace("call.wav", str(write_tone(tmp_path / "call.wav", fmt="wav", seconds=0.6)))
    )
    # The reader's shell: in the repository, with its own environment (not `make run`'s), only the
    # data folder shared, as the default ./var is.
    shell_env = {k: v for k, v in os.environ.items() if not k.startswith("EMOQ_")}
    shell_env["EMOQ_DATA_DIR"] = env["EMOQ_DATA_DIR"]
    output = tmp_path / "reader.out"
    stack.start("emoq-run", "run")
    reader = None
    try:
        stack.wait_ready()
        with output.open("w") as out:
            reader = subprocess.Popen(
                ["bash", "-e", "-c", script],
                cwd=ROOT,
                env=shell_env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while "job.succeeded" not in output.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        printed = output.read_text()
        [job_id] = re.findall(r'"id":\s*"([0-9a-f-]{36})"', printed)[:1]
        assert f"job.succeeded {job_id}" in printed, printed + stack.logs()
        # The receiver answers 204 only to a request whose signature it verified.
        attempts = stack.client.get(f"/v1/jobs/{job_id}/deliveries").json()["attempts"]
        assert attempts[0]["status_code"] == 204
    finally:
        if reader is not None:
            os.killpg(reader.pid, signal.SIGTERM)
            reader.wait(10)
        stack.close()
    # Printed once as `emoq run` started, with where it lives; never in a log line.
    secret = (tmp_path / "var" / "webhook-secret").read_text().strip()
    logs = stack.logs(tail=None)
    assert logs.count(secret) == 1
    [announcement] = [line for line in logs.splitlines() if secret in line]
    assert announcement.startswith("Webhooks are signed with the development secret")
    assert str((tmp_path / "var" / "webhook-secret").resolve()) in logs
