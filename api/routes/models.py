from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep, SettingsDep
from shared.jobs import repository
from shared.schemas.jobs import ModelInfo, ModelList

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", summary="The models the workers serve, as they reported at start-up")
def list_models(session: SessionDep, settings: SettingsDep) -> ModelList:
    return ModelList(
        models=[
            ModelInfo(
                id=m.model_id,
                revision=m.revision,
                labels=m.labels,
                sample_rate=m.sample_rate,
                window_seconds=m.window_seconds,
                hop_seconds=m.hop_seconds,
                device=m.device,
                last_seen_at=m.last_seen_at,
            )
            for m in repository.served_models(session)
        ],
        transcription=settings.transcription_available,
    )
