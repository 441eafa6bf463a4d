"""The reconciler on the embedded default: a migrated SQLite database and the real filesystem broker."""

from __future__ import annotations

import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from shared.broker import Queue, TaskName, create_celery, get_celery
from shared.catalog.names import DEFAULT_NAME
from shared.config import Settings
from shared.db import session_scope
from shared.jobs import lease
from shared.jobs.lease import ClaimOutcome
from shared.models import Batch, EventType, Job, JobResultRow, JobStatus, WebhookEvent
from shared.models.base import utcnow
from shared.recovery import maintenance, repository, service
from shared.recovery.broker_depth import waiting_messages
from shared.storage import get_storage, storage_key
from tests.audio_factory import write_tone
from tests.faults.servers import PrivateRedis
from tests.stored_audio import store_placeholder_audio
from worker.analysis import analyze_job

AGES_AGO = timedelta(hours=1)


def settings_for(embedded: Settings, **values: object) -> Settings:
    return embedded.model_copy(update={"max_attempts": 3, "requeue_after_seconds": 60.0, **values})


def add_job(
    status: JobStatus = JobStatus.QUEUED,
    *,
    enqueued_ago: timedelta = AGES_AGO,
    lease_left: timedelta | None = None,
    attempts: int = 0,
    batch_id: uuid.UUID | None = None,
    with_audio: bool = False,
    webhook_url: str | None = None,
    model: str | None = None,
) -> uuid.UUID:
    job_id = uuid.uuid4()
    key = store_placeholder_audio(job_id) if with_audio else None
    with session_scope() as session:
        session.add(
            Job(
                id=job_id,
                status=status,
                enqueued_at=utcnow() - enqueued_ago,
                attempts=attempts,
                batch_id=batch_id,
                audio_key=key,
                webhook_url=webhook_url,
                model=model,
                lease_owner="a-worker" if lease_left is not None else None,
                lease_expires_at=utcnow() + lease_left if lease_left is not None else None,
            )
        )
    return job_id


def add_batch(job_count: int) -> uuid.UUID:
    with session_scope() as session:
        batch = Batch(id=uuid.uuid4(), job_count=job_count, webhook_url="https://hooks.example.com/emoq")
        session.add(batch)
    return batch.id


def job(job_id: uuid.UUID) -> Job:
    with session_scope() as session:
        row = session.get(Job, job_id)
        assert row is not None
        return row


def recently_sent(job_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of the jobs the reconciler stamped as sent within the last half minute."""
    return {job_id for job_id in job_ids if job(job_id).enqueued_at > utcnow() - timedelta(seconds=30)}


def waiting(queue: Queue) -> int:
    return waiting_messages([queue])[queue]


def test_an_abandoned_job_with_attempts_left_is_queued_and_sent_again(embedded: Settings) -> None:
    settings = settings_for(embedded)
    single = add_job(JobStatus.PROCESSING, lease_left=-timedelta(seconds=1), attempts=1)
    in_batch = add_job(
        JobStatus.PROCESSING, lease_left=-timedelta(seconds=1), attempts=2, batch_id=add_batch(1)
    )
    before = utcnow()

    report = maintenance.reconcile_jobs(settings, get_storage())

    assert (report.requeued, report.failed) == (2, 0)
    for job_id, attempts in ((single, 1), (in_batch, 2)):
        row = job(job_id)
        assert row.status == JobStatus.QUEUED and row.attempts == attempts
        assert row.lease_owner is None and row.lease_expires_at is None
        assert row.enqueued_at is not None and row.enqueued_at >= before
    # Batch jobs go back to the bulk queue, so they still never hold up single jobs.
    assert (waiting(Queue.INFERENCE), waiting(Queue.BULK)) == (1, 1)


def test_an_abandoned_job_out_of_attempts_fails_as_worker_crashed_like_any_other_end(
    embedded: Settings,
) -> None:
    settings = settings_for(embedded, webhook_secret=SecretStr("whsec_" + "A" * 32))
    batch_id = add_batch(2)
    finished = add_job(JobStatus.SUCCEEDED, batch_id=batch_id)
    poison = add_job(
        JobStatus.PROCESSING,
        lease_left=-timedelta(seconds=1),
        attempts=3,
        batch_id=batch_id,
        with_audio=True,
        webhook_url="https://hooks.example.com/job",
    )

    report = maintenance.reconcile_jobs(settings, get_storage())

    assert (report.requeued, report.failed) == (0, 1)
    row = job(poison)
    assert (row.status, row.error_code, row.attempts) == (JobStatus.FAILED, "worker_crashed", 3)
    assert row.finished_at is not None and row.lease_owner is None
    # What follows any end follows this one: audio deleted, webhook recorded, the batch completed.
    assert row.audio_key is None and not get_storage().exists(storage_key(poison))
    with session_scope() as session:
        events = {(e.type, e.job_id) for e in session.scalars(select(WebhookEvent))}
        batch = session.get(Batch, batch_id)
        assert batch is not None and batch.finished_at is not None
    assert events == {(EventType.JOB_FAILED, poison), (EventType.BATCH_COMPLETED, None)}
    assert job(finished).status == JobStatus.SUCCEEDED
    assert waiting(Queue.BULK) == 0


def test_a_live_lease_is_left_alone(embedded: Settings) -> None:
    running = add_job(JobStatus.PROCESSING, lease_left=timedelta(seconds=30), attempts=3)

    report = maintenance.reconcile_jobs(settings_for(embedded), get_storage())

    assert not report
    assert job(running).status == JobStatus.PROCESSING and job(running).lease_owner == "a-worker"


def test_a_worker_that_claims_first_keeps_the_job(embedded: Settings) -> None:
    """The reconciler decides with conditional UPDATEs: a takeover between its read and its write wins."""
    abandoned = add_job(JobStatus.PROCESSING, lease_left=-timedelta(seconds=1), attempts=1)
    with session_scope() as session:
        [found] = repository.abandoned_jobs(session, now=utcnow(), limit=10)
    with session_scope() as session:
        session.get(Job, abandoned).lease_expires_at = utcnow() + timedelta(
            seconds=60
        )  # a worker took it over

    with session_scope() as session:
        outcome = service.recover_abandoned(session, get_storage(), found, max_attempts=3)

    assert outcome is service.Recovery.NONE
    assert job(abandoned).status == JobStatus.PROCESSING
    assert waiting(Queue.INFERENCE) == 0


def test_the_claim_path_fails_a_job_out_of_attempts_instead_of_starting_it_again(embedded: Settings) -> None:
    """A redelivered message (a worker killed mid-job) must not start attempt max_attempts + 1."""
    poison = add_job(JobStatus.PROCESSING, lease_left=-timedelta(seconds=1), attempts=3, with_audio=True)

    outcome = analyze_job(
        poison, model=DEFAULT_NAME, classifier=None, storage=get_storage(), settings=settings_for(embedded)
    )  # type: ignore[arg-type]

    assert outcome is ClaimOutcome.DONE
    row = job(poison)
    assert (row.status, row.error_code, row.attempts) == (JobStatus.FAILED, "worker_crashed", 3)


def test_queued_jobs_whose_messages_were_lost_are_sent_again_once(embedded: Settings) -> None:
    settings = settings_for(embedded)
    lost = [add_job() for _ in range(3)]
    fresh = add_job(enqueued_ago=timedelta(seconds=1))
    get_celery().send_task(TaskName.ANALYZE, args=[str(fresh)], queue=Queue.INFERENCE)

    first = maintenance.reconcile_jobs(settings, get_storage())
    second = maintenance.reconcile_jobs(settings, get_storage())

    # One message for four queued jobs: three are missing, and the three stale jobs are the ones sent.
    assert first.resent == {Queue.INFERENCE: 3, Queue.BULK: 0}
    assert recently_sent(lost) == set(lost)
    assert waiting(Queue.INFERENCE) == 4
    # Sent again, they have messages now: the next sweep sends nothing more.
    assert not second
    assert waiting(Queue.INFERENCE) == 4


def test_each_model_s_lost_and_abandoned_jobs_go_back_to_that_model_s_queues(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "models", f"fast={embedded.model},accurate={embedded.model}")
    fast = [add_job(model="fast"), add_job()]  # a job from before named models is the default's: fast's
    accurate = add_job(model="accurate")
    abandoned = add_job(JobStatus.PROCESSING, lease_left=-timedelta(seconds=1), model="accurate")
    in_batch = add_job(model="accurate", batch_id=add_batch(1))
    get_celery().send_task(TaskName.ANALYZE, args=[str(accurate)], queue="inference.accurate")

    report = maintenance.reconcile_jobs(settings_for(embedded), get_storage())

    assert report.requeued == 1
    assert report.resent == {
        "inference.fast": 2,
        "bulk.fast": 0,
        "inference.accurate": 0,  # its one stale job has a message, and the abandoned one was just sent
        "bulk.accurate": 1,
    }
    assert recently_sent([*fast, abandoned, in_batch]) == {*fast, abandoned, in_batch}
    assert waiting_messages(["inference.fast", "inference.accurate", "bulk.accurate", Queue.INFERENCE]) == {
        "inference.fast": 2,
        "inference.accurate": 2,
        "bulk.accurate": 1,
        Queue.INFERENCE: 0,
    }


def test_a_healthy_backlog_is_never_sent_again_however_old(embedded: Settings) -> None:
    backlog = [add_job() for _ in range(20)]
    for job_id in backlog:
        get_celery().send_task(TaskName.ANALYZE, args=[str(job_id)], queue=Queue.INFERENCE)

    report = maintenance.reconcile_jobs(settings_for(embedded), get_storage())

    assert not report
    assert waiting(Queue.INFERENCE) == 20
    assert recently_sent(backlog) == set()


def test_only_as_many_as_are_missing_are_sent_again_the_oldest_first(embedded: Settings) -> None:
    # Oldest first: under first-in-first-out, an old job with a message would have been taken already.
    backlog = [add_job(enqueued_ago=AGES_AGO - timedelta(minutes=i)) for i in range(10)]
    for job_id in backlog[3:]:
        get_celery().send_task(TaskName.ANALYZE, args=[str(job_id)], queue=Queue.INFERENCE)

    report = maintenance.reconcile_jobs(settings_for(embedded), get_storage())

    assert report.resent[Queue.INFERENCE] == 3
    assert recently_sent(backlog) == set(backlog[:3])
    assert waiting(Queue.INFERENCE) == 10


def test_jobs_queued_more_recently_than_requeue_after_wait(embedded: Settings) -> None:
    recent = add_job(enqueued_ago=timedelta(seconds=10))

    report = maintenance.reconcile_jobs(settings_for(embedded, requeue_after_seconds=60.0), get_storage())

    assert not report
    assert waiting(Queue.INFERENCE) == 0
    assert job(recent).status == JobStatus.QUEUED


def test_with_the_broker_away_abandoned_jobs_are_still_recovered(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    abandoned = add_job(JobStatus.PROCESSING, lease_left=-timedelta(seconds=1), attempts=3)
    add_job(enqueued_ago=AGES_AGO)

    def unreachable(_: list[Queue]) -> dict[Queue, int]:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(maintenance, "waiting_messages", unreachable)
    report = maintenance.reconcile_jobs(settings_for(embedded), get_storage())

    assert report.failed == 1 and report.resent == {}
    assert job(abandoned).status == JobStatus.FAILED


def test_a_worker_shutting_down_hands_its_job_back_at_the_next_window(
    embedded: Settings, tiny_model: Path, tmp_path: Path
) -> None:
    from worker.inference import AudioClassifier

    classifier = AudioClassifier.load(str(tiny_model), device="cpu", batch_size=1, window_seconds=0.02)
    job_id = add_job()
    writer = get_storage().writer(storage_key(job_id), max_bytes=10**6)
    writer.write(write_tone(tmp_path / "clip.wav", fmt="wav", seconds=2.0).read_bytes())
    with session_scope() as session:
        session.get(Job, job_id).audio_key = writer.commit().key
    asked: list[bool] = []

    def shutting_down() -> bool:
        asked.append(True)
        return len(asked) > 3  # a few windows in, SIGTERM arrives

    outcome = analyze_job(
        job_id,
        model=DEFAULT_NAME,
        classifier=classifier,
        storage=get_storage(),
        settings=embedded,
        shutting_down=shutting_down,
    )

    assert outcome is ClaimOutcome.CLAIMED
    row = job(job_id)
    # The attempt is given back with the job: the worker stopped, it did not die.
    assert (row.status, row.attempts, row.lease_owner, row.progress) == (JobStatus.QUEUED, 0, None, 0.0)
    with session_scope() as session:
        assert session.get(JobResultRow, job_id) is None
    assert len(asked) == 4, "it stopped at the first window after the request"
    assert get_storage().exists(storage_key(job_id)), "the audio stays for the next attempt"
    assert waiting(Queue.INFERENCE) == 1, "sent again at once, not left to the reconciler"


def test_hand_back_returns_only_a_job_the_caller_holds(embedded: Settings) -> None:
    held = add_job(JobStatus.PROCESSING, lease_left=timedelta(seconds=30), attempts=1, batch_id=add_batch(1))

    with session_scope() as session:
        assert not lease.release_job(session, held, "someone-else", resend=True)
    with session_scope() as session:
        assert lease.release_job(session, held, "a-worker", resend=True)

    row = job(held)
    assert (row.status, row.attempts, row.lease_owner, row.progress) == (JobStatus.QUEUED, 0, None, 0.0)
    assert waiting(Queue.BULK) == 1


def test_waiting_messages_counts_the_filesystem_queues(embedded: Settings) -> None:
    for queue, count in ((Queue.INFERENCE, 3), (Queue.BULK, 1)):
        for _ in range(count):
            get_celery().send_task(TaskName.ANALYZE, args=[str(uuid.uuid4())], queue=queue)

    assert waiting_messages([Queue.INFERENCE, Queue.BULK, Queue.WEBHOOKS]) == {
        Queue.INFERENCE: 3,
        Queue.BULK: 1,
        Queue.WEBHOOKS: 0,
    }


@pytest.mark.integration
def test_waiting_messages_counts_redis_queues_and_an_empty_one_is_zero(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        redis = PrivateRedis(Path(folder))
        redis.start()
        try:
            celery = create_celery(embedded.model_copy(update={"broker_url": redis.url}))
            monkeypatch.setattr("shared.recovery.broker_depth.get_celery", lambda: celery)
            assert waiting_messages([Queue.INFERENCE, Queue.BULK]) == {Queue.INFERENCE: 0, Queue.BULK: 0}
            for _ in range(4):
                celery.send_task(TaskName.ANALYZE, args=[str(uuid.uuid4())], queue=Queue.BULK)
            assert waiting_messages([Queue.INFERENCE, Queue.BULK]) == {Queue.INFERENCE: 0, Queue.BULK: 4}
        finally:
            redis.kill()
