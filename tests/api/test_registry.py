"""Registered model versions at the API: listed beside the served models, read, promoted, deleted, and
asked for at submit, each by its owner only. No worker runs: jobs on versions are run by
tests/integration/test_model_versions.py."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.auth import service as keys
from shared.config import Settings
from shared.db import session_scope
from shared.storage import get_storage
from tests.api.conftest import bearer, new_key, submit
from tests.audio_factory import write_tone
from tests.model_versions import register_version


@pytest.fixture
def tone_wav(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone.wav", fmt="wav", seconds=0.5)


def key_with_version(tiny_model: Path, name: str, *, promoted: bool = False) -> tuple[dict[str, str], str]:
    """A new key and a version it owns."""
    key = new_key(name)
    with session_scope() as session:
        caller = keys.authenticate(session, key)
        assert caller is not None
        version = register_version(
            session,
            get_storage(),
            tiny_model,
            owner_key_id=caller.key_id,
            name=f"{name}-model",
            promoted=promoted,
        )
        return bearer(key), str(version.id)


def test_a_key_lists_and_reads_its_versions_beside_the_served_models(
    secured: Settings, secured_client: TestClient, tiny_model: Path
) -> None:
    alice, version_id = key_with_version(tiny_model, "alice")
    bob, bobs = key_with_version(tiny_model, "bob")

    listed = secured_client.get("/v1/models", headers=alice).json()
    read = secured_client.get(f"/v1/models/{version_id}", headers=alice)

    assert [model["name"] for model in listed["models"]] == ["default"]
    [version] = listed["versions"]
    assert (version["id"], version["name"], version["default"]) == (version_id, "alice-model", False)
    assert version["metrics"] == {"uar": 0.61, "macro_f1": 0.58}, "the summary keeps the single figures"
    assert len(version["revision"]) == 64 and version["labels"] == ["angry", "happy", "neutral", "sad"]
    assert read.status_code == 200
    assert read.json()["evaluation"]["confusion"]["labels"] == version["labels"]
    assert read.json()["training_data"]["dataset"] == "tones"
    assert [v["id"] for v in secured_client.get("/v1/models", headers=bob).json()["versions"]] == [bobs]


def test_another_keys_version_does_not_exist_for_it(
    secured: Settings, secured_client: TestClient, tiny_model: Path, tone_wav: Path
) -> None:
    _, version_id = key_with_version(tiny_model, "alice")
    bob, _ = key_with_version(tiny_model, "bob")

    for response in (
        secured_client.get(f"/v1/models/{version_id}", headers=bob),
        secured_client.post(f"/v1/models/{version_id}/promote", headers=bob),
        secured_client.delete(f"/v1/models/{version_id}", headers=bob),
        secured_client.get(f"/v1/models/{uuid.uuid4()}", headers=bob),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "model_not_found"
    # At submit, as a name nobody serves is.
    refused = submit(secured_client, tone_wav, headers=bob, model=version_id)
    assert (refused.status_code, refused.json()["code"]) == (422, "unknown_model")


def test_a_job_asks_for_a_version_by_id_and_runs_on_the_default_models_queue(
    embedded: Settings, client: TestClient, tiny_model: Path, tone_wav: Path
) -> None:
    with session_scope() as session:
        version_id = str(register_version(session, get_storage(), tiny_model).id)

    job = submit(client, tone_wav, model=version_id).json()
    by_url = client.post("/v1/jobs", json={"audio_url": "https://example.com/a.wav", "model": version_id})
    plain = submit(client, tone_wav).json()
    batch = client.post(
        "/v1/batches", files=[("files", ("a.wav", tone_wav.read_bytes()))], data={"model": version_id}
    )

    assert (job["model"], job["model_version_id"]) == ("default", version_id)
    assert by_url.json()["model_version_id"] == version_id
    assert (plain["model"], plain["model_version_id"]) == ("default", None)
    jobs = client.get(f"/v1/batches/{batch.json()['id']}").json()["jobs"]
    assert [job["model_version_id"] for job in jobs] == [version_id]
    # Before any result, the CSV's label columns are the version's (no served model has reported).
    header = client.get(f"/v1/batches/{batch.json()['id']}/results", headers={"Accept": "text/csv"}).text
    assert all(label in header.splitlines()[0].split(",") for label in ("angry", "happy", "neutral", "sad"))
    refused = submit(client, tone_wav, model="not-a-model")
    assert (refused.status_code, refused.json()["code"]) == (422, "unknown_model")


def test_a_promoted_version_is_the_owners_default_until_cleared(
    secured: Settings, secured_client: TestClient, tiny_model: Path, tone_wav: Path
) -> None:
    alice, first = key_with_version(tiny_model, "alice")
    bob, _ = key_with_version(tiny_model, "bob")
    with session_scope() as session:
        caller = keys.authenticate(session, alice["Authorization"].split()[1])
        assert caller is not None
        second = str(register_version(session, get_storage(), tiny_model, owner_key_id=caller.key_id).id)

    promoted = secured_client.post(f"/v1/models/{first}/promote", headers=alice)
    on_first = submit(secured_client, tone_wav, headers=alice).json()
    secured_client.post(f"/v1/models/{second}/promote", headers=alice)
    on_second = submit(secured_client, tone_wav, headers=alice).json()
    listed = secured_client.get("/v1/models", headers=alice).json()
    bobs_job = submit(secured_client, tone_wav, headers=bob).json()

    assert promoted.status_code == 200 and promoted.json()["default"] is True
    assert (on_first["model_version_id"], on_second["model_version_id"]) == (first, second)
    assert {v["id"]: v["default"] for v in listed["versions"]} == {first: False, second: True}
    assert listed["models"][0]["default"] is False, "the served default is no longer alice's default"
    assert bobs_job["model_version_id"] is None, "another key's promotion changes nothing for bob"

    cleared = secured_client.delete("/v1/models/default", headers=alice)
    after = submit(secured_client, tone_wav, headers=alice).json()
    assert cleared.status_code == 204 and after["model_version_id"] is None
    assert secured_client.get("/v1/models", headers=alice).json()["models"][0]["default"] is True


def test_a_version_a_queued_job_needs_cannot_be_deleted_until_the_job_ends(
    embedded: Settings, client: TestClient, tiny_model: Path, tone_wav: Path
) -> None:
    with session_scope() as session:
        version = register_version(session, get_storage(), tiny_model)
        version_id, key = str(version.id), version.storage_key
    job = submit(client, tone_wav, model=version_id).json()

    refused = client.delete(f"/v1/models/{version_id}")
    assert (refused.status_code, refused.json()["code"]) == (409, "model_in_use")
    assert get_storage().exists(key)

    client.delete(f"/v1/jobs/{job['id']}")  # cancelled: it needs the version no more
    assert client.delete(f"/v1/models/{version_id}").status_code == 204
    assert client.get(f"/v1/models/{version_id}").status_code == 404
    assert not get_storage().exists(key), "the archive goes with the version"
    assert client.get(f"/v1/jobs/{job['id']}").json()["model_version_id"] is None
    assert client.get("/v1/models").json()["versions"] == []
