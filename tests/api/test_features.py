"""Asking for acoustic features: the flag a job and a batch accept, refuse and report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.batches.results import FEATURE_COLUMNS
from shared.config import Settings
from tests.api.conftest import stored_blobs, submit
from tests.audio_factory import write_tone


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "voice.wav", fmt="wav", seconds=1.0)


def test_features_are_off_unless_asked_for(client: TestClient, clip: Path) -> None:
    plain = submit(client, clip).json()
    asked = submit(client, clip, features="true").json()
    declined = submit(client, clip, features="false").json()

    assert (plain["features"], asked["features"], declined["features"]) == (False, True, False)
    assert client.get(f"/v1/jobs/{asked['id']}").json()["features"] is True


def test_a_job_by_url_asks_in_its_json_body(client: TestClient) -> None:
    job = client.post("/v1/jobs", json={"audio_url": "https://example.org/a.wav", "features": True})

    assert job.status_code == 202 and job.json()["features"] is True


@pytest.mark.parametrize("value", ["maybe", "yes", "2", "truee"])
def test_a_flag_that_is_not_true_or_false_is_refused(
    client: TestClient, embedded: Settings, clip: Path, value: str
) -> None:
    single = submit(client, clip, features=value)
    with clip.open("rb") as audio:
        batch = client.post("/v1/batches", files=[("files", (clip.name, audio))], data={"features": value})

    for response in (single, batch):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_features"
    assert stored_blobs(embedded) == []


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/batches"])
def test_a_json_flag_that_is_not_a_boolean_is_refused(client: TestClient, path: str) -> None:
    body = {"features": "maybe"} | (
        {"audio_url": "https://example.org/a.wav"}
        if path == "/v1/jobs"
        else {"audio_urls": ["https://example.org/a.wav"]}
    )
    response = client.post(path, json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_body"


def test_a_batch_asks_for_every_job_and_its_csv_gains_the_feature_columns(
    client: TestClient, clip: Path
) -> None:
    def batch(**fields: str) -> dict:
        with clip.open("rb") as audio:
            return client.post("/v1/batches", files=[("files", (clip.name, audio))] * 2, data=fields).json()

    def header(created: dict) -> list[str]:
        table = client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"})
        return next(csv.reader(io.StringIO(table.text)))

    asked, plain = batch(features="true"), batch()

    assert [client.get(f"/v1/jobs/{job}").json()["features"] for job in asked["job_ids"]] == [True, True]
    assert header(asked)[-len(FEATURE_COLUMNS) - 1 : -1] == FEATURE_COLUMNS
    assert FEATURE_COLUMNS[0] == "feature_pitch_median_hz" and FEATURE_COLUMNS[-1] == "feature_mfcc12"
    assert not set(FEATURE_COLUMNS) & set(header(plain)), "the default CSV is unchanged"
