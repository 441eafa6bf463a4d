from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import Json, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from api.deps import CallerDep, SessionDep, SettingsDep, StorageDep
from api.forms import openapi_body, parse_flag, parse_http_url, parse_metadata, parse_model
from api.intake import check_transcription, check_webhook, job_from_file, job_from_url
from api.submission import ENVELOPE_BYTES, FIELD_BYTES_FACTOR
from api.uploads import receive_form
from shared.batches import repository, results
from shared.batches import service as batches
from shared.batches.summary import summarize
from shared.config import Settings
from shared.db import on_rollback
from shared.errors import InvalidRequest, UploadTooLarge
from shared.jobs.admission import refuse_if_full
from shared.registry.service import choose_model
from shared.schemas.batches import BatchCreated, BatchRead, BatchUrls
from shared.schemas.jobs import FEATURES_DESCRIPTION, JobRead
from shared.storage import Storage, storage_key

router = APIRouter(prefix="/v1/batches", tags=["batches"])

# The form field carries JSON text; each URL's form is then checked like a single job's.
AUDIO_URL_LIST = TypeAdapter(Json[list[str]])

BATCH_BODY = openapi_body(
    {
        "audio_urls": "A JSON array of http(s) audio URLs",
        "metadata": "A small JSON object, kept with the batch",
        "webhook_url": "Notified of every job and of the batch",
        "model": "As for a job, for every job of the batch",
        "features": FEATURES_DESCRIPTION + ": true or false, for every job",
        "transcribe": "true: also transcribe every recording (needs EMOQ_ASR_MODEL)",
    },
    BatchUrls,
    files="files",
)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=BATCH_BODY,
    summary="Submit many recordings at once: files, audio URLs, or both",
)
async def create_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> BatchCreated:
    await run_in_threadpool(refuse_if_full, session, caller)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = BatchUrls.model_validate_json(await request.body())
        except ValidationError as exc:
            raise InvalidRequest(
                'send {"audio_urls": [...]} or a multipart upload', code="invalid_body"
            ) from exc
        new = batches.NewBatch(
            id=uuid.uuid4(),
            jobs=[job_from_url(url) for url in body.audio_urls],
            webhook_url=parse_http_url(body.webhook_url, field="webhook_url"),
            metadata=body.metadata,
            model=parse_model(body.model, settings),
            with_features=body.features,
            transcribe=body.transcribe,
        )
    else:
        new = await _batch_from_form(request, session, settings, storage)
    if not new.jobs:
        raise InvalidRequest("a batch needs at least one file or audio URL", code="empty_batch")
    if len(new.jobs) > settings.max_batch_files:
        raise InvalidRequest(f"at most {settings.max_batch_files} files per batch", code="too_many_files")
    check_transcription(new.transcribe, settings)
    await run_in_threadpool(check_webhook, new.webhook_url, caller, settings)
    choice = await run_in_threadpool(choose_model, session, caller, new.model, settings)
    new = replace(
        new,
        jobs=[
            replace(
                job,
                batch_id=new.id,
                position=position,
                webhook_url=new.webhook_url,
                with_features=new.with_features,
                transcribe=new.transcribe,
                model=choice.model,
                model_version_id=choice.version_id,
            )
            for position, job in enumerate(new.jobs)
        ],
    )
    batch, jobs = await run_in_threadpool(batches.create_batch, session, storage, caller, new)
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return BatchCreated(id=batch.id, job_ids=[job.id for job in jobs])


async def _batch_from_form(
    request: Request, session: Session, settings: Settings, storage: Storage
) -> batches.NewBatch:
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_batch_bytes + ENVELOPE_BYTES * settings.max_batch_files:
        raise UploadTooLarge(
            f"the files exceed {settings.max_batch_bytes} bytes together", code="batch_too_large"
        )
    form = await receive_form(
        request,
        storage,
        new_key=lambda: storage_key(uuid.uuid4()),
        max_file_bytes=settings.max_upload_bytes,
        file_fields=frozenset({"files", "file"}),
        max_files=settings.max_batch_files,
        max_field_bytes=FIELD_BYTES_FACTOR * max(settings.max_metadata_bytes, 256 * settings.max_batch_files),
        max_total_file_bytes=settings.max_batch_bytes,
        tolerate_oversized_files=True,
    )
    for received in form.files:
        if received.blob is not None:
            on_rollback(session, lambda key=received.blob.key: storage.delete(key))
    jobs = [await job_from_file(received, storage, settings) for received in form.files]
    jobs += [job_from_url(url) for url in _url_list(form.fields.get("audio_urls"))]
    return batches.NewBatch(
        id=uuid.uuid4(),
        jobs=jobs,
        webhook_url=parse_http_url(form.fields.get("webhook_url"), field="webhook_url"),
        metadata=parse_metadata(form.fields.get("metadata"), max_bytes=settings.max_metadata_bytes),
        model=parse_model(form.fields.get("model"), settings),
        with_features=parse_flag(form.fields.get("features"), field="features"),
        transcribe=parse_flag(form.fields.get("transcribe"), field="transcribe"),
    )


def _url_list(raw: str | None) -> list[str]:
    if not raw:
        return []
    try:
        return AUDIO_URL_LIST.validate_python(raw)
    except ValidationError as exc:
        raise InvalidRequest("audio_urls must be a JSON array of strings", code="invalid_audio_urls") from exc


@router.get("/{batch_id}", summary="A batch's counts, progress and its jobs (paginated)")
def read_batch(
    batch_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    cursor: Annotated[int | None, Query(description="`next_cursor` of the previous page", ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> BatchRead:
    batch = batches.get_batch(session, caller, batch_id)
    jobs = repository.jobs_page(
        session, batch_id, after_position=-1 if cursor is None else cursor - 1, limit=limit + 1
    )
    page = jobs[:limit]
    return BatchRead(
        **summarize(session, batch).model_dump(),
        jobs=[JobRead.from_job(job, with_segments=False) for job in page],
        next_cursor=str((page[-1].position or 0) + 1) if len(jobs) > limit else None,
    )


@router.delete("/{batch_id}", summary="Cancel every job of the batch that has not finished")
def cancel_batch(
    batch_id: uuid.UUID, session: SessionDep, caller: CallerDep, storage: StorageDep
) -> BatchRead:
    batches.cancel_batch(session, storage, caller, batch_id)
    return read_batch(batch_id, session, caller)


@router.get(
    "/{batch_id}/results",
    summary="Every finished job's result: NDJSON, or CSV with `Accept: text/csv`",
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
def batch_results(
    batch_id: uuid.UUID,
    session: SessionDep,
    caller: CallerDep,
    accept: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    batch = batches.get_batch(session, caller, batch_id)
    if "text/csv" in (accept or ""):
        headers = {"Content-Disposition": f'attachment; filename="batch-{batch_id}.csv"'}
        return StreamingResponse(results.as_csv(session, batch), media_type="text/csv", headers=headers)
    return StreamingResponse(results.as_ndjson(batch), media_type="application/x-ndjson")
