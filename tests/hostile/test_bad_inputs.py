"""A corpus of hostile inputs: each gets a clear 4xx or a clean decode failure; never a crash, a hang or
unbounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.config import Settings
from tests.api.conftest import stored_blobs, submit
from tests.hostile.corpus import CORPUS, Builder

MAX_SECONDS = 60.0
# Decoding runs under this address-space limit: a bomb that tried to hold its claimed size would fail.
ADDRESS_SPACE_BYTES = 1536 * 2**20

DECODE_EVERYTHING = """
import json, resource, sys
from contextlib import closing
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from shared.audio import stream_mono
from shared.errors import AudioError
outcomes = {{}}
for name, path in json.loads(sys.argv[1]).items():
    try:
        with closing(stream_mono(Path(path), target_rate=16000, max_seconds={max_seconds})) as blocks:
            for _ in blocks:
                pass
        outcomes[name] = "ok"
    except AudioError as error:
        outcomes[name] = error.code
print(json.dumps(outcomes))
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    files = {}
    for index, (name, build, _, _) in enumerate(CORPUS):
        folder = tmp_path_factory.mktemp(f"hostile{index}")
        files[name] = build(folder)
    return files


@pytest.mark.parametrize(("name", "build", "statuses", "_codes"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_api_answers_every_hostile_upload_cleanly(
    name: str,
    build: Builder,
    statuses: set[int],
    _codes: set[str],
    corpus: dict[str, Path],
    client: TestClient,
    embedded: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedded, "max_audio_seconds", MAX_SECONDS)

    response = submit(client, corpus[name])

    assert response.status_code in statuses, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"]
        assert stored_blobs(embedded) == [], "a refused upload leaves nothing behind"


def test_decoding_every_hostile_file_ends_cleanly_within_bounded_memory(corpus: dict[str, Path]) -> None:
    script = DECODE_EVERYTHING.format(limit=ADDRESS_SPACE_BYTES, max_seconds=MAX_SECONDS)
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps({k: str(v) for k, v in corpus.items()})],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])

    for name, _, _, codes in CORPUS:
        assert outcomes[name] in codes, f"{name}: {outcomes[name]}"


def test_invalid_utf8_in_the_filename_and_in_a_field(client: TestClient, corpus: dict[str, Path]) -> None:
    audio = corpus["wav cut in half"].read_bytes()
    boundary = b"hostileboundary"

    def body(filename: bytes, metadata: bytes) -> bytes:
        return (
            b"--"
            + boundary
            + b'\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'
            + metadata
            + b"\r\n--"
            + boundary
            + b'\r\nContent-Disposition: form-data; name="file"; filename="'
            + filename
            + b'"\r\nContent-Type: audio/wav\r\n\r\n'
            + audio
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )

    headers = {"content-type": f"multipart/form-data; boundary={boundary.decode()}"}
    bad_name = client.post("/v1/jobs", content=body(b"caf\xe9\xff.wav", b"{}"), headers=headers)
    bad_field = client.post("/v1/jobs", content=body(b"ok.wav", b'{"a": "\xff\xfe"}'), headers=headers)

    assert bad_name.status_code == 202
    assert bad_name.json()["input"]["filename"] == "caf\ufffd\ufffd.wav"
    assert bad_field.status_code == 422 and bad_field.json()["code"] == "invalid_encoding"


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"garbage that is not multipart at all", "multipart/form-data; boundary=xyz", "malformed_multipart"),
        (b"--xyz\r\nno headers end", "multipart/form-data; boundary=xyz", "malformed_multipart"),
        (b"whatever", "multipart/form-data", "unsupported_content_type"),
        # Cut off in the middle of the file: the closing boundary never comes.
        (
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF\x00\x01',
            "multipart/form-data; boundary=xyz",
            "malformed_multipart",
        ),
    ],
)
def test_malformed_multipart(
    client: TestClient, embedded: Settings, content: bytes, content_type: str, code: str
) -> None:
    response = client.post("/v1/jobs", content=content, headers={"content-type": content_type})

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert stored_blobs(embedded) == []


def test_huge_metadata_is_refused_before_it_fills_memory(client: TestClient, corpus: dict[str, Path]) -> None:
    huge = json.dumps({"x": "y" * 1_000_000})

    response = submit(client, corpus["wav cut in half"], metadata=huge)

    assert response.status_code == 413
    assert response.json()["code"] == "field_too_large"
