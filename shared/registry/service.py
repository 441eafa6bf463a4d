"""Registered model versions in domain terms: listed, read, promoted and deleted by their owner, and the
model a submission runs on. The functions flush; the caller commits. A version's archive is deleted only
after the commit that forgets it."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.auth.caller import Caller
from shared.config import Settings
from shared.db import after_commit
from shared.errors import Conflict, NotFound, UnknownModel
from shared.models import ModelVersion
from shared.models.base import utcnow
from shared.registry import repository
from shared.schemas.registry import ModelVersionRead, ModelVersionSummary
from shared.storage import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelChoice:
    """What a job runs on: a served model's name, whose queue carries it, and maybe one of its owner's
    versions, which that model's workers load instead of their own checkpoint."""

    model: str
    version_id: uuid.UUID | None = None


def get_version(session: Session, caller: Caller, version_id: uuid.UUID) -> ModelVersion:
    """The caller's version; another key's version is a 404 like one that does not exist."""
    version = repository.get_visible(session, caller, version_id)
    if version is None:
        raise NotFound(f"no model version {version_id}", code="model_not_found")
    return version


def promote(session: Session, caller: Caller, version_id: uuid.UUID) -> ModelVersion:
    """Make it the caller's default: what their submissions naming no model run on."""
    get_version(session, caller, version_id)
    repository.set_promoted(session, caller, version_id, utcnow())
    return get_version(session, caller, version_id)


def clear_default(session: Session, caller: Caller) -> None:
    """Back to the served default: none of the caller's versions stays promoted."""
    repository.set_promoted(session, caller, None, None)


def delete_version(session: Session, storage: Storage, caller: Caller, version_id: uuid.UUID) -> None:
    """Refused while a job or training that has not ended needs it; the archive goes after the commit."""
    version = repository.get_visible(session, caller, version_id, lock="update")
    if version is None:
        raise NotFound(f"no model version {version_id}", code="model_not_found")
    if repository.in_use(session, version_id):
        raise Conflict(
            "a job or training that has not ended still needs this model version; cancel it or wait",
            code="model_in_use",
        )
    key = version.storage_key
    repository.delete(session, version_id)
    after_commit(session, lambda: storage.delete(key))
    after_commit(
        session, lambda: log.info("model version deleted", extra={"model_version_id": str(version_id)})
    )


def list_versions(session: Session, caller: Caller) -> list[ModelVersionSummary]:
    """The caller's versions, newest first, their default marked."""
    default = repository.default_of(session, caller)
    return [
        ModelVersionSummary.of(version, default=default is not None and version.id == default.id)
        for version in repository.list_owned(session, caller)
    ]


def describe(session: Session, caller: Caller, version: ModelVersion) -> ModelVersionRead:
    default = repository.default_of(session, caller)
    return ModelVersionRead.build(version, default=default is not None and default.id == version.id)


def choose_model(session: Session, caller: Caller, asked: str | None, settings: Settings) -> ModelChoice:
    """The model for ``model=`` as ``api.forms.parse_model`` let it through: a served name, one of the
    caller's version ids, or nothing (the caller's default version, else the served default). A version
    runs on the default model's queue. Another key's version is unknown, as a name nobody serves is."""
    if asked is not None and asked in settings.model_names:
        return ModelChoice(model=asked)
    if asked is None:
        version = repository.default_of(session, caller)
        if version is None:
            return ModelChoice(model=settings.default_model)
        asked = str(version.id)
    version = repository.get_visible(session, caller, uuid.UUID(asked), lock="key_share")
    if version is None:
        raise UnknownModel(asked, settings.model_names)
    return ModelChoice(model=settings.default_model, version_id=version.id)
