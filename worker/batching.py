"""Cross-job micro-batching: one worker fills each forward pass with windows of several jobs.

A task that claims its job also claims, in one round trip, more queued jobs of the same model
(``lease.claim_queued``),
up to one per window of a pass, waiting at most ``EMOQ_INFERENCE_LINGER_MS`` for some to arrive, and
keeps topping up as jobs end. Claiming from the database rather than gathering broker messages
(``celery-batches``) keeps every guarantee where it already lives: each job is held under its own lease
(renewed for all of them in one statement), cancelling it drops it at the next renewal, it ends once by
a conditional UPDATE, and if this worker dies its leases expire and the reconciler sends the jobs again.
The claimed jobs' own messages, when they come, find them held or finished and are dropped. It also
batches jobs of any queue, any broker, and whoever sent them, with no extra acknowledgement protocol.

A job's result depends only on its own windows (padding is exact, see ``worker/padding.py``), so it is
the same as when run alone, within the precision's tolerance.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy.orm import Session

from shared.audio import falls_short, stream_mono
from shared.config import Settings
from shared.db import is_transient, session_scope
from shared.errors import EmoQError
from shared.jobs import lease
from shared.jobs.lease import ClaimedJob
from shared.lifecycle import finish
from shared.logs import bind_job
from shared.schemas.results import Classification, JobResult, ModelRef
from shared.storage import Storage
from worker.acoustics.summary import describe
from worker.acoustics.tracks import TrackExtractor
from worker.batcher import LOOKAHEAD_PASSES, Prefetched, Stream
from worker.cores import IdleCores
from worker.devices import pool_size
from worker.inference import AudioClassifier
from worker.lease_keeper import PROGRESS_INTERVAL_SECONDS, LeaseKeeper
from worker.metrics import record_inference
from worker.pool_marks import analysing, mark_saturated, saturated_others
from worker.transcription import Transcriber, add_transcript

log = logging.getLogger(__name__)


class HandedBack(Exception):
    """The worker is shutting down: its jobs went back to the queue instead of holding up the stop."""


@lru_cache(maxsize=1)
def decode_executor() -> ThreadPoolExecutor:
    """One decoding thread per worker process, made on first use (after fork, never in the parent)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode")


@dataclass
class _Running:
    job: ClaimedJob
    stream: Stream
    resources: ExitStack
    # Measures the decoded audio as it streams to the classifier, when the job asked for features.
    acoustics: TrackExtractor | None = None
    started: float = field(default_factory=time.perf_counter)


class BatchedAnalysis:
    """The jobs of one checkpoint (a served model's, or one registered version's) one owner holds,
    analysed together until none is left and the queue has no more for it."""

    def __init__(
        self,
        owner: str,
        *,
        model: str,
        classifier: AudioClassifier,
        storage: Storage,
        settings: Settings,
        shutting_down: Callable[[], bool],
        transcriber: Callable[[], Transcriber] | None = None,
        model_version_id: uuid.UUID | None = None,
    ) -> None:
        """``transcriber`` gives the speech recogniser, loaded on the first job that asks for a transcript;
        without one such jobs fail with ``transcription_unavailable``. With ``model_version_id`` the
        classifier is that registered version's, and only its jobs join the passes."""
        self.owner = owner
        self.model = model
        self.model_version_id = model_version_id
        self.transcriber = transcriber
        self.classifier = classifier
        self.storage = storage
        self.settings = settings
        self.shutting_down = shutting_down
        self.batcher = classifier.batcher()
        self.max_jobs = settings.inference_batch_size
        self.pass_windows = classifier.windows_per_pass()
        # Read once: it asks for the affinity and the cgroup quota, and claims come every few passes.
        self.processes = pool_size(settings)
        # Read by the lease keeper's thread, changed by this one: every change holds the lock.
        self.running: dict[uuid.UUID, _Running] = {}
        self.lock = threading.Lock()
        self.last_top_up = time.monotonic()

    def run(self, first: ClaimedJob) -> None:
        """Analyse ``first`` (already claimed by this owner) and whatever else it can claim. Transient
        errors propagate after the jobs are handed back (``first`` without a resend: its task retries)."""
        keeper = LeaseKeeper(
            self.owner, lease_seconds=self.settings.job_lease_seconds, progress_of=self._progress
        )
        idle_cores = IdleCores(self.settings) if self.classifier.borrows_idle_cores else None
        try:
            with keeper, analysing():
                self._open(first)
                self._top_up(linger=True)
                while self.running:
                    if self.shutting_down():
                        raise HandedBack
                    if idle_cores is not None:
                        idle_cores.borrow()
                    ended = self.batcher.step()
                    # Held until their end is recorded: if recording fails (a deadlock, the database
                    # away), they are handed back with the rest instead of waiting out their leases,
                    # which would cost each one more attempt.
                    self._end([self.running[stream.key] for stream in ended])
                    for stream in ended:
                        self._forget(stream.key)
                    for job_id in keeper.lost():
                        self._stopped(job_id)
                    # Slots freed, or a moment passed: jobs queued since may join the next passes.
                    if ended or time.monotonic() - self.last_top_up > PROGRESS_INTERVAL_SECONDS:
                        self._top_up(linger=False)
        except HandedBack:
            self._release_all(keep=None)
        except Exception as exc:
            if is_transient(exc):
                self._release_all(keep=first.id)
                raise
            self._fail_all(exc)
        finally:
            for running in self.running.values():
                running.resources.close()

    def _open(self, job: ClaimedJob) -> None:
        with bind_job(str(job.id)):
            if job.audio_key is None or not self.storage.exists(job.audio_key):
                self._fail(job.id, code="audio_missing", message="the stored audio is gone")
                return
            resources = ExitStack()
            path = resources.enter_context(self.storage.local_path(job.audio_key))
            rate = self.classifier.sampling_rate
            blocks = resources.enter_context(
                closing(stream_mono(path, target_rate=rate, max_seconds=self.settings.max_audio_seconds))
            )
            acoustics = None
            if job.with_features:
                acoustics = TrackExtractor(rate, silence_dbfs=self.settings.silence_dbfs)
                blocks = acoustics.tap(blocks)
            # Decoded ahead, in a thread, while the current pass runs; never held whole.
            windows = Prefetched(self.classifier.windows(blocks), decode_executor(), chunk=self.max_jobs)
            resources.callback(windows.close)
            expected = round(job.duration_s * rate) if job.duration_s else None
            stream = Stream(
                key=job.id, windows=windows, expected_windows=self.classifier.expected_windows(expected)
            )
            with self.lock:
                self.running[job.id] = _Running(job, stream, resources, acoustics)
            self.batcher.add(stream)

    def _forget(self, job_id: uuid.UUID) -> _Running:
        with self.lock:
            return self.running.pop(job_id)

    def _progress(self) -> dict[uuid.UUID, float]:
        with self.lock:
            return {job_id: round(r.stream.progress, 4) for job_id, r in self.running.items()}

    def _stopped(self, job_id: uuid.UUID) -> None:
        """A job found no longer held (cancelled, or taken over after its lease expired): dropped."""
        if job_id not in self.running:
            return
        with bind_job(str(job_id)):
            log.info("job stopped: cancelled or taken over")
        self.batcher.drop(job_id)
        self._forget(job_id).resources.close()

    def _top_up(self, *, linger: bool) -> None:
        self.last_top_up = time.monotonic()
        # Held recordings that fill the next passes (a long one, most often) are work enough: the jobs
        # of batches are left to the processes on other cores, which would otherwise idle at the end
        # while this one finishes alone. Single jobs still join, so a caller waiting on one is served
        # between the long recording's windows.
        saturated = self._unscored_windows() >= LOOKAHEAD_PASSES * self.pass_windows
        mark_saturated(saturated)
        # No more jobs than one pass takes full windows of: on a CPU where a window is dear, the jobs
        # this process would hold beyond that are better left to a process on another core.
        capacity = min(self.max_jobs, self.pass_windows)
        room = capacity - len(self.running)
        # Topped up by half a pass at a time, not job by job: a claim costs a round trip and a commit,
        # more than a short clip's windows do (a profile of a batch of short clips put claims at an
        # eighth of the process's time when they followed every job's end).
        if room <= 0 or (self.running and room < capacity / 2):
            return
        claimed = self._claim(room, singles_only=saturated)
        if linger and len(claimed) < room and self.settings.inference_linger_ms > 0:
            time.sleep(self.settings.inference_linger_ms / 1000)
            claimed += self._claim(room - len(claimed), singles_only=saturated)
        for job in claimed:
            self._open(job)

    def _unscored_windows(self) -> int:
        with self.lock:
            return sum(running.stream.unscored for running in self.running.values())

    def _claim(self, limit: int, *, singles_only: bool) -> list[ClaimedJob]:
        # The even share is among the processes that can start on the jobs soon: not the saturated.
        processes = max(1, self.processes - saturated_others())
        with session_scope() as session:
            return lease.claim_queued(
                session,
                model=self.model,
                model_version_id=self.model_version_id,
                owner=self.owner,
                lease_seconds=self.settings.job_lease_seconds,
                limit=limit,
                held=len(self.running),
                processes=processes,
                singles_only=singles_only,
            )

    def _end(self, ended: list[_Running]) -> None:
        """Record the jobs that ended in one pass, their successes in one transaction: a commit is the
        dearest statement of a job's end, and a pass of short clips ends several jobs at once."""
        succeeded: list[tuple[_Running, JobResult]] = []
        for running in ended:
            running.resources.close()
            with bind_job(str(running.job.id)):
                result = self._result(running)
            if result is not None:
                succeeded.append((running, result))
        if not succeeded:
            return
        try:
            with session_scope() as session:
                completed = [self._complete(session, running, result) for running, result in succeeded]
        except Exception as exc:
            if is_transient(exc) or len(succeeded) == 1:
                raise
            # One job's end could not be recorded: record the others each on its own.
            for running, result in succeeded:
                with session_scope() as session:
                    self._complete(session, running, result)
            return
        for (running, result), done in zip(succeeded, completed, strict=True):
            if done:
                duration_s = result.segments[-1].end_s
                record_inference(
                    device=self.classifier.device.type,
                    seconds=time.perf_counter() - running.started,
                    audio_seconds=duration_s,
                )
                with bind_job(str(running.job.id)):
                    log.info("job succeeded", extra={"dominant": result.dominant.label})

    def _result(self, running: _Running) -> JobResult | None:
        """The job's result, or None once it has failed (a decode error, no speech)."""
        stream = running.stream
        try:
            if stream.error is not None:
                raise stream.error
            classification = self.classifier.summarise(stream)
            if running.acoustics is not None:
                classification = describe(classification, running.acoustics.finish())
            if running.job.transcribe:
                classification = self._transcribed(running.job, classification)
        except Exception as exc:
            if is_transient(exc):
                raise
            if isinstance(exc, EmoQError):
                self._fail(running.job.id, code=exc.code, message=exc.message)
            else:
                log.exception("unexpected error while analysing")
                self._fail(
                    running.job.id, code="internal_error", message="the worker hit an unexpected error"
                )
            return None
        identity = self.classifier.identity
        return JobResult(
            model=ModelRef(
                name=self.model, id=identity.id, revision=identity.revision, precision=identity.precision
            ),
            **dict(classification),
        )

    def _transcribed(self, job: ClaimedJob, classification: Classification) -> Classification:
        """Run while the pass loop waits: a transcript costs more than the emotion of the same audio."""
        if self.transcriber is None or job.audio_key is None:
            raise EmoQError("this worker cannot transcribe", code="transcription_unavailable")
        transcriber = self.transcriber()
        with self.storage.local_path(job.audio_key) as path:
            return add_transcript(
                classification, path, transcriber, max_seconds=self.settings.max_audio_seconds
            )

    def _complete(self, session: Session, running: _Running, result: JobResult) -> bool:
        duration_s = result.segments[-1].end_s
        return finish.complete_job(
            session,
            self.storage,
            running.job.id,
            self.owner,
            result,
            duration_s=duration_s,
            truncated=falls_short(running.job.declared_duration_s, duration_s),
        )

    def _fail(self, job_id: uuid.UUID, *, code: str, message: str) -> None:
        log.info("job failed", extra={"error_code": code})
        with session_scope() as session:
            finish.fail_job(session, self.storage, job_id, code=code, message=message)

    def _fail_all(self, exc: Exception) -> None:
        """A forward pass failed: every job with windows in flight shares the failure."""
        if isinstance(exc, EmoQError):
            code, message = exc.code, exc.message
        else:
            log.exception("unexpected error while analysing")
            code, message = "internal_error", "the worker hit an unexpected error"
        for job_id in list(self.running):
            with bind_job(str(job_id)):
                self._fail(job_id, code=code, message=message)

    def _release_all(self, *, keep: uuid.UUID | None) -> None:
        """Hand every held job back; each is sent again except ``keep``, whose own task retries it."""
        for job_id in list(self.running):
            with bind_job(str(job_id)):
                give_back(job_id, self.owner, resend=job_id != keep)


def give_back(job_id: uuid.UUID, owner: str, *, resend: bool) -> None:
    try:
        with session_scope() as session:
            given_back = lease.release_job(session, job_id, owner, resend=resend)
    except Exception:
        # The lease expires on its own; the reconciler (or the task's retry) queues the job again then.
        log.warning("could not hand the job back; its lease will expire", exc_info=True)
        return
    if given_back:
        log.info("job handed back to the queue", extra={"resent": resend})
