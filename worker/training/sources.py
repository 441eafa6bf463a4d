"""What a requested training reads, laid out on local disk: the dataset's clips with a manifest, and the
checkpoint it starts from. Both come from the service's own stores, so any worker host can train."""

from __future__ import annotations

import csv
import shutil
import uuid
from pathlib import Path, PurePosixPath

from shared.catalog.names import ModelEntry
from shared.config import Settings
from shared.datasets import repository as datasets
from shared.db import session_scope
from shared.errors import EmoQError
from shared.registry import repository as versions
from shared.registry.checkpoints import unpack_checkpoint
from shared.storage import Storage

MANIFEST_NAME = "manifest.csv"
# A clip the manifest names without a speaker: a speaker of its own, so it can never leak across a split.
NO_SPEAKER = "(none)"


class SourceGone(EmoQError):
    """What a training reads was deleted after it was queued: a retry cannot help."""

    status = 422


def write_dataset(storage: Storage, dataset_id: uuid.UUID | None, folder: Path) -> Path:
    """Every clip of the dataset copied under ``folder`` with a manifest naming it; returns the manifest."""
    with session_scope() as session:
        clips = datasets.clips(session, dataset_id) if dataset_id is not None else []
        rows = [(clip.storage_key, clip.path, clip.label, clip.speaker) for clip in clips]
    if not rows:
        raise SourceGone("the dataset was deleted", code="dataset_gone")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / MANIFEST_NAME).open("w", newline="", encoding="utf-8") as manifest:
        writer = csv.writer(manifest)
        writer.writerow(["path", "label", "speaker"])
        for key, path, label, speaker in rows:
            # Named by key: the stored path is the client's, and only its extension is worth keeping.
            name = key + PurePosixPath(path).suffix.lower()
            if not storage.exists(key):
                raise SourceGone(f"the dataset's clip {path} is gone from storage", code="dataset_gone")
            with storage.local_path(key) as stored:
                shutil.copyfile(stored, folder / name)
            writer.writerow([name, label, speaker or NO_SPEAKER])
    return folder / MANIFEST_NAME


def base_checkpoint(
    base_model: str | None, settings: Settings, storage: Storage, folder: Path
) -> Path | None:
    """The local checkpoint folder a fine-tuning starts from; None trains the shipped recipe from scratch."""
    if base_model is None:
        return None
    entry = next((e for e in settings.model_entries if e.name == base_model), None)
    if entry is not None:
        return _served(entry)
    with session_scope() as session:
        version = versions.get(session, uuid.UUID(base_model))
        key = version.storage_key if version is not None else None
    if key is None or not storage.exists(key):
        raise SourceGone(f"the model version {base_model} was deleted", code="base_model_gone")
    return unpack_checkpoint(storage, key, folder / "base")


def _served(entry: ModelEntry) -> Path:
    if Path(entry.source).is_dir():
        return Path(entry.source)
    from huggingface_hub import snapshot_download

    # The same cache the inference workers fill, so a served hub model is usually there already.
    return Path(snapshot_download(entry.source, revision=entry.revision))
