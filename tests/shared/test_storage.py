from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.errors import ServiceUnavailable, UploadTooLarge
from shared.storage import open_storage, storage_key
from shared.storage.local import LocalStorage


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_writes_hash_and_size_while_streaming(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = storage_key(uuid.uuid4())
    writer = storage.writer(key, max_bytes=100)

    for chunk in (b"abc", b"defg"):
        writer.write(chunk)
    blob = writer.commit()

    assert blob.size == 7 and blob.sha256 == hashlib.sha256(b"abcdefg").hexdigest()
    with storage.local_path(key) as path:
        assert path.read_bytes() == b"abcdefg"
    assert storage.exists(key)
    storage.delete(key)
    assert files_under(tmp_path) == []


def test_over_the_limit_aborts_and_leaves_no_part_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    writer = storage.writer(storage_key(uuid.uuid4()), max_bytes=5)

    writer.write(b"abc")
    with pytest.raises(UploadTooLarge):
        writer.write(b"def")

    assert files_under(tmp_path) == []


def test_keys_cannot_become_paths(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    for key in ("../../etc/passwd", "a/b", "", "Z" * 32):
        with pytest.raises(ValueError):
            storage.writer(key, max_bytes=10)


def test_storage_that_is_a_file_is_a_service_error(tmp_path: Path) -> None:
    (tmp_path / "audio").write_text("not a folder")

    with pytest.raises(ServiceUnavailable) as excinfo:
        LocalStorage(tmp_path / "audio").writer(storage_key(uuid.uuid4()), max_bytes=10)

    assert excinfo.value.code == "storage_unavailable"


def test_the_store_is_chosen_by_url_and_the_old_folder_setting_still_works(tmp_path: Path) -> None:
    default = Settings(data_dir=tmp_path)
    deprecated = Settings(data_dir=tmp_path, storage_dir=tmp_path / "old")

    assert default.storage_url == (tmp_path / "audio").resolve().as_uri()
    assert isinstance(store := open_storage(deprecated), LocalStorage) and store.root == tmp_path / "old"
    assert Settings(storage_url="s3://bucket/audio").local_storage_dir is None
    with pytest.raises(ValidationError):
        Settings(storage_url="ftp://host/audio")
