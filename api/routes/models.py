"""The models a caller may ask for: those this service serves (EMOQ_MODELS) and the caller's registered
versions, which the caller reads, promotes to their default and deletes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from shared.jobs import repository
from shared.models import ServedModel
from shared.registry import service as registry
from shared.schemas.jobs import ModelInfo, ModelList
from shared.schemas.registry import ModelVersionRead

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "",
    summary="The models this service serves (EMOQ_MODELS), the default first, as their workers reported;"
    " and your registered model versions",
)
def list_models(session: SessionDep, settings: SettingsDep, caller: CallerDep) -> ModelList:
    latest: dict[str, ServedModel] = {}
    for row in repository.served_models(session):  # the most recently started first
        latest.setdefault(row.name, row)
    own = registry.list_versions(session, caller)
    return ModelList(
        models=[
            # A promoted version replaces the served default for its owner.
            _info(
                name,
                default=name == settings.default_model and not any(version.default for version in own),
                served=latest.get(name),
            )
            for name in settings.model_names
        ],
        versions=own,
        transcription=settings.transcription_available,
    )


@router.delete(
    "/default",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop using a promoted version by default: submissions naming no model go to the served default",
)
def clear_default(session: SessionDep, caller: CallerDep) -> None:
    registry.clear_default(session, caller)


@router.get("/{version_id}", summary="One of your model versions, with its evaluation and training data")
def read_version(version_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> ModelVersionRead:
    return registry.describe(session, caller, registry.get_version(session, caller, version_id))


@router.post(
    "/{version_id}/promote",
    summary="Make a version your default: what your submissions naming no model run on",
)
def promote_version(version_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> ModelVersionRead:
    return registry.describe(session, caller, registry.promote(session, caller, version_id))


@router.delete(
    "/{version_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a version and its checkpoint; refused (409 model_in_use) while a job still needs it",
    responses={409: {"description": "A job or training that has not ended needs it"}},
)
def delete_version(
    version_id: uuid.UUID, session: SessionDep, caller: CallerDep, storage: StorageDep
) -> None:
    registry.delete_version(session, storage, caller, version_id)


def _info(name: str, *, default: bool, served: ServedModel | None) -> ModelInfo:
    if served is None:
        # Configured, but no worker serving it has started yet: its jobs wait in its queue.
        return ModelInfo(name=name, default=default, served=False)
    return ModelInfo(
        name=name,
        default=default,
        served=True,
        id=served.model_id,
        revision=served.revision,
        precision=served.precision,
        labels=served.labels,
        display=served.display,
        sample_rate=served.sample_rate,
        window_seconds=served.window_seconds,
        hop_seconds=served.hop_seconds,
        device=served.device,
        last_seen_at=served.last_seen_at,
    )
