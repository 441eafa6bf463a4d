"""The `emoq` command-line client against a running service, through the public API only."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.bad_audio import BAD_UPLOADS
from tests.integration.conftest import RunningService
from tests.integration.stack import free_port

pytestmark = pytest.mark.integration


def emoq(service_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMOQ_URL": service_url}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def url(service: RunningService) -> str:
    return f"http://127.0.0.1:{service.stack.port}"


def test_submit_and_wait_prints_sorted_scores(url: str, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "hello.wav", fmt="wav", seconds=0.8)

    done = emoq(url, "submit", str(clip), "--wait")

    assert done.returncode == 0, done.stderr
    job_id, name = done.stdout.splitlines()[0].split("\t")
    assert name == "hello.wav"
    scores = [float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("  ")]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    status = emoq(url, "status", job_id)
    assert json.loads(status.stdout)["status"] == "succeeded"


def test_submit_sends_every_file_and_exits_with_the_worst_outcome(url: str, tmp_path: Path) -> None:
    first = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)
    not_audio = BAD_UPLOADS[1].write(tmp_path)
    last = write_tone(tmp_path / "c.wav", fmt="wav", seconds=0.5)

    done = emoq(url, "submit", str(first), str(not_audio), str(last), "--wait")

    assert done.returncode == 2, "a file the server refused is the worst outcome"
    sent = [line.split("\t")[1] for line in done.stdout.splitlines() if "\t" in line]
    assert sent == ["a.wav", "c.wav"], "the files after the refused one are sent too"
    assert f"{not_audio}: undecodable_audio" in done.stderr
    results = [line.split(":")[0] for line in done.stdout.splitlines() if not line.startswith("  ")]
    assert [name for name in results if not name.count("\t")] == ["a.wav", "c.wav"]


def test_batch_wait_and_results_in_every_format(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    for i in range(3):
        write_tone(folder / f"call{i}.flac", fmt="flac", seconds=0.5)
    BAD_UPLOADS[0].write(folder)

    done = emoq(url, "batch", str(folder), "--wait")

    assert done.returncode == 1, "one file is not audio, so not every job succeeded"
    batch_id = done.stdout.split("\t")[0]
    assert json.loads(done.stdout.splitlines()[-1])["succeeded"] == 3
    table = emoq(url, "results", batch_id).stdout.splitlines()
    assert table[0].split("\t") == ["file", "status", "dominant", "score"] and len(table) == 5
    as_json = json.loads(emoq(url, "results", batch_id, "--format", "json").stdout)
    assert {row["status"] for row in as_json} == {"succeeded", "failed"}
    rows = list(csv.DictReader(io.StringIO(emoq(url, "results", batch_id, "--format", "csv").stdout)))
    assert sorted(row["file"] for row in rows) == sorted(p.name for p in folder.iterdir())


def test_exit_codes_scripts_can_rely_on(url: str, tmp_path: Path) -> None:
    not_audio = BAD_UPLOADS[1].write(tmp_path)

    assert emoq(url, "submit", str(not_audio)).returncode == 2
    assert emoq(url, "status", "00000000-0000-0000-0000-000000000000").returncode == 4
    assert emoq(f"http://127.0.0.1:{free_port()}", "status", "x").returncode == 3
