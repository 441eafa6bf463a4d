"""One job from claim to result: decode, classify with progress, record the outcome."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import closing

from shared.audio import probe, stream_mono
from shared.config import Settings
from shared.db import is_transient, session_scope
from shared.errors import AudioError, EmoQError
from shared.jobs import lease, repository
from shared.jobs.lease import ClaimOutcome
from shared.lifecycle import finish
from shared.recovery import service as recovery
from shared.schemas.results import JobResult, ModelRef
from shared.storage import Storage
from worker.download import download_audio
from worker.inference import AudioClassifier, InferenceStopped
from worker.metrics import record_inference

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.25


class HandedBack(Exception):
    """The worker is shutting down: the job went back to the queue instead of holding up the stop."""


def analyze_job(
    job_id: uuid.UUID,
    *,
    classifier: AudioClassifier,
    storage: Storage,
    settings: Settings,
    shutting_down: Callable[[], bool] = lambda: False,
) -> ClaimOutcome:
    """Run the job if this attempt can claim it. Transient errors (database down) propagate to the task
    after the job is handed back; permanent ones end the job as ``failed`` with a stable code. Once
    ``shutting_down()`` says so, the job is handed back at its next window and sent again."""
    owner = uuid.uuid4().hex
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
        _run(
            job_id,
            owner,
            classifier=classifier,
            storage=storage,
            settings=settings,
            shutting_down=shutting_down,
        )
    except InferenceStopped:
        log.info("job stopped: cancelled or taken over")
    except HandedBack:
        _give_back(job_id, owner, resend=True)
    except Exception as exc:
        if is_transient(exc):
            _give_back(job_id, owner, resend=False)
            raise
        if isinstance(exc, EmoQError):
            _fail(job_id, storage, code=exc.code, message=exc.message)
            return ClaimOutcome.CLAIMED
        log.exception("unexpected error while analysing")
        _fail(job_id, storage, code="internal_error", message="the worker hit an unexpected error")
    return ClaimOutcome.CLAIMED


def _run(
    job_id: uuid.UUID,
    owner: str,
    *,
    classifier: AudioClassifier,
    storage: Storage,
    settings: Settings,
    shutting_down: Callable[[], bool],
) -> None:
    with session_scope() as session:
        job = repository.get(session, job_id)
        key, url, header_seconds = (
            (job.audio_key, job.audio_url, job.duration_s) if job else (None, None, None)
        )
    if key is not None and url is not None and not storage.exists(key):
        header_seconds = _fetch(job_id, owner, url, key, storage=storage, settings=settings)
    if key is None or not storage.exists(key):
        raise AudioError("the stored audio is gone", code="audio_missing")

    last_report = time.monotonic()

    def on_progress(fraction: float) -> bool:
        # Each report is a write; a few a second keep progress live and cancellation prompt.
        nonlocal last_report
        if shutting_down():
            raise HandedBack
        if time.monotonic() - last_report < PROGRESS_INTERVAL_SECONDS:
            return True
        last_report = time.monotonic()
        with session_scope() as session:
            return lease.report_progress(
                session, job_id, owner, progress=round(fraction, 4), lease_seconds=settings.job_lease_seconds
            )

    rate = classifier.sampling_rate
    started = time.perf_counter()
    with (
        storage.local_path(key) as path,
        closing(stream_mono(path, target_rate=rate, max_seconds=settings.max_audio_seconds)) as blocks,
    ):
        # Decoded as it is scored: an hour of audio never sits in memory whole.
        classification = classifier.classify(
            blocks, on_progress, expected_samples=round(header_seconds * rate) if header_seconds else None
        )
    result = JobResult(
        model=ModelRef(id=classifier.model_id, revision=classifier.revision, precision=classifier.precision),
        **dict(classification),
    )
    inference_seconds = time.perf_counter() - started
    duration_s = classification.segments[-1].end_s
    with session_scope() as session:
        completed = finish.complete_job(session, storage, job_id, owner, result, duration_s=duration_s)
    if completed:
        record_inference(device=classifier.device.type, seconds=inference_seconds, audio_seconds=duration_s)
        log.info("job succeeded", extra={"dominant": result.dominant.label})


def _fetch(
    job_id: uuid.UUID, owner: str, url: str, key: str, *, storage: Storage, settings: Settings
) -> float | None:
    """Audio given by URL is downloaded and probed here, then treated exactly like an upload. Returns the
    duration its header tells, as the API records it for an upload."""
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
        raise InferenceStopped
    return info.duration_s


def _fail(job_id: uuid.UUID, storage: Storage, *, code: str, message: str) -> None:
    log.info("job failed", extra={"error_code": code})
    with session_scope() as session:
        finish.fail_job(session, storage, job_id, code=code, message=message)


def _give_back(job_id: uuid.UUID, owner: str, *, resend: bool) -> None:
    try:
        with session_scope() as session:
            given_back = lease.release_job(session, job_id, owner, resend=resend)
    except Exception:
        # The lease expires on its own; the reconciler (or the task's retry) queues the job again then.
        log.warning("could not hand the job back; its lease will expire", exc_info=True)
        return
    if given_back:
        log.info("job handed back to the queue", extra={"resent": resend})
