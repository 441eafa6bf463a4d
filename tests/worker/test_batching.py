"""Cross-job micro-batching on the embedded default (migrated SQLite, filesystem broker, local storage)
with a real tiny checkpoint: jobs share forward passes, and each still ends once, as if run alone."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from shared import leases
from shared.catalog.names import DEFAULT_NAME
from shared.config import Settings
from shared.db import get_engine, session_scope
from shared.jobs import lease, repository
from shared.jobs.lease import ClaimOutcome
from shared.lifecycle import finish
from shared.lifecycle.batch_completion import note_job_ended
from shared.models import Batch, Job, JobResultRow, JobStatus
from shared.models.base import utcnow
from shared.storage import get_storage, storage_key
from tests.model_factory import save_tiny_checkpoint
from tests.model_versions import register_version
from tests.worker.test_inference import RATE, speechlike
from worker import batching, lease_keeper, pool_marks
from worker.analysis import analyze_job
from worker.calibration import store_temperature
from worker.inference import AudioClassifier
from worker.preprocess import Features


@pytest.fixture
def classifier(tiny_model: Path) -> AudioClassifier:
    return AudioClassifier.load(str(tiny_model), device="cpu", window_seconds=1.0, batch_size=8)


@pytest.fixture
def forward_passes(classifier: AudioClassifier, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of windows in each forward pass, in order."""
    passes: list[int] = []
    real_run = classifier.forward._run

    def counting(batch: list[Features]) -> np.ndarray:
        passes.append(len(batch))
        return real_run(batch)

    monkeypatch.setattr(classifier.forward, "_run", counting)
    return passes


def queue_job(
    tmp_path: Path, clip: np.ndarray | bytes, *, batch: bool = False, model: str | None = None
) -> uuid.UUID:
    job_id = uuid.uuid4()
    if isinstance(clip, np.ndarray):
        sf.write(tmp_path / f"{job_id}.wav", clip, RATE)
        data, duration = (tmp_path / f"{job_id}.wav").read_bytes(), len(clip) / RATE
    else:
        data, duration = clip, None
    writer = get_storage().writer(storage_key(job_id), max_bytes=10**7)
    writer.write(data)
    key = writer.commit().key
    with session_scope() as session:
        session.add(
            Job(
                id=job_id,
                status=JobStatus.QUEUED,
                audio_key=key,
                duration_s=duration,
                enqueued_at=utcnow(),
                model=model,
            )
        )
    return job_id


def stored(job_id: uuid.UUID) -> tuple[Job, JobResultRow | None]:
    with session_scope() as session:
        return session.get(Job, job_id), session.get(JobResultRow, job_id)


def alone(classifier: AudioClassifier, clip: np.ndarray) -> dict[str, float]:
    return {s.label: s.score for s in classifier.classify(clip).scores}


def run(job_id: uuid.UUID, classifier: AudioClassifier, settings: Settings, **kwargs: object) -> ClaimOutcome:
    """As the one inference process of its worker: it may claim every queued job of its model."""
    settings.worker_concurrency = 1
    return analyze_job(
        job_id, model=DEFAULT_NAME, classifier=classifier, storage=get_storage(), settings=settings, **kwargs
    )


def test_one_task_runs_the_queued_jobs_in_shared_passes_each_as_if_alone(
    embedded: Settings, classifier: AudioClassifier, forward_passes: list[int], tmp_path: Path
) -> None:
    clips = [speechlike(seconds, seed=i) for i, seconds in enumerate((0.8, 1.0, 0.6, 2.5, 0.9))]
    jobs = [queue_job(tmp_path, clip) for clip in clips]

    assert run(jobs[0], classifier, embedded) is ClaimOutcome.CLAIMED

    # 1 + 1 + 1 + 3 + 1 windows, every one in the first pass: at most one pass per batch of 8.
    assert forward_passes == [7]
    for job_id, clip in zip(jobs, clips, strict=True):
        row, result = stored(job_id)
        assert (row.status, row.attempts, row.progress) == (JobStatus.SUCCEEDED, 1, 1.0)
        assert {s["label"]: s["score"] for s in result.scores} == pytest.approx(
            alone(classifier, clip), abs=1e-5
        )
        assert result.model_precision == "fp32"
    # Their own messages, arriving later, find them finished and are dropped.
    assert run(jobs[1], classifier, embedded) is ClaimOutcome.DONE


def test_batched_jobs_are_conditioned_and_calibrated_as_the_checkpoint_asks(
    embedded: Settings, tmp_path: Path
) -> None:
    checkpoint = save_tiny_checkpoint(tmp_path / "conditioned")
    config = json.loads((checkpoint / "config.json").read_text())
    config["emoq_preprocessing"] = {"trim_db": 30, "normalize": "peak"}
    (checkpoint / "config.json").write_text(json.dumps(config))
    store_temperature(checkpoint, 2.0)
    classifier = AudioClassifier.load(str(checkpoint), device="cpu", window_seconds=1.0, batch_size=8)
    quiet = np.zeros(RATE, dtype=np.float32)
    clips = [
        np.concatenate([quiet, speechlike(seconds, seed=i), quiet]) for i, seconds in enumerate((1.2, 2.0))
    ]
    jobs = [queue_job(tmp_path, clip) for clip in clips]

    assert run(jobs[0], classifier, embedded) is ClaimOutcome.CLAIMED

    for job_id in jobs:
        # The upload as stored (16-bit WAV), which peak normalisation scales along with its rounding.
        expected = classifier.classify(sf.read(tmp_path / f"{job_id}.wav", dtype="float32")[0])
        row, result = stored(job_id)
        assert row.status == JobStatus.SUCCEEDED
        # The trimmed second of silence is a silent segment at the start: times are the upload's own.
        assert result.segments[0]["silent"] and result.segments[0]["start_s"] == 0.0
        assert result.segments[0]["end_s"] == pytest.approx(1.0, abs=0.13)
        assert [(s["start_s"], s["end_s"]) for s in result.segments] == [
            (s.start_s, s.end_s) for s in expected.segments
        ]
        assert {s["label"]: s["score"] for s in result.scores} == pytest.approx(
            {s.label: s.score for s in expected.scores}, abs=1e-5
        )


def queue_batch_jobs(
    tmp_path: Path, count: int, *, seconds: float, job_count: int | None = None
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A new batch of ``job_count`` jobs (default: ``count``) and the ids of its ``count`` queued jobs."""
    batch = Batch(id=uuid.uuid4(), job_count=job_count or count)
    with session_scope() as session:
        session.add(batch)
    job_ids = [queue_job(tmp_path, speechlike(seconds, seed=i)) for i in range(count)]
    with session_scope() as session:
        for job_id in job_ids:
            session.get(Job, job_id).batch_id = batch.id
    return batch.id, job_ids


def test_single_jobs_are_claimed_before_jobs_of_batches_and_no_more_than_asked(
    embedded: Settings, tmp_path: Path
) -> None:
    _, of_batch = queue_batch_jobs(tmp_path, 3, seconds=0.5)
    single = queue_job(tmp_path, speechlike(0.5))

    with session_scope() as session:
        claimed = lease.claim_queued(session, model=DEFAULT_NAME, owner="w", lease_seconds=60, limit=2)

    assert {c.id for c in claimed} == {single, of_batch[0]}
    assert {stored(j)[0].status for j in of_batch[1:]} == {JobStatus.QUEUED}


def test_a_process_claims_no_more_than_its_even_share_of_the_queued_work(
    embedded: Settings, tmp_path: Path
) -> None:
    _, of_batch = queue_batch_jobs(tmp_path, 9, seconds=0.3)

    def claim(owner: str, *, held: int) -> set[uuid.UUID]:
        with session_scope() as session:
            claimed = lease.claim_queued(
                session, model=DEFAULT_NAME, owner=owner, lease_seconds=60, limit=20, held=held, processes=2
            )
        return {c.id for c in claimed}

    # The first process holds the job whose message it took; with 9 queued, half of the 10 is its share.
    first = claim("a", held=1)
    second = claim("b", held=0)  # 5 left: it takes 3, leaving 2 for the jobs' own messages
    holding_too_much = claim("a", held=5)

    assert len(first) == 4 and len(second) == 3 and holding_too_much == set()
    assert first.isdisjoint(second) and first | second < set(of_batch)


def test_jobs_of_a_batch_are_claimed_longest_first_and_older_batches_first(
    embedded: Settings, tmp_path: Path
) -> None:
    def batch_of(*seconds: float) -> list[uuid.UUID]:
        batch = Batch(id=uuid.uuid4(), job_count=len(seconds))
        with session_scope() as session:
            session.add(batch)
        job_ids = [queue_job(tmp_path, speechlike(s, seed=i)) for i, s in enumerate(seconds)]
        with session_scope() as session:
            for job_id in job_ids:
                session.get(Job, job_id).batch_id = batch.id
        return job_ids

    short, longer = batch_of(0.5, 1.5)
    [newer] = batch_of(3.0)

    def claim_one() -> uuid.UUID:
        with session_scope() as session:
            [claimed] = lease.claim_queued(session, model=DEFAULT_NAME, owner="w", lease_seconds=60, limit=1)
        return claimed.id

    assert [claim_one() for _ in range(3)] == [longer, short, newer]


def test_a_worker_claims_only_jobs_of_its_model_and_the_default_model_takes_unnamed_ones(
    embedded: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "models", f"fast={embedded.model},accurate={embedded.model}")
    fast, unnamed = queue_job(tmp_path, b"x", model="fast"), queue_job(tmp_path, b"x")
    accurate = queue_job(tmp_path, b"x", model="accurate")

    with session_scope() as session:
        by_accurate = lease.claim_queued(session, model="accurate", owner="a", lease_seconds=60, limit=5)
    with session_scope() as session:
        by_fast = lease.claim_queued(session, model="fast", owner="f", lease_seconds=60, limit=5)

    assert [c.id for c in by_accurate] == [accurate]
    # Jobs queued before models had names are the default (first) model's.
    assert {c.id for c in by_fast} == {fast, unnamed}


def test_jobs_of_a_registered_version_are_claimed_only_with_jobs_of_that_version(
    embedded: Settings, tmp_path: Path, tiny_model: Path
) -> None:
    with session_scope() as session:
        first, second = (register_version(session, get_storage(), tiny_model).id for _ in range(2))
    served = queue_job(tmp_path, b"x")
    on_first = [queue_job(tmp_path, b"x"), queue_job(tmp_path, b"x")]
    on_second = queue_job(tmp_path, b"x")
    with session_scope() as session:
        for job_id in on_first:
            session.get(Job, job_id).model_version_id = first
        session.get(Job, on_second).model_version_id = second

    def claim(version_id: uuid.UUID | None) -> set[uuid.UUID]:
        with session_scope() as session:
            claimed = lease.claim_queued(
                session, model=DEFAULT_NAME, model_version_id=version_id, owner="w", lease_seconds=60, limit=9
            )
            return {job.id for job in claimed}

    # All four wait in the default model's queue; each checkpoint's passes take only its own.
    assert claim(first) == set(on_first)
    assert claim(None) == {served}
    assert claim(second) == {on_second}


def test_a_cancelled_job_ends_cancelled_while_the_others_it_shared_passes_with_succeed(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_keeper, "PROGRESS_INTERVAL_SECONDS", 0.01)
    monkeypatch.setattr(lease_keeper, "PROGRESS_STEP", 0.0)
    monkeypatch.setattr(lease_keeper, "PROGRESS_AFTER_SECONDS", 0.0)
    long_job = queue_job(tmp_path, speechlike(30.0, seed=1))
    short_job = queue_job(tmp_path, speechlike(0.7, seed=2))
    steps = 0

    def cancel_the_long_job_a_few_passes_in() -> bool:
        nonlocal steps
        steps += 1
        if steps == 3:
            with session_scope() as session:
                assert repository.finish_unless_final(session, long_job, status=JobStatus.CANCELLED)
        return False

    run(short_job, classifier, embedded, shutting_down=cancel_the_long_job_a_few_passes_in)

    row, result = stored(long_job)
    assert row.status == JobStatus.CANCELLED and result is None
    assert steps < 15, "dropped at the next renewal, not run to the end (30 passes)"
    row, result = stored(short_job)
    assert row.status == JobStatus.SUCCEEDED and result is not None


def test_a_job_that_cannot_be_decoded_fails_alone(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path
) -> None:
    good = queue_job(tmp_path, speechlike(1.2, seed=4))
    bad = queue_job(tmp_path, b"RIFF\x00\x00\x00\x00WAVEnot really audio at all")
    silent = queue_job(tmp_path, np.zeros(RATE, dtype=np.float32))

    run(good, classifier, embedded)

    assert stored(good)[0].status == JobStatus.SUCCEEDED
    assert (stored(bad)[0].status, stored(bad)[0].error_code) == (JobStatus.FAILED, "undecodable_audio")
    assert (stored(silent)[0].status, stored(silent)[0].error_code) == (JobStatus.FAILED, "no_speech")


def test_shutting_down_hands_every_held_job_back_and_sends_it_again(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path
) -> None:
    jobs = [queue_job(tmp_path, speechlike(20.0, seed=i)) for i in range(3)]
    steps = 0

    def sigterm_after_two_passes() -> bool:
        nonlocal steps
        steps += 1
        return steps > 2

    run(jobs[0], classifier, embedded, shutting_down=sigterm_after_two_passes)

    for job_id in jobs:
        row, result = stored(job_id)
        assert (row.status, row.attempts, row.lease_owner, result) == (JobStatus.QUEUED, 0, None, None)


def test_jobs_whose_end_could_not_be_recorded_are_handed_back_with_the_rest(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock on the batch row (two processes ending jobs of one batch) once left the jobs being
    recorded held by nobody until their leases expired, and each cost one more attempt."""
    jobs = [queue_job(tmp_path, speechlike(0.6, seed=i)) for i in range(3)]

    def deadlocked(*_: object, **__: object) -> bool:
        raise OperationalError("SELECT ... FOR UPDATE", {}, Exception("deadlock detected"))

    monkeypatch.setattr(finish, "complete_job", deadlocked)
    with pytest.raises(OperationalError):
        run(jobs[0], classifier, embedded)

    for job_id in jobs:
        row, result = stored(job_id)
        assert (row.status, row.attempts, row.lease_owner, result) == (JobStatus.QUEUED, 0, None, None)


def test_a_job_queued_during_the_linger_joins_the_first_pass(
    embedded: Settings,
    classifier: AudioClassifier,
    forward_passes: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = queue_job(tmp_path, speechlike(0.8))
    late: list[uuid.UUID] = []
    real_sleep = batching.time.sleep

    def a_client_submits_meanwhile(seconds: float) -> None:
        late.append(queue_job(tmp_path, speechlike(0.9, seed=5)))
        real_sleep(seconds)

    monkeypatch.setattr(batching.time, "sleep", a_client_submits_meanwhile)
    run(first, classifier, embedded.model_copy(update={"inference_linger_ms": 5.0}))

    assert forward_passes == [2]
    assert stored(late[0])[0].status == JobStatus.SUCCEEDED


def test_where_one_window_fills_a_pass_a_worker_holds_one_job_at_a_time(
    embedded: Settings,
    classifier: AudioClassifier,
    forward_passes: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large model on a CPU: a pass of one window already fills the time budget, so the other queued
    jobs stay queued, for worker processes on other cores, until this one has finished its job."""
    clips = [speechlike(0.8, seed=i) for i in range(3)]
    jobs = [queue_job(tmp_path, clip) for clip in clips]
    classifier.forward.time.seconds_per_element = 1.0  # a window takes far longer than a pass may
    queued_at_each_pass: list[int] = []
    real_run = classifier.forward._run

    def counting_queued(batch: list[Features]) -> np.ndarray:
        with session_scope() as session:
            queued_at_each_pass.append(
                sum(session.get(Job, job_id).status == JobStatus.QUEUED for job_id in jobs)
            )
        return real_run(batch)

    monkeypatch.setattr(classifier.forward, "_run", counting_queued)
    run(jobs[0], classifier, embedded)

    assert queued_at_each_pass == [2, 1, 0]
    for job_id, clip in zip(jobs, clips, strict=True):
        row, result = stored(job_id)
        assert row.status == JobStatus.SUCCEEDED
        assert {s["label"]: s["score"] for s in result.scores} == pytest.approx(
            alone(classifier, clip), abs=1e-5
        )


def test_a_process_holding_a_long_recording_leaves_jobs_of_batches_to_the_others(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its passes are full already: a batch's jobs it took would wait behind the long recording while
    the processes on other cores idle. It still takes single jobs, and the batch's once it nears its end."""
    long_job = queue_job(tmp_path, speechlike(30.0, seed=1))
    _, of_batch = queue_batch_jobs(tmp_path, 3, seconds=0.8)
    single = queue_job(tmp_path, speechlike(0.8, seed=9))
    seen_at_each_pass: list[tuple[int, JobStatus, int]] = []
    real_run = classifier.forward._run

    def watching(batch: list[Features]) -> np.ndarray:
        with session_scope() as session:
            queued = sum(session.get(Job, job_id).status == JobStatus.QUEUED for job_id in of_batch)
            mark = bytes(pool_marks._marks)[pool_marks._slot()]  # what the pool's other processes see
            seen_at_each_pass.append((queued, session.get(Job, single).status, mark))
        return real_run(batch)

    monkeypatch.setattr(classifier.forward, "_run", watching)
    run(long_job, classifier, embedded)

    assert classifier.windows_per_pass() == 8 and len(seen_at_each_pass) > 4
    # The single job joined the first pass; the batch's three waited until the end drew near.
    assert seen_at_each_pass[0] == (3, JobStatus.PROCESSING, pool_marks.SATURATED)
    assert seen_at_each_pass[-1][0] == 0 and seen_at_each_pass[-1][2] == pool_marks.ANALYSING
    for job_id in [long_job, single, *of_batch]:
        assert stored(job_id)[0].status == JobStatus.SUCCEEDED


def test_on_postgresql_two_workers_claiming_at_once_never_share_a_job_nor_wait(
    postgres: str, tmp_path: Path
) -> None:
    jobs = {queue_job(tmp_path, speechlike(0.3, seed=i)) for i in range(5)}
    engine = create_engine(postgres)
    with Session(engine) as first, Session(engine) as second:
        mine = lease.claim_queued(
            first, model=DEFAULT_NAME, owner="a", lease_seconds=60, limit=3
        )  # not committed yet
        first_rows_locked = {c.id for c in mine}
        second.execute(sqlalchemy_lock_timeout())
        theirs = lease.claim_queued(second, model=DEFAULT_NAME, owner="b", lease_seconds=60, limit=3)
        first.commit()
        second.commit()
    engine.dispose()

    assert len(first_rows_locked) == 3 and len(theirs) == 2
    assert first_rows_locked | {c.id for c in theirs} == jobs
    with session_scope() as session:
        owners = {session.get(Job, job_id).lease_owner for job_id in jobs}
    assert owners == {"a", "b"}


def sqlalchemy_lock_timeout() -> object:
    from sqlalchemy import text

    # Without SKIP LOCKED the second claim would wait on the first's rows; fail fast instead of hanging.
    return text("SET lock_timeout = '2s'")


def test_on_postgresql_two_jobs_of_a_batch_ending_at_once_do_not_deadlock(
    postgres: str, tmp_path: Path
) -> None:
    """Ending a job updates its row twice (the result, then the audio key), and the second update
    re-checks the foreign key: each transaction holds a key-share lock on the batch before it locks the
    batch to see whether it was the last job. Two that took FOR UPDATE there waited for each other."""
    batch_id, jobs = queue_batch_jobs(tmp_path, 2, seconds=0.3, job_count=3)
    with session_scope() as session:
        for job_id in jobs:
            assert repository.claim(session, job_id, owner=str(job_id), lease_seconds=60)
    engine = create_engine(postgres)
    with Session(engine) as first, Session(engine) as second:
        for session, job_id in zip((first, second), jobs, strict=True):
            for progress in (0.5, 1.0):
                assert leases.update_owned(session, Job, job_id, str(job_id), progress=progress)
            session.flush()

        def end(session: Session) -> None:
            note_job_ended(session, batch_id)
            time.sleep(0.2)  # the other reaches its lock meanwhile
            session.commit()

        with ThreadPoolExecutor(max_workers=2) as pool:
            for ending in [pool.submit(end, first), pool.submit(end, second)]:
                ending.result(timeout=30)
    engine.dispose()


def test_cancelling_a_job_between_claims_keeps_it_cancelled(embedded: Settings, tmp_path: Path) -> None:
    job_id = queue_job(tmp_path, speechlike(0.5))
    with session_scope() as session:
        [claimed] = lease.claim_queued(session, model=DEFAULT_NAME, owner="w", lease_seconds=60, limit=5)
    with session_scope() as session:
        assert finish.fail_job(session, get_storage(), job_id, code="x", message="y")
    with session_scope() as session:
        held = leases.renew_owned(session, Job, "w", {claimed.id: 0.5}, lease_seconds=60)

    assert held == set()


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement the process sends, in order."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement.split()[0].upper())

    def record_commit(_conn: object) -> None:
        sent.append("COMMIT")

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", record_commit)
    yield sent
    event.remove(engine, "before_cursor_execute", record)
    event.remove(engine, "commit", record_commit)


def test_jobs_ending_in_one_pass_are_recorded_in_one_transaction(
    embedded: Settings,
    classifier: AudioClassifier,
    tmp_path: Path,
    statements: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lease_keeper, "PROGRESS_INTERVAL_SECONDS", 60.0)  # no renewal among the counts
    jobs = [queue_job(tmp_path, speechlike(0.6, seed=i)) for i in range(6)]
    embedded = embedded.model_copy(update={"inference_linger_ms": 0.0})
    statements.clear()

    run(jobs[0], classifier, embedded)

    # Read, claim, prepare, claim the others, one commit for the six ends, and a last look for more.
    assert statements.count("COMMIT") == 6
    assert {stored(j)[0].status for j in jobs} == {JobStatus.SUCCEEDED}


def test_a_delivery_whose_job_has_ended_writes_nothing(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path, statements: list[str]
) -> None:
    jobs = [queue_job(tmp_path, speechlike(0.6, seed=i)) for i in range(2)]
    run(jobs[0], classifier, embedded)
    statements.clear()

    assert run(jobs[1], classifier, embedded) is ClaimOutcome.DONE
    assert [s for s in statements if s not in ("SELECT", "COMMIT")] == []


def test_leases_stay_alive_through_a_pass_longer_than_a_lease(
    embedded: Settings, classifier: AudioClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large model on a busy CPU can take minutes per pass: the lease must not expire meanwhile, or
    the reconciler would hand a job that is being worked on to another worker."""
    jobs = [queue_job(tmp_path, speechlike(0.7, seed=i)) for i in range(2)]
    real_run = classifier.forward._run
    leases_left: list[float] = []

    def slow_pass(batch: list[Features]) -> np.ndarray:
        time.sleep(2.5)
        with session_scope() as session:
            leases_left.extend(
                (session.get(Job, job_id).lease_expires_at - utcnow()).total_seconds() for job_id in jobs
            )
        return real_run(batch)

    monkeypatch.setattr(classifier.forward, "_run", slow_pass)
    run(jobs[0], classifier, embedded.model_copy(update={"job_lease_seconds": 1}))

    assert min(leases_left) > 0, "renewed during the pass, not after it"
    assert {stored(j)[0].status for j in jobs} == {JobStatus.SUCCEEDED}
