"""Trainings through the real app on the embedded database: what a request may ask for, defaults filled
in, owners, cancellation and listing. Training itself runs in tests/integration and tests/faults."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from shared.auth import service as keys
from shared.auth.scopes import Scope
from shared.config import Settings
from shared.db import session_scope
from shared.models import ModelVersion
from shared.trainings import repository
from tests.api.conftest import bearer, new_key, queued_messages
from tests.dataset_factory import write_corpus, zip_folder


def upload_dataset(
    client: TestClient, folder: Path, *, speakers: int = 5, headers: dict[str, str] | None = None
) -> str:
    archive = zip_folder(write_corpus(folder, speakers=speakers))
    files = {"archive": ("corpus.zip", archive, "application/zip")}
    response = client.post("/v1/datasets", files=files, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def training_messages(settings: Settings) -> list[str]:
    """The training ids of the trainings.train messages waiting in the filesystem broker."""
    ids = []
    for path in queued_messages(settings):
        message = json.loads(path.read_text())
        if message["headers"]["task"] == "trainings.train":
            ids.append(json.loads(message["headers"]["argsrepr"].replace("'", '"'))[0])
    return ids


def test_a_training_is_queued_with_its_defaults_filled_in(
    client: TestClient, embedded: Settings, tmp_path: Path
) -> None:
    dataset_id = upload_dataset(client, tmp_path / "corpus")

    created = client.post("/v1/trainings", json={"dataset_id": dataset_id, "seed": 3})

    assert created.status_code == 202, created.text
    body = created.json()
    assert created.headers["Location"] == f"/v1/trainings/{body['id']}"
    assert body["status"] == "queued" and body["progress"] == 0.0 and body["epochs"] == []
    assert body["model_version_id"] is None and body["evaluation"] is None and body["confusion_url"] is None
    params = body["params"]
    assert params["epochs"] == embedded.training_default_epochs
    assert params["name"] == "corpus" and params["seed"] == 3
    # About a fifth of the five speakers, drawn with the seed: the same draw every time.
    assert len(params["test_speakers"]) == 1 and params["test_speakers"][0] in {f"s{n}" for n in range(5)}
    again = client.post("/v1/trainings", json={"dataset_id": dataset_id, "seed": 3}).json()
    assert again["params"]["test_speakers"] == params["test_speakers"]
    assert client.get(f"/v1/trainings/{body['id']}").json() == body
    # Sent after the commit to the training queue, one message per training.
    assert sorted(training_messages(embedded)) == sorted([body["id"], again["id"]])


def test_what_a_training_may_ask_for(client: TestClient, embedded: Settings, tmp_path: Path) -> None:
    dataset_id = upload_dataset(client, tmp_path / "corpus")
    lone = upload_dataset(client, tmp_path / "lone", speakers=1)

    def refused(status: int, **body: object) -> str:
        response = client.post("/v1/trainings", json={"dataset_id": dataset_id, **body})
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        return response.json()["code"]

    assert refused(404, dataset_id=str(uuid.uuid4())) == "dataset_not_found"
    assert refused(422, epochs=embedded.training_max_epochs + 1) == "too_many_epochs"
    assert refused(422, base_model="nonesuch") == "unknown_base_model"
    assert refused(422, base_model=str(uuid.uuid4())) == "unknown_base_model"
    assert refused(422, test_speakers=["s9"]) == "unknown_speaker"
    assert refused(422, test_speakers=[f"s{n}" for n in range(5)]) == "invalid_test_speakers"
    assert refused(422, dataset_id=lone) == "too_few_speakers"
    assert refused(422, epochs=0) == "validation_error"
    accepted = client.post(
        "/v1/trainings",
        json={
            "dataset_id": dataset_id,
            "base_model": "default",
            "epochs": 2,
            "test_speakers": ["s1", "s3"],
            "name": "mine",
        },
    )
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["base_model"] == "default"
    assert body["params"] == {
        "name": "mine",
        "epochs": 2,
        "batch_size": 32,
        "learning_rate": 0.001,
        "seed": 0,
        "test_speakers": ["s1", "s3"],
    }


def test_cancel_a_queued_training_and_a_finished_one_is_a_conflict(
    client: TestClient, embedded: Settings, tmp_path: Path
) -> None:
    dataset_id = upload_dataset(client, tmp_path / "corpus")
    training = client.post("/v1/trainings", json={"dataset_id": dataset_id}).json()
    path = f"/v1/trainings/{training['id']}"

    cancelled = client.delete(path)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"] is not None
    again = client.delete(path)
    assert again.status_code == 409 and again.json()["code"] == "training_finished"
    assert client.get(f"{path}/confusion.png").json()["code"] == "no_evaluation"
    assert client.delete(f"/v1/trainings/{uuid.uuid4()}").json()["code"] == "training_not_found"


def test_a_dataset_is_kept_while_a_training_reads_it(client: TestClient, tmp_path: Path) -> None:
    dataset_id = upload_dataset(client, tmp_path / "corpus")
    training = client.post("/v1/trainings", json={"dataset_id": dataset_id}).json()

    refused = client.delete(f"/v1/datasets/{dataset_id}")

    assert refused.status_code == 409 and refused.json()["code"] == "dataset_in_use"
    assert client.get(f"/v1/datasets/{dataset_id}").status_code == 200
    client.delete(f"/v1/trainings/{training['id']}")
    assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204


def test_trainings_and_model_versions_belong_to_their_key(
    secured_client: TestClient, secured: Settings, tmp_path: Path
) -> None:
    alice, bob = bearer(new_key("alice")), bearer(new_key("bob"))
    alices_dataset = upload_dataset(secured_client, tmp_path / "a", headers=alice)
    bobs_dataset = upload_dataset(secured_client, tmp_path / "b", headers=bob)
    alices = [
        secured_client.post("/v1/trainings", json={"dataset_id": alices_dataset}, headers=alice).json()["id"]
        for _ in range(3)
    ]

    # Another key's dataset, training or model version is not found, as if it did not exist.
    foreign = secured_client.post("/v1/trainings", json={"dataset_id": alices_dataset}, headers=bob)
    assert foreign.status_code == 404 and foreign.json()["code"] == "dataset_not_found"
    path = f"/v1/trainings/{alices[0]}"
    assert secured_client.get(path, headers=bob).json()["code"] == "training_not_found"
    assert secured_client.delete(path, headers=bob).status_code == 404
    assert secured_client.get("/v1/trainings", headers=bob).json() == {"items": [], "next_cursor": None}
    alices_version = register_version(secured_client, path, alice)
    base = {"dataset_id": bobs_dataset, "base_model": str(alices_version)}
    refused = secured_client.post("/v1/trainings", json=base, headers=bob)
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_base_model"
    # Stored in the canonical spelling, whatever the client's: a deletion of the version finds it.
    own = {"dataset_id": alices_dataset, "base_model": str(alices_version).upper()}
    fine_tuning = secured_client.post("/v1/trainings", json=own, headers=alice)
    assert fine_tuning.status_code == 202 and fine_tuning.json()["base_model"] == str(alices_version)
    in_use = secured_client.delete(f"/v1/models/{alices_version}", headers=alice)
    assert in_use.status_code == 409 and in_use.json()["code"] == "model_in_use"

    first = secured_client.get("/v1/trainings", params={"limit": 2}, headers=alice).json()
    second = secured_client.get(
        "/v1/trainings", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice
    ).json()
    listed = [item["id"] for item in first["items"] + second["items"]]
    assert len(listed) == 4 and set(alices) < set(listed) and second["next_cursor"] is None

    reader = bearer(reading_key())
    denied = secured_client.post("/v1/trainings", json={"dataset_id": alices_dataset}, headers=reader)
    assert denied.status_code == 403


def register_version(client: TestClient, training_path: str, headers: dict[str, str]) -> uuid.UUID:
    """A model version owned by the training's key, as a finished training registers one."""
    training_id = uuid.UUID(client.get(training_path, headers=headers).json()["id"])
    with session_scope() as session:
        training = repository.get(session, training_id)
        assert training is not None
        version = ModelVersion(
            id=uuid.uuid4(),
            owner_key_id=training.owner_key_id,
            name="v",
            revision="0" * 64,
            labels=["angry", "sad"],
            metrics={},
            training_data={},
            storage_key="0" * 32,
            size_bytes=1,
        )
        session.add(version)
        return version.id


def reading_key() -> str:
    with session_scope() as session:
        return keys.create_key(session, "reader", frozenset({Scope.JOBS_READ})).key
