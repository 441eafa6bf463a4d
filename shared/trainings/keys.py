"""Ids and storage keys a training's outputs get, derived from the training's id.

Derived, not drawn: a training resumed on another worker (its first one died) writes its checkpoint and
confusion plot under the same keys, overwriting what the dead attempt may have left, and registers the
version under the same id, which the unique ``training_id`` would refuse twice anyway.
"""

from __future__ import annotations

import uuid

from shared.registry.checkpoints import checkpoint_key


def version_id_for(training_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(training_id, "model-version")


def checkpoint_key_for(training_id: uuid.UUID) -> str:
    return checkpoint_key(version_id_for(training_id))


def confusion_key_for(training_id: uuid.UUID) -> str:
    return uuid.uuid5(training_id, "confusion").hex
