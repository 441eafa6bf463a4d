"""Datasets through the real app on the embedded database: uploads checked file by file, refusals with
codes, the zip guard, owners, deletion with the stored audio, and object storage."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from shared.config import Settings
from shared.db import session_scope
from shared.models import Dataset, DatasetClip
from tests.api.conftest import bearer, new_key, stored_blobs
from tests.bad_audio import BAD_UPLOADS
from tests.conftest import require_shared_data
from tests.dataset_factory import write_corpus, zip_entries, zip_folder
from tests.s3_server import MotoServer


def upload_zip(
    client: TestClient, archive: bytes, *, headers: dict[str, str] | None = None, **fields: str
) -> httpx.Response:
    files = {"archive": ("corpus.zip", archive, "application/zip")}
    return client.post("/v1/datasets", files=files, data=fields, headers=headers)


BOUNDARY = "emoq-test-boundary"


def multipart_body(archive: bytes) -> bytes:
    """An archive part by hand, so it can be sent without a Content-Length."""
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="archive"; filename="c.zip"\r\n\r\n'
    return head.encode() + archive + f"\r\n--{BOUNDARY}--\r\n".encode()


def table_counts() -> tuple[int, int]:
    with session_scope() as session:
        return (
            session.scalar(select(func.count()).select_from(Dataset)) or 0,
            session.scalar(select(func.count()).select_from(DatasetClip)) or 0,
        )


def refused_codes(body: dict) -> dict[str, str]:
    return {item["path"]: item["code"] for item in body["refused"]}


def test_a_zip_is_checked_file_by_file_and_reports_what_it_refused(
    client: TestClient, embedded: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    not_audio = BAD_UPLOADS[1].write(tmp_path)
    (corpus / "noise.wav").write_bytes(not_audio.read_bytes())
    (corpus / "empty.wav").write_bytes(b"")
    with (corpus / "manifest.csv").open("a") as manifest:
        manifest.write("noise.wav,angry,s9\nempty.wav,sad,\nmissing.wav,sad,s1\nangry/angry0.wav,sad,s1\n")
        manifest.write("sad/sad0.wav,,s1\n../outside.wav,sad,s1\n")
    (corpus / "stray.txt").write_text("not named by the manifest")

    response = upload_zip(client, zip_folder(corpus), name="calls")

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/datasets/{body['id']}"
    assert body["name"] == "calls" and body["status"] == "ready"
    assert body["file_count"] == 10 and body["label_count"] == 2 and body["speaker_count"] == 2
    assert body["labels"] == [
        {"label": "angry", "files": 5, "duration_s": pytest.approx(2.5)},
        {"label": "sad", "files": 5, "duration_s": pytest.approx(2.5)},
    ]
    assert body["speakers"] == [{"speaker": "s0", "files": 6}, {"speaker": "s1", "files": 4}]
    assert body["duration_s"] == pytest.approx(5.0)
    assert refused_codes(body) == {
        "noise.wav": "undecodable_audio",
        "empty.wav": "empty_upload",
        "missing.wav": "missing_file",
        "angry/angry0.wav": "duplicate_path",
        "sad/sad0.wav": "duplicate_path",
        "../outside.wav": "invalid_path",
        "stray.txt": "not_in_manifest",
    }
    assert body["refused_count"] == 7
    assert len(stored_blobs(embedded)) == 10, "only accepted clips are stored, each under its own key"
    assert client.get(f"/v1/datasets/{body['id']}").json() == body


def test_files_with_a_manifest_part(client: TestClient, embedded: Settings, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", labels=("angry", "happy"))
    clips = sorted(corpus.rglob("*.wav"))
    manifest = "path,label\n" + "".join(f"{p.name},{p.parent.name}\n" for p in clips) + "ghost.wav,happy\n"
    files = [("files", (p.name, p.read_bytes(), "audio/wav")) for p in clips]

    as_field = client.post("/v1/datasets", files=files, data={"manifest": manifest})
    as_file = client.post("/v1/datasets", files=[*files, ("manifest", ("manifest.csv", manifest.encode()))])

    for response in (as_field, as_file):
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["file_count"] == 10 and body["speaker_count"] == 0
        assert {f["path"] for f in body["files"]} == {p.name for p in clips}
        assert refused_codes(body) == {"ghost.wav": "missing_file"}
    assert len(stored_blobs(embedded)) == 20, "the manifest sent as a file is not kept"


@pytest.mark.parametrize(
    ("labels", "per_label", "reasons"),
    [
        (("angry",), 5, ["too_few_labels"]),
        (("angry", "sad"), 4, ["label_short_of_files", "label_short_of_files"]),
    ],
)
def test_an_untrainable_dataset_is_refused_whole_and_nothing_is_kept(
    client: TestClient,
    embedded: Settings,
    tmp_path: Path,
    labels: tuple[str, ...],
    per_label: int,
    reasons: list[str],
) -> None:
    corpus = write_corpus(tmp_path / "corpus", labels=labels, per_label=per_label)

    response = upload_zip(client, zip_folder(corpus))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "dataset_unusable"
    assert [reason["code"] for reason in problem["reasons"]] == reasons
    assert stored_blobs(embedded) == [] and table_counts() == (0, 0)


def test_a_label_whose_files_are_all_refused_is_short_of_files(
    client: TestClient, embedded: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus", labels=("angry", "sad", "happy"))
    for clip in (corpus / "happy").iterdir():
        clip.write_bytes(b"RIFF not really")

    problem = upload_zip(client, zip_folder(corpus)).json()

    assert problem["code"] == "dataset_unusable"
    [reason] = problem["reasons"]
    assert reason["code"] == "label_short_of_files" and reason["label"] == "happy" and reason["files"] == 0
    assert set(refused_codes(problem).values()) == {"undecodable_audio"}
    assert stored_blobs(embedded) == []


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (b"PK\x03\x04 this is no zip", "invalid_archive"),
        (zip_entries({"a.wav": b"x"}), "no_manifest"),
        (zip_entries({"manifest.csv": b"file,emotion\na.wav,sad\n"}), "invalid_manifest"),
        (
            zip_entries({"manifest.csv": b"path,label\n", "DIR/manifest.csv": b"path,label\n"}),
            "invalid_manifest",
        ),
    ],
)
def test_a_bad_zip_or_manifest_is_a_problem(
    client: TestClient, embedded: Settings, archive: bytes, reason: str
) -> None:
    problem = upload_zip(client, archive).json()

    assert problem["status"] == 422 and problem["code"] == "dataset_unusable"
    assert [r["code"] for r in problem["reasons"]] == [reason]
    assert stored_blobs(embedded) == []


def test_zip_bombs_are_refused_from_the_directory_before_unpacking(
    client: TestClient, embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    bomb = zip_folder(corpus, extra={"angry/zeros.wav": bytes(50 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024, "fifty megabytes of zeros pack into kilobytes"

    ratio = upload_zip(client, bomb).json()
    monkeypatch.setattr(embedded, "max_dataset_bytes", 40 * 1024 * 1024)
    too_large = upload_zip(client, bomb).json()
    monkeypatch.setattr(embedded, "max_dataset_files", 5)
    too_many = upload_zip(client, zip_folder(corpus)).json()

    assert [r["code"] for r in ratio["reasons"]] == ["archive_compression_ratio"]
    assert [r["code"] for r in too_large["reasons"]] == ["archive_too_large"]
    assert [r["code"] for r in too_many["reasons"]] == ["archive_too_many_entries"]
    assert stored_blobs(embedded) == [] and table_counts() == (0, 0)


def test_nothing_is_written_where_an_archive_names(
    client: TestClient, embedded: Settings, tmp_path: Path
) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    clip = (corpus / "sad" / "sad0.wav").read_bytes()
    buffer = io.BytesIO(zip_folder(corpus))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("../escaped.wav", clip)
        archive.writestr("/tmp/absolute.wav", clip)

    body = upload_zip(client, buffer.getvalue()).json()

    assert body["file_count"] == 10
    assert refused_codes(body) == {
        "../escaped.wav": "not_in_manifest",
        "/tmp/absolute.wav": "not_in_manifest",
    }
    assert not (tmp_path / "escaped.wav").exists() and not Path("/tmp/absolute.wav").exists()


def test_an_upload_over_the_byte_limit_is_cut_off(
    client: TestClient, embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "max_dataset_bytes", 64 * 1024)
    archive = zip_folder(write_corpus(tmp_path / "corpus"))
    assert len(archive) > 64 * 1024

    declared = upload_zip(client, archive)
    chunked = client.post(
        "/v1/datasets",
        content=iter([multipart_body(archive)]),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )

    for response in (declared, chunked):
        assert response.status_code == 413 and response.json()["code"] == "dataset_too_large"
    assert stored_blobs(embedded) == []


def test_datasets_belong_to_their_key(secured_client: TestClient, secured: Settings, tmp_path: Path) -> None:
    alice, bob = bearer(new_key("alice")), bearer(new_key("bob"))
    archive = zip_folder(write_corpus(tmp_path / "corpus"))
    alices = [upload_zip(secured_client, archive, headers=alice).json()["id"] for _ in range(3)]
    path = f"/v1/datasets/{alices[0]}"

    assert secured_client.get(path, headers=bob).json()["code"] == "dataset_not_found"
    assert secured_client.delete(path, headers=bob).status_code == 404
    assert secured_client.get("/v1/datasets", headers=bob).json() == {"items": [], "next_cursor": None}
    first = secured_client.get("/v1/datasets", params={"limit": 2}, headers=alice).json()
    second = secured_client.get(
        "/v1/datasets", params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice
    ).json()
    assert [d["id"] for d in first["items"] + second["items"]] == alices[::-1]
    assert second["next_cursor"] is None
    assert secured_client.get(path, headers=alice).status_code == 200


def test_delete_removes_the_rows_and_the_stored_clips(
    client: TestClient, embedded: Settings, tmp_path: Path
) -> None:
    archive = zip_folder(write_corpus(tmp_path / "corpus"))
    kept = upload_zip(client, archive).json()["id"]
    gone = upload_zip(client, archive).json()["id"]
    assert len(stored_blobs(embedded)) == 20

    response = client.delete(f"/v1/datasets/{gone}")

    assert response.status_code == 204
    assert client.get(f"/v1/datasets/{gone}").status_code == 404
    assert len(stored_blobs(embedded)) == 10 and table_counts() == (1, 10)
    assert client.get(f"/v1/datasets/{kept}").json()["file_count"] == 10
    assert client.delete(f"/v1/datasets/{uuid.uuid4()}").json()["code"] == "dataset_not_found"


def test_datasets_in_object_storage(embedded_s3: Settings, tmp_path: Path) -> None:
    from shared.storage import get_storage

    with TestClient(create_app()) as client:
        body = upload_zip(client, zip_folder(write_corpus(tmp_path / "corpus"))).json()
        with session_scope() as session:
            keys = list(session.scalars(select(DatasetClip.storage_key)))
        storage = get_storage()
        assert len(keys) == 10 and all(storage.exists(key) for key in keys)

        assert client.delete(f"/v1/datasets/{body['id']}").status_code == 204
        assert not any(storage.exists(key) for key in keys)


def test_a_dataset_of_emodb_clips(client: TestClient, embedded: Settings) -> None:
    emodb = require_shared_data() / "emodb"
    with (emodb / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    chosen = [row for label in ("angry", "sad") for row in [r for r in rows if r["label"] == label][:5]]
    files = [("files", (row["path"], (emodb / row["path"]).read_bytes())) for row in chosen]
    manifest = "path,label,speaker\n" + "".join(f"{r['path']},{r['label']},{r['speaker']}\n" for r in chosen)

    body = client.post("/v1/datasets", files=files, data={"manifest": manifest, "name": "emodb"}).json()

    assert body["file_count"] == 10 and body["refused"] == [], body
    assert [(label["label"], label["files"]) for label in body["labels"]] == [("angry", 5), ("sad", 5)]
    durations = {row["path"]: float(row["duration_s"]) for row in chosen}
    assert {f["path"]: f["duration_s"] for f in body["files"]} == pytest.approx(durations, abs=0.01)
    assert {s["speaker"] for s in body["speakers"]} == {row["speaker"] for row in chosen}
    assert len(stored_blobs(embedded)) == 10


def test_an_entry_that_does_not_unpack_or_is_too_large_is_refused_alone(
    client: TestClient, embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(tmp_path / "corpus", per_label=6)
    (corpus / "big.wav").write_bytes((corpus / "sad" / "sad0.wav").read_bytes() * 3)
    with (corpus / "manifest.csv").open("a") as manifest:
        manifest.write("big.wav,sad,s1\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(corpus.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(corpus).as_posix())
    packed = bytearray(buffer.getvalue())
    clip = (corpus / "angry" / "angry5.wav").read_bytes()
    at = packed.find(clip) + len(clip) // 2
    packed[at : at + 8] = bytes(8)  # the entry's CRC no longer holds
    monkeypatch.setattr(embedded, "max_upload_bytes", 40_000)

    body = upload_zip(client, bytes(packed)).json()

    assert refused_codes(body) == {"angry/angry5.wav": "unreadable_entry", "big.wav": "upload_too_large"}
    assert body["file_count"] == 11 and len(stored_blobs(embedded)) == 11


def test_storage_that_refuses_the_clips_is_a_503_and_leaves_no_dataset(
    embedded_s3: Settings, s3_server: MotoServer, tmp_path: Path
) -> None:
    s3_server.client().delete_bucket(Bucket=urlsplit(embedded_s3.storage_url).netloc)

    with TestClient(create_app()) as client:
        response = upload_zip(client, zip_folder(write_corpus(tmp_path / "corpus")))

    assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
    assert table_counts() == (0, 0)
