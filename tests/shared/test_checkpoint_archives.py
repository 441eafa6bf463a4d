from __future__ import annotations

import hashlib
import uuid
import zipfile
from pathlib import Path

import pytest

from shared.registry.checkpoints import checkpoint_key, store_checkpoint, unpack_checkpoint
from shared.storage.local import LocalStorage


def checkpoint_folder(root: Path) -> Path:
    folder = root / "checkpoint"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "wav2vec2"}')
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    return folder


def test_a_checkpoint_comes_back_file_for_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    key = checkpoint_key(uuid.uuid4())
    folder = checkpoint_folder(tmp_path)

    blob = store_checkpoint(storage, key, folder)
    unpacked = unpack_checkpoint(storage, key, tmp_path / "cache" / blob.sha256)

    assert sorted(p.name for p in unpacked.iterdir()) == ["config.json", "model.safetensors"]
    for name in ("config.json", "model.safetensors"):
        assert (unpacked / name).read_bytes() == (folder / name).read_bytes()
    with storage.local_path(key) as archive:
        assert blob.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    # Nothing half-unpacked is left beside the folder.
    assert [p.name for p in unpacked.parent.iterdir()] == [blob.sha256]


def test_an_archive_with_folders_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    key = checkpoint_key(uuid.uuid4())
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as zipped:
        zipped.writestr("../escape.json", "{}")
    writer = storage.writer(key, max_bytes=10_000)
    writer.write(forged.read_bytes())
    writer.commit()

    with pytest.raises(ValueError, match="unexpected entry"):
        unpack_checkpoint(storage, key, tmp_path / "cache" / "version")

    assert list((tmp_path / "cache").iterdir()) == []
    assert not (tmp_path / "escape.json").exists()
