"""Trainings: custom models trained on the caller's datasets, on the ``training`` queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.concurrency import run_in_threadpool

from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from api.intake import check_webhook
from api.pagination import decode_cursor, split_page
from shared.errors import NotFound
from shared.schemas.trainings import TrainingCreate, TrainingPage, TrainingRead
from shared.trainings import repository
from shared.trainings import service as trainings
from shared.trainings.keys import confusion_key_for

router = APIRouter(prefix="/v1/trainings", tags=["trainings"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Train a model on one of your datasets",
    description="Queued on the `training` queue; poll `Location`. A finished training registers a model"
    " version evaluated on the held-out speakers. An unknown dataset is a 404; an unknown `base_model`, too"
    " many epochs or a dataset with fewer than two speakers a 422.",
    responses={404: {"description": "No such dataset"}, 422: {"description": "Invalid request"}},
)
async def create_training(
    body: TrainingCreate, response: Response, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> TrainingRead:
    await run_in_threadpool(check_webhook, body.webhook_url, caller, settings)
    training = await run_in_threadpool(trainings.create_training, session, settings, caller, body)
    response.headers["Location"] = f"/v1/trainings/{training.id}"
    return TrainingRead.from_training(training)


@router.get("/{training_id}", summary="A training: status, progress, epochs, evaluation, model version")
def read_training(training_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> TrainingRead:
    return TrainingRead.from_training(trainings.get_training(session, caller, training_id))


@router.get(
    "/{training_id}/confusion.png",
    summary="The held-out evaluation's confusion matrix as a PNG",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "No evaluation yet"}},
)
def read_confusion(
    training_id: uuid.UUID, session: SessionDep, caller: CallerDep, storage: StorageDep
) -> Response:
    training = trainings.get_training(session, caller, training_id)
    key = confusion_key_for(training.id)
    if training.evaluation is None or not storage.exists(key):
        raise NotFound(f"training {training_id} has no evaluation yet", code="no_evaluation")
    with storage.local_path(key) as path:
        return Response(path.read_bytes(), media_type="image/png")


@router.get("", summary="List the caller's trainings, newest first")
def list_trainings(
    session: SessionDep,
    caller: CallerDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TrainingPage:
    rows = repository.list_page(session, caller, after=decode_cursor(cursor), limit=limit + 1)
    page, next_cursor = split_page(rows, limit)
    return TrainingPage(
        items=[TrainingRead.from_training(training) for training in page],
        next_cursor=next_cursor,
    )


@router.delete(
    "/{training_id}",
    summary="Cancel a training",
    description="Queued or running, it ends `cancelled` at once and registers nothing (a running worker"
    " stops at its next epoch); one that has already ended is a 409.",
    responses={409: {"description": "Already ended"}},
)
def cancel_training(training_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> TrainingRead:
    return TrainingRead.from_training(trainings.cancel_training(session, caller, training_id))
