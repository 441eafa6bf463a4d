"""One submission, however it is asked for (``POST /v1/jobs`` or ``POST /predict``): the audio parsed
from the request, checked, stored and made a job in the request's session."""

from __future__ import annotations

import uuid
from dataclasses import replace

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.forms import parse_flag, parse_http_url, parse_metadata, parse_model
from api.intake import check_transcription, check_webhook, job_from_file, job_from_url
from api.uploads import receive_form
from shared.auth.caller import Caller
from shared.config import Settings
from shared.db import on_rollback
from shared.errors import InvalidRequest, UploadTooLarge
from shared.jobs import intake
from shared.jobs.admission import refuse_if_full
from shared.jobs.intake import NewJob
from shared.models import Job
from shared.registry.service import choose_model
from shared.schemas.jobs import JobFromUrl
from shared.storage import Storage, storage_key

# Multipart framing adds a little to the audio itself.
ENVELOPE_BYTES = 64 * 1024
# A hard memory cap on any form field; the precise metadata limit is checked afterwards, with its own code.
FIELD_BYTES_FACTOR = 2


async def submit_job(
    request: Request,
    session: Session,
    caller: Caller,
    settings: Settings,
    storage: Storage,
    idempotency_key: str | None,
    *,
    allow_url: bool = True,
) -> tuple[Job, bool]:
    """The job and whether it is new: a retry with a known idempotency key replays the first one.
    Without ``allow_url`` only an uploaded file is accepted."""
    if idempotency_key is None:
        # A retry with a key may be a replay, which creates nothing and is never refused.
        await run_in_threadpool(refuse_if_full, session, caller)
    if allow_url and request.headers.get("content-type", "").startswith("application/json"):
        new = await _job_from_json(request, settings)
    else:
        new = await _job_from_form(request, session, settings, storage, allow_url=allow_url)
    check_transcription(new.transcribe, settings)
    job, created = await run_in_threadpool(_admit, session, caller, new, settings, idempotency_key)
    if not created and new.blob is not None:
        storage.delete(new.blob.key)
    return job, created


def _admit(
    session: Session, caller: Caller, new: NewJob, settings: Settings, idempotency_key: str | None
) -> tuple[Job, bool]:
    """The checks that need the network or the database, then the job's row: one trip to the thread
    pool for all of them."""
    check_webhook(new.webhook_url, caller, settings)
    choice = choose_model(session, caller, new.model, settings)
    new = replace(
        new, model=choice.model, model_version_id=choice.version_id, idempotency_key=idempotency_key
    )
    return intake.create_job(session, caller, new)


async def _job_from_json(request: Request, settings: Settings) -> NewJob:
    try:
        body = JobFromUrl.model_validate_json(await request.body())
    except ValidationError as exc:
        raise InvalidRequest('send {"audio_url": ...} or a multipart upload', code="invalid_body") from exc
    return replace(
        job_from_url(body.audio_url),
        metadata=body.metadata,
        webhook_url=parse_http_url(body.webhook_url, field="webhook_url"),
        model=parse_model(body.model, settings),
        with_features=body.features,
        transcribe=body.transcribe,
    )


async def _job_from_form(
    request: Request, session: Session, settings: Settings, storage: Storage, *, allow_url: bool
) -> NewJob:
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes + ENVELOPE_BYTES:
        raise UploadTooLarge(f"the upload exceeds the limit of {settings.max_upload_bytes} bytes")
    job_id = uuid.uuid4()
    form = await receive_form(
        request,
        storage,
        new_key=lambda: storage_key(job_id),
        max_file_bytes=settings.max_upload_bytes,
        file_fields=frozenset({"file"}),
        max_files=1,
        max_field_bytes=FIELD_BYTES_FACTOR * max(settings.max_metadata_bytes, 2048),
    )
    for received in form.files:
        if received.blob is not None:
            on_rollback(session, lambda key=received.blob.key: storage.delete(key))
    audio_url = form.fields.get("audio_url") if allow_url else None
    if form.files and audio_url:
        raise InvalidRequest("send either a file or an audio_url, not both", code="file_and_url")
    if form.files:
        new = await job_from_file(form.files[0], storage, settings)
        if new.error is not None:
            raise new.error
    elif audio_url:
        new = job_from_url(audio_url)
    else:
        raise InvalidRequest("attach the audio as a multipart file field named 'file'", code="missing_file")
    return replace(
        new,
        metadata=parse_metadata(form.fields.get("metadata"), max_bytes=settings.max_metadata_bytes),
        webhook_url=parse_http_url(form.fields.get("webhook_url"), field="webhook_url"),
        model=parse_model(form.fields.get("model"), settings),
        with_features=parse_flag(form.fields.get("features"), field="features"),
        transcribe=parse_flag(form.fields.get("transcribe"), field="transcribe"),
    )
