"""Registered versions loaded in a worker process: on demand, a bounded number at a time, each archive
unpacked once per revision, the window the checkpoint's own when it names one."""

from __future__ import annotations

import json
import shutil
import uuid
from functools import partial
from pathlib import Path

import pytest

from shared.config import Settings
from shared.db import session_scope
from shared.errors import ModelUnavailable
from shared.registry import repository
from shared.storage import get_storage
from tests.model_factory import save_tiny_checkpoint
from tests.model_versions import register_version
from worker.inference import AudioClassifier
from worker.runtime import prepare_classifier
from worker.versions import LoadedVersions, load_version


def loader(settings: Settings, loads: list[uuid.UUID]) -> LoadedVersions:
    """A cache of one version, recording every load it does."""

    def load(version_id: uuid.UUID) -> AudioClassifier:
        loads.append(version_id)
        return load_version(version_id, settings=settings, storage=get_storage(), load=prepare_classifier)

    return LoadedVersions(1, load)


def registered(checkpoint: Path) -> tuple[uuid.UUID, str, str]:
    with session_scope() as session:
        version = register_version(session, get_storage(), checkpoint)
        return version.id, version.revision, version.storage_key


def test_versions_load_on_demand_within_the_bound_and_unpack_once(
    embedded: Settings, tiny_model: Path, tmp_path: Path
) -> None:
    first, first_revision, first_key = registered(tiny_model)
    second, _, _ = registered(save_tiny_checkpoint(tmp_path / "other", seed=3))
    loads: list[uuid.UUID] = []
    versions = loader(embedded, loads)

    one = versions.get(first)
    assert versions.get(first) is one, "a loaded version is reused"
    versions.get(second)
    assert first not in versions and second in versions, "the least recently used went"
    # Unpacked once per revision: with its archive gone, the unpacked folder still serves it.
    get_storage().delete(first_key)
    again = versions.get(first)

    assert loads == [first, second, first]
    assert (embedded.unpacked_models_dir / first_revision / "config.json").is_file()
    assert (again.identity.id, again.identity.revision, again.identity.precision) == (
        str(first),
        first_revision,
        "fp32",
    )
    assert again.labels == ["angry", "happy", "neutral", "sad"] and again.interpretation is not None


def test_the_window_is_the_checkpoints_own_when_its_config_names_one(
    embedded: Settings, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "window_seconds", 0.25)
    windowed = shutil.copytree(tiny_model, tmp_path / "windowed")
    config = json.loads((windowed / "config.json").read_text())
    (windowed / "config.json").write_text(json.dumps(config | {"emoq_window_seconds": 0.5}))
    own, _, _ = registered(windowed)
    plain, _, _ = registered(tiny_model)

    load = partial(load_version, settings=embedded, storage=get_storage(), load=prepare_classifier)

    assert load(own).window == 8000, "trained on 0.5 s windows, it keeps them"
    assert load(plain).window == 4000, "the service's window otherwise"


def test_a_version_that_is_gone_or_broken_is_unavailable(embedded: Settings, tiny_model: Path) -> None:
    gone, _, _ = registered(tiny_model)
    broken, _, key = registered(tiny_model)
    with get_storage().local_path(key) as archive:
        archive.write_bytes(b"not a zip")
    with session_scope() as session:
        repository.delete(session, gone)
    load = partial(load_version, settings=embedded, storage=get_storage(), load=prepare_classifier)

    for version_id in (gone, broken, uuid.uuid4()):
        with pytest.raises(ModelUnavailable) as raised:
            load(version_id)
        assert raised.value.code == "model_unavailable"
