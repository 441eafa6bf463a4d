"""Audio storage full or not writable: uploads are refused with 503 ``storage_unavailable`` and leave
nothing behind, neither a job row nor a part file nor the other files of a refused batch.

A real full disk where this machine allows mounting a tmpfs (root with CAP_SYS_ADMIN); everywhere, a
file size limit (RLIMIT_FSIZE) on the API process, which makes its writes fail with EFBIG. CPython
ignores SIGXFSZ, so the write raises instead of killing the process.
"""

from __future__ import annotations

import resource
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from shared.models import Job
from tests.audio_factory import write_tone
from tests.faults.conftest import StackFactory
from tests.faults.harness import FaultStack

pytestmark = pytest.mark.integration

SMALL_SECONDS, BIG_SECONDS = 1.0, 10.0  # 16-bit mono at 16 kHz: about 32 KB and 320 KB
FILE_SIZE_LIMIT = 200 * 1024


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "audio"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"mounting a tmpfs is not permitted here ({mounted.stderr.strip()}); the RLIMIT_FSIZE test runs"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def clips(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write_tone(tmp_path / "small.wav", fmt="wav", seconds=SMALL_SECONDS),
        write_tone(tmp_path / "big.wav", fmt="wav", seconds=BIG_SECONDS),
    )


def post_batch(stack: FaultStack, *files: Path) -> httpx.Response:
    return stack.client.post(
        "/v1/batches", files=[("files", (p.name, p.read_bytes(), "audio/wav")) for p in files]
    )


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert response.json()["code"] == "storage_unavailable"


def assert_nothing_left_behind(stack: FaultStack, storage: Path, accepted: list[str]) -> None:
    """Exactly the accepted jobs exist, each with its audio; no part file, no stray blob."""
    with stack.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Job)) == len(accepted)
    assert [p.name for p in (storage / ".incoming").glob("*")] == []
    blobs = {
        p.name
        for p in storage.rglob("*")
        if p.is_file() and ".incoming" not in p.parts and p.name != "filler"
    }
    assert blobs == {uuid.UUID(job_id).hex for job_id in accepted}


def test_a_full_and_a_read_only_disk_refuse_uploads_cleanly(
    make_stack: StackFactory, tmpfs: Path, clips: tuple[Path, Path]
) -> None:
    small, big = clips
    stack = make_stack(EMOQ_STORAGE_DIR=str(tmpfs))
    stack.start("api")
    stack.wait_api()
    accepted = [stack.submit(small).json()["id"]]

    # Full: not a byte left.
    filler = tmpfs / "filler"
    with filler.open("wb") as f, pytest.raises(OSError, match="No space left"):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    assert_refused(stack.submit(small))
    assert_refused(post_batch(stack, small, small))
    assert_nothing_left_behind(stack, tmpfs, accepted)

    # Nearly full: an upload starts to fit and fails part way; in a batch, the files stored before it go.
    with filler.open("r+b") as f:
        f.truncate(filler.stat().st_size - 96 * 1024)
    assert_refused(stack.submit(big))
    assert_refused(post_batch(stack, small, big))
    assert_nothing_left_behind(stack, tmpfs, accepted)

    # Not writable at all.
    filler.unlink()
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    try:
        assert_refused(stack.submit(small))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    assert_nothing_left_behind(stack, tmpfs, accepted)

    # Space again: uploads are accepted again, nothing to restart.
    for clip in (small, big):
        response = stack.submit(clip)
        assert response.status_code == 202, response.text
        accepted.append(response.json()["id"])
    assert_nothing_left_behind(stack, tmpfs, accepted)
    assert "Traceback" not in (stack.root / "api-1.log").read_text()
    print("\nstorage fault injected with a 1 MiB tmpfs: full, nearly full, read-only")


def test_writes_over_a_file_size_limit_refuse_uploads_cleanly(
    make_stack: StackFactory, tmp_path: Path, clips: tuple[Path, Path]
) -> None:
    small, big = clips
    storage = tmp_path / "audio"
    stack = make_stack(EMOQ_STORAGE_DIR=str(storage))

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))

    stack.start("api", preexec=limit_file_size)
    stack.wait_api()
    accepted = [stack.submit(small).json()["id"]]

    assert_refused(stack.submit(big))
    assert_refused(post_batch(stack, small, big))
    assert_nothing_left_behind(stack, storage, accepted)
    response = stack.submit(small)
    assert response.status_code == 202, response.text
    accepted.append(response.json()["id"])
    assert_nothing_left_behind(stack, storage, accepted)
    assert "Traceback" not in (stack.root / "api-1.log").read_text()
    print(f"\nstorage fault injected with RLIMIT_FSIZE={FILE_SIZE_LIMIT} on the API process (EFBIG)")
