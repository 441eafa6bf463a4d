"""The S3 store against a real S3 API (moto's server over HTTP): streaming multipart uploads that appear
whole or not at all, the size limit, reading back, deleting, and 503 ``storage_unavailable`` when the
bucket is unreachable or refuses writes."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from shared.config import Settings
from shared.errors import ServiceUnavailable, UploadTooLarge
from shared.storage import get_storage, storage_key
from shared.storage.s3 import PART_BYTES, S3Storage
from tests.audio_factory import write_tone
from tests.s3_server import MotoServer, object_names

CHUNK = 64 * 1024


def settings_for(server: MotoServer, bucket: str) -> Settings:
    return Settings(**{k.removeprefix("EMOQ_").lower(): v for k, v in server.env(bucket).items()})


@pytest.fixture
def store(s3_server: MotoServer) -> S3Storage:
    return S3Storage.from_settings(settings_for(s3_server, s3_server.new_bucket()))


def pending_uploads(server: MotoServer, store: S3Storage) -> list[dict[str, object]]:
    return server.client().list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])


def test_large_upload_streams_in_parts_and_appears_only_when_committed(
    store: S3Storage, s3_server: MotoServer
) -> None:
    key = storage_key(uuid.uuid4())
    payload = bytes(range(256)) * ((2 * PART_BYTES + 12345) // 256)
    writer = store.writer(key, max_bytes=len(payload))

    for start in range(0, len(payload), CHUNK):
        writer.write(payload[start : start + CHUNK])
    assert not store.exists(key), "nothing is visible before the commit"
    [upload] = pending_uploads(s3_server, store)
    assert upload["Key"] == store.object_name(key) == f"audio/{key}"
    blob = writer.commit()

    assert blob.size == len(payload) and blob.sha256 == hashlib.sha256(payload).hexdigest()
    assert pending_uploads(s3_server, store) == []
    assert store.exists(key)
    with store.local_path(key) as path:
        assert path.read_bytes() == payload
    assert not path.exists(), "the downloaded copy is removed after use"
    store.delete(key)
    assert not store.exists(key)


def test_small_upload_is_one_put(store: S3Storage, s3_server: MotoServer) -> None:
    key = storage_key(uuid.uuid4())
    writer = store.writer(key, max_bytes=100)
    for chunk in (b"abc", b"defg"):
        writer.write(chunk)

    blob = writer.commit()

    assert (blob.size, blob.sha256) == (7, hashlib.sha256(b"abcdefg").hexdigest())
    assert pending_uploads(s3_server, store) == []
    with store.local_path(key) as path:
        assert path.read_bytes() == b"abcdefg"


def test_over_the_limit_aborts_the_multipart_upload(store: S3Storage, s3_server: MotoServer) -> None:
    key = storage_key(uuid.uuid4())
    writer = store.writer(key, max_bytes=PART_BYTES + CHUNK)
    with pytest.raises(UploadTooLarge):
        for _ in range(PART_BYTES // CHUNK + 2):
            writer.write(b"\0" * CHUNK)

    assert not store.exists(key)
    assert pending_uploads(s3_server, store) == []


def test_abort_leaves_nothing(store: S3Storage, s3_server: MotoServer) -> None:
    key = storage_key(uuid.uuid4())
    writer = store.writer(key, max_bytes=4 * PART_BYTES)
    writer.write(b"\1" * (PART_BYTES + 1))

    writer.abort()

    assert not store.exists(key)
    assert pending_uploads(s3_server, store) == []


def test_missing_object_reads_as_missing(store: S3Storage) -> None:
    key = storage_key(uuid.uuid4())

    assert not store.exists(key)
    with pytest.raises(FileNotFoundError), store.local_path(key):
        pass
    store.delete(key)  # deleting what is gone is not an error


def test_keys_cannot_become_object_names(store: S3Storage) -> None:
    for key in ("../../etc/passwd", "a/b", "", "Z" * 32):
        with pytest.raises(ValueError):
            store.writer(key, max_bytes=10)


@pytest.mark.parametrize("where", ["missing bucket", "nothing listening"])
def test_unreachable_or_refusing_bucket_is_storage_unavailable(s3_server: MotoServer, where: str) -> None:
    settings = settings_for(s3_server, f"emoq-absent-{uuid.uuid4().hex[:8]}")
    if where == "nothing listening":
        from tests.integration.stack import free_port

        settings.s3_endpoint_url = f"http://127.0.0.1:{free_port()}"
    store = S3Storage.from_settings(settings)
    writer = store.writer(storage_key(uuid.uuid4()), max_bytes=100)
    writer.write(b"abc")

    with pytest.raises(ServiceUnavailable) as excinfo:
        writer.commit()

    assert excinfo.value.code == "storage_unavailable"


def test_api_answers_503_when_the_bucket_refuses_writes(
    embedded_s3: Settings, s3_server: MotoServer, tmp_path: Path
) -> None:
    bucket = embedded_s3.storage_url.removeprefix("s3://").split("/")[0]
    s3_server.client().delete_bucket(Bucket=bucket)
    clip = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)

    with TestClient(create_app()) as client, clip.open("rb") as audio:
        response = client.post("/v1/jobs", files={"file": ("a.wav", audio)})

    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "storage_unavailable"


def test_jobs_go_through_the_bucket_and_leave_nothing(embedded_s3: Settings, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)

    with TestClient(create_app()) as client, clip.open("rb") as audio:
        response = client.post("/v1/jobs", files={"file": ("a.wav", audio)})
        assert response.status_code == 202, response.text
        job_id = uuid.UUID(response.json()["id"])
        assert object_names(embedded_s3) == [f"audio/{job_id.hex}"]
        assert get_storage().exists(storage_key(job_id))
        assert client.delete(f"/v1/jobs/{job_id}").status_code == 200, "a queued job is cancelled"

    assert object_names(embedded_s3) == []
