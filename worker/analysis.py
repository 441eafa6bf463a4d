"""One task's job from claim to the start of its analysis: the claim, audio given by URL fetched, then
the job handed to ``BatchedAnalysis``, which fills its passes with more queued jobs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace

from shared.audio import AudioInfo, probe
from shared.config import Settings
from shared.db import is_transient, session_scope
from shared.errors import AudioError, EmoQError
from shared.jobs import lease, repository
from shared.jobs.lease import ClaimedJob, ClaimOutcome
from shared.lifecycle import finish
from shared.recovery import service as recovery
from shared.storage import Storage
from worker.batching import BatchedAnalysis, give_back
from worker.download import download_audio
from worker.inference import AudioClassifier
from worker.transcription import Transcriber

log = logging.getLogger(__name__)


class DownloadCancelled(Exception):
    """The job was cancelled while its audio was being fetched."""


def analyze_job(
    job_id: uuid.UUID,
    *,
    model: str,
    classifier: AudioClassifier,
    storage: Storage,
    settings: Settings,
    shutting_down: Callable[[], bool] = lambda: False,
    transcriber: Callable[[], Transcriber] | None = None,
    model_version_id: uuid.UUID | None = None,
) -> ClaimOutcome:
    """Run the job if this attempt can claim it, with any queued jobs of the same ``model`` and
    registered version ``model_version_id`` (whose ``classifier`` this is) it can batch with. Transient
    errors (database down) propagate to the task after the job is handed back; permanent ones end the
    job as ``failed`` with a stable code. Once ``shutting_down()`` says so, every held job is handed back
    at the next pass and sent again."""
    owner = uuid.uuid4().hex
    with session_scope() as session:
        if (settled := lease.nothing_to_do(session, job_id)) is not None:
            if settled is ClaimOutcome.DONE:
                log.info("job has already ended; dropping this duplicate delivery")
            return settled
    with session_scope() as session:
        # A job whose workers keep dying (it crashes them) ends here instead of starting once more.
        if recovery.fail_if_exhausted(session, storage, job_id, max_attempts=settings.max_attempts):
            log.warning(
                "job failed: its worker died on every attempt", extra={"error_code": "worker_crashed"}
            )
            return ClaimOutcome.DONE
        outcome = lease.claim_job(session, job_id, owner=owner, lease_seconds=settings.job_lease_seconds)
    if outcome is not ClaimOutcome.CLAIMED:
        return outcome
    try:
        first = _prepare(job_id, owner, storage=storage, settings=settings)
    except DownloadCancelled:
        log.info("job stopped: cancelled while its audio was fetched")
        return ClaimOutcome.CLAIMED
    except Exception as exc:
        if is_transient(exc):
            give_back(job_id, owner, resend=False)
            raise
        if isinstance(exc, EmoQError):
            _fail(job_id, storage, code=exc.code, message=exc.message)
        else:
            log.exception("unexpected error while fetching")
            _fail(job_id, storage, code="internal_error", message="the worker hit an unexpected error")
        return ClaimOutcome.CLAIMED
    BatchedAnalysis(
        owner,
        model=model,
        classifier=classifier,
        storage=storage,
        settings=settings,
        shutting_down=shutting_down,
        transcriber=transcriber,
        model_version_id=model_version_id,
    ).run(first)
    return ClaimOutcome.CLAIMED


def _prepare(job_id: uuid.UUID, owner: str, *, storage: Storage, settings: Settings) -> ClaimedJob:
    with session_scope() as session:
        job = repository.get(session, job_id)
        claimed, url = (ClaimedJob.of(job), job.audio_url) if job else (None, None)
    if claimed is None or claimed.audio_key is None:
        raise AudioError("the stored audio is gone", code="audio_missing")
    if url is not None and not storage.exists(claimed.audio_key):
        info = _fetch(job_id, owner, url, claimed.audio_key, storage=storage, settings=settings)
        claimed = replace(claimed, duration_s=info.duration_s, declared_duration_s=info.declared_duration_s)
    if not storage.exists(claimed.audio_key):
        raise AudioError("the stored audio is gone", code="audio_missing")
    return claimed


def _fetch(
    job_id: uuid.UUID, owner: str, url: str, key: str, *, storage: Storage, settings: Settings
) -> AudioInfo:
    """Audio given by URL is downloaded and probed here, then treated exactly like an upload. Returns
    what its header tells, as the API records it for an upload."""
    blob, content_type = download_audio(url, key, storage=storage, settings=settings)
    with storage.local_path(key) as path:
        info = probe(path, max_seconds=settings.max_audio_seconds)
    with session_scope() as session:
        recorded = lease.record_download(
            session, job_id, owner, blob=blob, info=info, content_type=content_type
        )
    if not recorded:
        # Cancelled while downloading: the cancellation could not delete what did not exist yet.
        storage.delete(key)
        raise DownloadCancelled
    return info


def _fail(job_id: uuid.UUID, storage: Storage, *, code: str, message: str) -> None:
    log.info("job failed", extra={"error_code": code})
    with session_scope() as session:
        finish.fail_job(session, storage, job_id, code=code, message=message)
