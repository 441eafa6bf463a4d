"""Several models, one service, at the API: `model=` at submit, and GET /v1/models. No worker runs: a
job's queue is read from the filesystem broker. Jobs answered by each model: tests/integration/test_models.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings
from tests.api.conftest import announce_served_model, queued_messages, submit
from tests.audio_factory import write_tone


@pytest.fixture
def two_models(embedded: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(embedded, "models", f"fast={embedded.model},accurate={embedded.model}")
    return embedded


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone.wav", fmt="wav", seconds=0.5)


def queues_sent_to(settings: Settings) -> list[str]:
    # The filesystem transport names each message file <time>_<id>.<queue>.msg.
    return sorted(path.name.split(".", 1)[1].removesuffix(".msg") for path in queued_messages(settings))


def test_a_job_goes_to_the_queue_of_the_model_it_asks_for_and_says_which(
    two_models: Settings, client: TestClient, tone_wav: Path
) -> None:
    accurate = submit(client, tone_wav, model="accurate").json()
    default = submit(client, tone_wav).json()
    by_url = client.post("/v1/jobs", json={"audio_url": "https://example.com/a.wav", "model": "accurate"})

    assert (accurate["model"], default["model"], by_url.json()["model"]) == ("accurate", "fast", "accurate")
    assert client.get(f"/v1/jobs/{accurate['id']}").json()["model"] == "accurate"
    assert queues_sent_to(two_models) == ["inference.accurate", "inference.accurate", "inference.fast"]


def test_a_batch_s_jobs_go_to_its_model_s_bulk_queue(
    two_models: Settings, client: TestClient, tone_wav: Path
) -> None:
    with tone_wav.open("rb") as audio:
        created = client.post(
            "/v1/batches",
            files=[("files", ("a.wav", audio.read())), ("files", ("b.wav", b"x"))],
            data={"model": "accurate"},
        )
    by_url = client.post("/v1/batches", json={"audio_urls": ["https://example.com/a.wav"], "model": "fast"})

    assert created.status_code == 202 and by_url.status_code == 202
    # b.wav is not audio: its job is born failed and sent nowhere.
    assert queues_sent_to(two_models) == ["bulk.accurate", "bulk.fast"]
    jobs = client.get(f"/v1/batches/{created.json()['id']}").json()["jobs"]
    assert {job["model"] for job in jobs} == {"accurate"}


def test_a_batch_s_csv_has_a_column_per_label_of_the_model_it_asked_for(
    two_models: Settings, client: TestClient, tone_wav: Path
) -> None:
    announce_served_model(["angry", "calm"], name="fast", model_id="small")
    announce_served_model(["happy", "sad"], name="accurate", model_id="big")
    created = client.post(
        "/v1/batches", files=[("files", ("a.wav", tone_wav.read_bytes()))], data={"model": "accurate"}
    ).json()

    table = client.get(f"/v1/batches/{created['id']}/results", headers={"Accept": "text/csv"}).text

    header = table.splitlines()[0].split(",")
    assert [column for column in header if column in {"angry", "calm", "happy", "sad"}] == ["happy", "sad"]


def test_without_emoq_models_jobs_keep_the_single_model_queue_names(
    embedded: Settings, client: TestClient, tone_wav: Path
) -> None:
    assert submit(client, tone_wav).json()["model"] == "default"
    assert submit(client, tone_wav, model="default").status_code == 202
    assert queues_sent_to(embedded) == ["inference", "inference"]


@pytest.mark.parametrize(
    ("path", "send"),
    [
        ("/v1/jobs", "form"),
        ("/v1/jobs", "json"),
        ("/v1/batches", "form"),
        ("/v1/batches", "json"),
        ("/predict", "form"),
    ],
)
def test_an_unknown_model_is_a_422_problem_listing_the_known_names(
    two_models: Settings, client: TestClient, tone_wav: Path, path: str, send: str
) -> None:
    field = "files" if path == "/v1/batches" else "file"
    if send == "json":
        urls = (
            {"audio_urls": ["https://example.com/a.wav"]}
            if field == "files"
            else {"audio_url": "https://example.com/a.wav"}
        )
        refused = client.post(path, json={**urls, "model": "huge"})
    else:
        refused = client.post(path, files={field: ("a.wav", tone_wav.read_bytes())}, data={"model": "huge"})

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["code"], problem["models"]) == ("unknown_model", ["fast", "accurate"])
    assert "huge" in problem["detail"]
    assert queued_messages(two_models) == []
    assert client.get("/v1/jobs").json()["items"] == [], "nothing was created"


def test_models_are_listed_default_first_with_labels_window_precision_and_display(
    two_models: Settings, client: TestClient
) -> None:
    announce_served_model(["angry", "contempt"], name="accurate", model_id="big")

    fast, accurate = client.get("/v1/models").json()["models"]

    assert (fast["name"], fast["default"], fast["served"], fast["labels"]) == ("fast", True, False, [])
    assert (accurate["name"], accurate["default"], accurate["served"]) == ("accurate", False, True)
    assert (accurate["id"], accurate["precision"], accurate["window_seconds"]) == ("big", "fp32", 2.0)
    assert accurate["labels"] == ["angry", "contempt"]
    assert accurate["display"]["angry"] == {"color": "#d1453b", "emoji": "😠", "mood": "intense"}
    assert accurate["display"]["contempt"]["emoji"] is None
