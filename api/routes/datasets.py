"""Datasets: labelled audio uploaded to train on, checked on upload, read and deleted by their owner."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from api.dataset_intake import receive_dataset
from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from api.pagination import decode_cursor, split_page
from shared.datasets import repository
from shared.datasets import service as datasets
from shared.schemas.datasets import DatasetPage, DatasetRead, DatasetSummary

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

BINARY: dict[str, Any] = {"type": "string", "format": "binary"}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "archive": {**BINARY, "description": "A zip of the audio with its manifest.csv"},
                        "files": {"type": "array", "items": BINARY, "description": "Or the audio files"},
                        "manifest": {
                            "type": "string",
                            "description": "With files: the CSV path,label[,speaker], paths being file names",
                        },
                        "name": {"type": "string", "description": "Defaults to the archive's name"},
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_BODY,
    summary="Upload labelled audio: a zip with manifest.csv, or files with a manifest",
    description="Every file is probed; the answer lists the files accepted and those refused, each with a"
    " code. A dataset that cannot be trained on (fewer than two labels, a label short of"
    " `EMOQ_DATASET_MIN_FILES_PER_LABEL` files, no manifest, a bad zip) is refused whole with a 422"
    " `dataset_unusable` problem whose `reasons` and `refused` say why; nothing of it is kept.",
    responses={413: {"description": "Too large"}, 422: {"description": "Unusable dataset"}},
)
async def create_dataset(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> DatasetRead:
    with tempfile.TemporaryDirectory(prefix="emoq-dataset-") as scratch:
        new = await receive_dataset(request, settings, storage, Path(scratch))
    dataset = await run_in_threadpool(datasets.create_dataset, session, storage, caller, new)
    response.headers["Location"] = f"/v1/datasets/{dataset.id}"
    return await run_in_threadpool(datasets.describe, session, dataset)


@router.get("/{dataset_id}", summary="A dataset: its files, labels, speakers, duration and refusals")
def read_dataset(dataset_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> DatasetRead:
    return datasets.describe(session, datasets.get_dataset(session, caller, dataset_id))


@router.get("", summary="List the caller's datasets, newest first")
def list_datasets(
    session: SessionDep,
    caller: CallerDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DatasetPage:
    rows = repository.list_page(session, caller, after=decode_cursor(cursor), limit=limit + 1)
    page, next_cursor = split_page(rows, limit)
    return DatasetPage(
        items=[DatasetSummary.from_dataset(dataset) for dataset in page],
        next_cursor=next_cursor,
    )


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a dataset with its stored audio",
)
def delete_dataset(
    dataset_id: uuid.UUID, session: SessionDep, caller: CallerDep, storage: StorageDep
) -> None:
    datasets.delete_dataset(session, storage, caller, dataset_id)
