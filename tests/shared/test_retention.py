"""The retention purge on a migrated database: what goes, what stays, and that nothing is left dangling."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shared.config import Settings
from shared.db import session_scope
from shared.models import (
    Batch,
    Dataset,
    DatasetClip,
    EventType,
    Job,
    JobResultRow,
    JobStatus,
    Training,
    TrainingStatus,
    WebhookAttempt,
    WebhookEvent,
)
from shared.models.base import utcnow
from shared.recovery import maintenance
from shared.storage import get_storage, storage_key
from tests.stored_audio import store_placeholder_audio

DAY = timedelta(days=1)


@pytest.fixture(params=["file", "s3"])
def any_store(request: pytest.FixtureRequest) -> Settings:
    """The embedded default with audio in a folder, then in an S3 bucket: retention deletes from both."""
    return request.getfixturevalue("embedded" if request.param == "file" else "embedded_s3")


def add_job(
    status: JobStatus,
    *,
    ended_ago: timedelta | None = None,
    batch_id: uuid.UUID | None = None,
    with_audio: bool = False,
    with_result: bool = False,
) -> uuid.UUID:
    job_id = uuid.uuid4()
    key = store_placeholder_audio(job_id) if with_audio else None
    with session_scope() as session:
        session.add(
            Job(
                id=job_id,
                status=status,
                created_at=utcnow() - (ended_ago or timedelta()) - timedelta(minutes=1),
                finished_at=utcnow() - ended_ago if ended_ago is not None else None,
                batch_id=batch_id,
                audio_key=key,
            )
        )
        session.flush()
        if with_result:
            session.add(
                JobResultRow(
                    job_id=job_id,
                    model_id="m",
                    model_revision="r",
                    dominant_label="happy",
                    dominant_score=1.0,
                    scores=[{"label": "happy", "score": 1.0}],
                    segments=[],
                )
            )
            event = WebhookEvent(
                type=EventType.JOB_SUCCEEDED, job_id=job_id, url="https://hooks.example.com/", payload={}
            )
            session.add(event)
            session.flush()
            session.add(WebhookAttempt(event_id=event.id, succeeded=True, status_code=200))
    return job_id


def add_batch(*, ended_ago: timedelta | None, created_ago: timedelta = 40 * DAY) -> uuid.UUID:
    with session_scope() as session:
        batch = Batch(
            id=uuid.uuid4(),
            job_count=0,
            created_at=utcnow() - created_ago,
            finished_at=utcnow() - ended_ago if ended_ago is not None else None,
        )
        session.add(batch)
    return batch.id


def existing_jobs() -> set[uuid.UUID]:
    with session_scope() as session:
        return set(session.scalars(select(Job.id)))


def existing_batches() -> set[uuid.UUID]:
    with session_scope() as session:
        return set(session.scalars(select(Batch.id)))


def rows(model: type) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def audio_key(job_id: uuid.UUID) -> str | None:
    with session_scope() as session:
        row = session.get(Job, job_id)
        assert row is not None
        return row.audio_key


def test_audio_is_deleted_once_its_retention_period_has_passed(any_store: Settings) -> None:
    settings = any_store.model_copy(update={"audio_retention_seconds": 3600, "result_retention_days": 0})
    expired = add_job(JobStatus.SUCCEEDED, ended_ago=timedelta(hours=2), with_audio=True)
    recent = add_job(JobStatus.FAILED, ended_ago=timedelta(minutes=5), with_audio=True)
    running = add_job(JobStatus.PROCESSING, with_audio=True)

    report = maintenance.purge_expired(settings, get_storage())

    assert report.audio == 1 and (report.jobs, report.batches) == (0, 0)
    assert audio_key(expired) is None and not get_storage().exists(storage_key(expired))
    for kept in (recent, running):
        assert audio_key(kept) is not None and get_storage().exists(storage_key(kept))
    assert existing_jobs() == {expired, recent, running}, "only the audio goes, not the job"


def test_with_no_audio_retention_the_purge_leaves_audio_to_the_job_service(embedded: Settings) -> None:
    settings = embedded.model_copy(update={"audio_retention_seconds": 0, "result_retention_days": 0})
    # At 0 the job's end deletes its audio; whatever is still stored belongs to something unfinished.
    running = add_job(JobStatus.PROCESSING, with_audio=True)

    report = maintenance.purge_expired(settings, get_storage())

    assert (report.audio, report.jobs, report.batches) == (0, 0, 0)
    assert get_storage().exists(storage_key(running))


def test_finished_jobs_go_with_their_results_and_webhook_history(any_store: Settings) -> None:
    settings = any_store.model_copy(update={"result_retention_days": 30})
    expired = add_job(JobStatus.SUCCEEDED, ended_ago=31 * DAY, with_result=True, with_audio=True)
    failed = add_job(JobStatus.FAILED, ended_ago=45 * DAY)
    recent = add_job(JobStatus.SUCCEEDED, ended_ago=29 * DAY, with_result=True)
    queued_for_ages = add_job(JobStatus.QUEUED)

    report = maintenance.purge_expired(settings, get_storage())

    assert report.jobs == 2
    assert existing_jobs() == {recent, queued_for_ages}
    assert not get_storage().exists(storage_key(expired))
    assert (rows(JobResultRow), rows(WebhookEvent), rows(WebhookAttempt)) == (1, 1, 1), "cascaded"
    assert failed not in existing_jobs()


def test_a_batch_goes_whole_once_its_last_job_ended_long_enough_ago(embedded: Settings) -> None:
    settings = embedded.model_copy(update={"result_retention_days": 30})
    done = add_batch(ended_ago=31 * DAY)
    done_jobs = {
        add_job(JobStatus.SUCCEEDED, ended_ago=35 * DAY, batch_id=done, with_result=True) for _ in range(3)
    }
    # Its first jobs ended long ago, its last only yesterday: nothing of it goes yet.
    recent = add_batch(ended_ago=DAY)
    recent_jobs = {
        add_job(JobStatus.SUCCEEDED, ended_ago=35 * DAY, batch_id=recent),
        add_job(JobStatus.SUCCEEDED, ended_ago=DAY, batch_id=recent),
    }
    unfinished = add_batch(ended_ago=None)
    unfinished_jobs = {
        add_job(JobStatus.FAILED, ended_ago=35 * DAY, batch_id=unfinished),
        add_job(JobStatus.QUEUED, batch_id=unfinished),
    }
    left_empty = add_batch(ended_ago=None)

    report = maintenance.purge_expired(settings, get_storage())

    assert report.batches == 2
    assert existing_batches() == {recent, unfinished}
    assert existing_jobs() == recent_jobs | unfinished_jobs
    assert not done_jobs & existing_jobs()
    assert left_empty not in existing_batches()
    assert rows(JobResultRow) == 0


def test_a_new_empty_batch_is_not_taken_for_a_leftover(embedded: Settings) -> None:
    settings = embedded.model_copy(update={"result_retention_days": 30})
    young = add_batch(ended_ago=None, created_ago=timedelta(minutes=1))

    maintenance.purge_expired(settings, get_storage())

    assert existing_batches() == {young}


def test_result_retention_zero_keeps_everything(embedded: Settings) -> None:
    settings = embedded.model_copy(update={"result_retention_days": 0})
    ancient = add_job(JobStatus.SUCCEEDED, ended_ago=3650 * DAY, with_result=True)
    batch = add_batch(ended_ago=3650 * DAY)

    report = maintenance.purge_expired(settings, get_storage())

    assert (report.jobs, report.batches) == (0, 0)
    assert existing_jobs() == {ancient} and existing_batches() == {batch}


def test_a_large_purge_runs_in_bounded_transactions_until_nothing_is_left(
    embedded: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "SWEEP_LIMIT", 2)
    settings = embedded.model_copy(update={"result_retention_days": 1, "audio_retention_seconds": 60})
    old = {add_job(JobStatus.SUCCEEDED, ended_ago=2 * DAY, with_audio=True) for _ in range(5)}
    expired_audio = {
        add_job(JobStatus.SUCCEEDED, ended_ago=timedelta(hours=1), with_audio=True) for _ in range(5)
    }

    report = maintenance.purge_expired(settings, get_storage())

    assert (report.audio, report.jobs) == (10, 5)
    assert existing_jobs() == expired_audio
    assert not any(get_storage().exists(storage_key(job_id)) for job_id in old | expired_audio)


def add_dataset(*, created_ago: timedelta) -> tuple[uuid.UUID, str]:
    """A dataset of one stored clip, uploaded ``created_ago``; returns its id and the clip's key."""
    dataset_id, clip_id = uuid.uuid4(), uuid.uuid4()
    key = store_placeholder_audio(clip_id)
    with session_scope() as session:
        session.add(
            Dataset(
                id=dataset_id,
                name="d",
                created_at=utcnow() - created_ago,
                clip_count=1,
                label_count=1,
                speaker_count=0,
                total_duration_s=1.0,
                total_bytes=8,
                refused=[],
            )
        )
        session.flush()
        session.add(
            DatasetClip(
                dataset_id=dataset_id, storage_key=key, path="a.wav", label="sad", size_bytes=8, sha256="0"
            )
        )
    return dataset_id, key


def test_datasets_keep_as_long_as_finished_work_then_go_with_their_audio(any_store: Settings) -> None:
    settings = any_store.model_copy(update={"result_retention_days": 30, "audio_retention_seconds": 60})
    _, expired_key = add_dataset(created_ago=31 * DAY)
    recent, recent_key = add_dataset(created_ago=29 * DAY)
    # As old, but a training still reads it: it goes once the training has ended.
    in_training, _ = add_dataset(created_ago=31 * DAY)
    with session_scope() as session:
        session.add(Training(dataset_id=in_training, status=TrainingStatus.RUNNING, params={}, epochs=[]))

    report = maintenance.purge_expired(settings, get_storage())

    assert report.datasets == 1
    with session_scope() as session:
        assert set(session.scalars(select(Dataset.id))) == {recent, in_training}
    assert rows(DatasetClip) == 2
    assert not get_storage().exists(expired_key) and get_storage().exists(recent_key)
    forever = maintenance.purge_expired(
        settings.model_copy(update={"result_retention_days": 0}), get_storage()
    )
    assert forever.datasets == 0 and get_storage().exists(recent_key)
