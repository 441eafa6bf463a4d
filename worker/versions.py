"""Registered model versions (custom models), loaded by a worker process on demand.

A job that asks for a version runs on the queue of a served model, whose workers load the version the
first time one of its jobs comes and keep the ``EMOQ_MODEL_CACHE_SIZE`` most recently used loaded. Each
archive is unpacked once per revision (its SHA-256) under ``EMOQ_MODEL_CACHE_DIR``, shared by the
processes of a host: a revision's files never change, so an unpacked folder is good for as long as it is
there.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from shared.config import Settings
from shared.db import is_transient, session_scope
from shared.errors import ModelUnavailable
from shared.registry import repository
from shared.registry.checkpoints import unpack_checkpoint
from shared.storage import Storage
from worker.inference import AudioClassifier, ModelIdentity

log = logging.getLogger(__name__)


class LoadedVersions:
    """At most ``capacity`` classifiers, by version id, the least recently used dropped first."""

    def __init__(self, capacity: int, load: Callable[[uuid.UUID], AudioClassifier]) -> None:
        self.capacity = capacity
        self._load = load
        self._loaded: OrderedDict[uuid.UUID, AudioClassifier] = OrderedDict()

    def get(self, version_id: uuid.UUID) -> AudioClassifier:
        if version_id in self._loaded:
            self._loaded.move_to_end(version_id)
            return self._loaded[version_id]
        classifier = self._load(version_id)
        self._loaded[version_id] = classifier
        while len(self._loaded) > self.capacity:
            dropped, _ = self._loaded.popitem(last=False)
            log.info("model version unloaded", extra={"model_version_id": str(dropped)})
        return classifier

    def __contains__(self, version_id: uuid.UUID) -> bool:
        return version_id in self._loaded


def load_version(
    version_id: uuid.UUID,
    *,
    settings: Settings,
    storage: Storage,
    load: Callable[..., AudioClassifier],
) -> AudioClassifier:
    """The version's classifier, from its folder unpacked under the cache directory. ``load`` is
    ``AudioClassifier.load`` with the worker's device, precision and batching already given; the window
    is the checkpoint's own when its config says, else the service's. Results name the version by its id
    and its archive's SHA-256. ``ModelUnavailable`` when it is gone or cannot be loaded; transient errors
    (the database or storage away) propagate as they are, for the task to retry."""
    with session_scope() as session:
        version = repository.get(session, version_id)
        revision, key = (version.revision, version.storage_key) if version else (None, None)
    if revision is None or key is None:
        raise ModelUnavailable(f"model version {version_id} no longer exists")
    started = time.perf_counter()
    try:
        folder = settings.unpacked_models_dir / revision
        if not (folder / "config.json").is_file():
            unpack_checkpoint(storage, key, folder)
        classifier = load(str(folder), **_window(folder, settings))
    except Exception as exc:
        if is_transient(exc):
            raise
        log.exception("could not load the model version", extra={"model_version_id": str(version_id)})
        raise ModelUnavailable(f"model version {version_id} could not be loaded") from exc
    classifier.identity = ModelIdentity(id=str(version_id), revision=revision, precision=classifier.precision)
    log.info(
        "model version loaded",
        extra={
            "model_version_id": str(version_id),
            "revision": revision,
            "precision": classifier.precision,
            "load_seconds": round(time.perf_counter() - started, 3),
        },
    )
    return classifier


def _window(folder: Path, settings: Settings) -> dict[str, float | None]:
    """A version trained with its own window (``emoq_window_seconds``) keeps it: its scores were
    validated on windows of that length. Otherwise the service's, as for the served models."""
    config = json.loads((folder / "config.json").read_text())
    if config.get("emoq_window_seconds"):
        return {"window_seconds": None, "hop_seconds": None}
    return {"window_seconds": settings.window_seconds, "hop_seconds": settings.hop_seconds}
