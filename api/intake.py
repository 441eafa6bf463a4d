"""Turning what a client sent (a stored file, an audio URL) into a job the service can accept."""

from __future__ import annotations

import uuid
from dataclasses import replace

from fastapi.concurrency import run_in_threadpool

from api.uploads import ReceivedFile
from shared.audio import AudioInfo, probe
from shared.auth.caller import Caller
from shared.config import Settings
from shared.errors import EmoQError, InvalidRequest
from shared.jobs.intake import NewJob
from shared.net.guard import UrlUnresolvable, check_url_syntax, resolve_public
from shared.storage import Storage
from shared.webhooks.server_secret import require_server_secret


def probe_stored(storage: Storage, key: str, max_seconds: float) -> AudioInfo:
    with storage.local_path(key) as path:
        return probe(path, max_seconds=max_seconds)


async def job_from_file(received: ReceivedFile, storage: Storage, settings: Settings) -> NewJob:
    """A stored upload, probed. Unusable audio gives a NewJob that carries its error (and no audio)."""
    blob = received.blob
    job_id = uuid.UUID(hex=blob.key) if blob else uuid.uuid4()
    base = NewJob(id=job_id, filename=received.filename, content_type=received.content_type)
    try:
        if received.error is not None:
            raise received.error
        if blob is None or blob.size == 0:
            raise InvalidRequest("the uploaded file is empty", code="empty_upload")
        info = await run_in_threadpool(probe_stored, storage, blob.key, settings.max_audio_seconds)
    except EmoQError as exc:
        if blob is not None:
            storage.delete(blob.key)
        return replace(base, error=exc)
    return replace(base, blob=blob, info=info)


def job_from_url(url: str) -> NewJob:
    """Audio by URL: the worker downloads it, so only the URL's form is checked here."""
    check_url_syntax(url)
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1][:255] or None
    return NewJob(id=uuid.uuid4(), audio_url=url, filename=name)


def check_transcription(transcribe: bool, settings: Settings) -> None:
    """A transcript needs a speech recogniser; without one configured the request is refused now
    rather than failing later in the worker."""
    if transcribe and not settings.transcription_available:
        raise InvalidRequest(
            "transcribe=true needs a speech-recognition model, and this server has none (EMOQ_ASR_MODEL)",
            code="transcription_unavailable",
        )


def check_webhook(webhook_url: str | None, caller: Caller, settings: Settings) -> None:
    """Refuse now what could never be delivered: no secret to sign with, or a destination the guard
    refuses whatever happens (an IP literal or a name that resolves to a private address). A name that
    does not resolve yet is let through; the delivery resolves it again."""
    if webhook_url is None:
        return
    if caller.key_id is None:
        require_server_secret(settings)
    try:
        resolve_public(webhook_url, settings.webhook_allowlist)
    except UrlUnresolvable:
        return
