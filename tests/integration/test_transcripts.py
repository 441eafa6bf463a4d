"""transcribe=true through the real service: API -> queue -> worker running the tiny Whisper through the
transformers pipeline -> database -> API, JSON, NDJSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.integration.conftest import RunningService
from tests.utterance_checks import assert_utterances_fit

pytestmark = pytest.mark.integration

# The worker loads the recogniser on the first job that asks for it.
FIRST_TRANSCRIPT_SECONDS = 180


def test_a_job_sent_with_transcribe_returns_its_utterances_with_their_emotion(
    service: RunningService, tmp_path: Path
) -> None:
    clip = write_tone(tmp_path / "voice.wav", fmt="wav", seconds=4.0, sample_rate=44100)

    accepted = service.stack.submit(clip, transcribe="true")
    assert accepted.status_code == 202, accepted.text
    job = service.stack.wait_for(accepted.json()["id"], timeout=FIRST_TRANSCRIPT_SECONDS)
    plain = service.stack.wait_for(service.stack.submit(clip).json()["id"])

    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["segments"][-1]["end_s"] == pytest.approx(4.0, abs=0.05)
    assert_utterances_fit(result["utterances"], result["segments"])
    assert service.stack.job(job["id"], segments="false")["result"]["utterances"] == result["utterances"]
    assert plain["status"] == "succeeded" and plain["result"]["utterances"] is None


def test_a_batch_sent_with_transcribe_carries_them_in_ndjson_and_its_text_in_csv(
    service: RunningService, tmp_path: Path
) -> None:
    clips = [write_tone(tmp_path / f"{name}.wav", fmt="wav", seconds=2.0) for name in ("a", "b")]
    created = service.stack.client.post(
        "/v1/batches",
        files=[("files", (path.name, path.read_bytes())) for path in clips],
        data={"transcribe": "true"},
    ).json()

    jobs = [service.stack.wait_for(job_id, timeout=FIRST_TRANSCRIPT_SECONDS) for job_id in created["job_ids"]]
    results = service.stack.client.get(f"/v1/batches/{created['id']}/results")
    table = service.stack.client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})

    assert [job["status"] for job in jobs] == ["succeeded"] * 2, jobs
    lines = [json.loads(line) for line in results.text.splitlines()]
    for line, job in zip(lines, jobs, strict=True):
        assert line["result"]["utterances"] == job["result"]["utterances"]
        assert_utterances_fit(line["result"]["utterances"], job["result"]["segments"])
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["transcript"] for row in rows] == [
        " ".join(u["text"] for u in job["result"]["utterances"]) for job in jobs
    ]
