from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep
from shared.jobs import repository
from shared.models import ServedModel
from shared.schemas.jobs import ModelInfo, ModelList

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get(
    "",
    summary="The models this service serves (EMOQ_MODELS), the default first, as their workers reported",
)
def list_models(session: SessionDep, settings: SettingsDep) -> ModelList:
    latest: dict[str, ServedModel] = {}
    for row in repository.served_models(session):  # the most recently started first
        latest.setdefault(row.name, row)
    return ModelList(
        models=[
            _info(name, default=name == settings.default_model, served=latest.get(name))
            for name in settings.model_names
        ],
        transcription=settings.transcription_available,
    )


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
