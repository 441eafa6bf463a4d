"""A batch's finished jobs as the results endpoint streams them: NDJSON, or CSV with a fixed header."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from shared.batches import repository
from shared.config import get_settings
from shared.db import get_sessionmaker
from shared.jobs.repository import served_models
from shared.models import Batch, Job, JobResultRow
from shared.schemas.jobs import JobRead
from shared.schemas.results import MFCC_COEFFICIENTS, AcousticFeatures

FIXED_COLUMNS = ["file", "job_id", "status", "dominant_label", "dominant_score"]
TRAILING_COLUMNS = [
    "error_code",
    "duration_s",
    "declared_duration_s",
    "truncated",
    # What the worker read into the scores; empty for results stored before it did (revision 0008).
    "confidence_margin",
    "low_confidence",
    "arousal",
    "valence",
    # The name of the model that scored it (EMOQ_MODELS); empty for results stored before names (0011).
    "model",
]
# The whole recording's acoustic features, after the rest, when the batch asked for them.
FEATURE_SCALARS = [name for name in AcousticFeatures.model_fields if name != "mfcc"]
FEATURE_COLUMNS = [f"feature_{name}" for name in FEATURE_SCALARS] + [
    f"feature_mfcc{i}" for i in range(MFCC_COEFFICIENTS)
]
# The utterances' text, joined; empty unless the job was sent with transcribe=true (revision 0010).
# Last, so the free text never shifts the columns a spreadsheet reads by position.
TRANSCRIPT_COLUMN = "transcript"


def csv_labels(session: Session, batch: Batch) -> list[str]:
    """One column per label of every model involved, sorted, so the header never depends on outcomes.

    The models involved are those that scored the batch's jobs and, while jobs are still to come or
    none was scored, what the workers serving the model the batch asked for report now, or the registered
    version it asked for.
    """
    labels = repository.result_labels(session, batch.id)
    if batch.finished_at is None or not labels:
        default = get_settings().default_model
        asked = {name or default for name in repository.models_asked(session, batch.id)}
        labels.update(
            label for model in served_models(session) if model.name in asked for label in model.labels
        )
        labels.update(repository.version_labels(session, batch.id))
    return sorted(labels)


def as_csv(session: Session, batch: Batch) -> Iterator[str]:
    """The CSV, its header fixed now from the request's session; rows stream through their own."""
    return _csv_rows(
        batch.id, csv_labels(session, batch), features=repository.asked_for_features(session, batch.id)
    )


def as_ndjson(batch: Batch) -> Iterator[str]:
    """One finished job per line, as JSON, in submission order."""
    for job in _finished_jobs(batch.id):
        read = JobRead.from_job(job)
        line = {
            "job_id": str(job.id),
            "position": job.position,
            "file": job.filename,
            "status": read.status,
            "result": read.result.model_dump(mode="json") if read.result else None,
            "error": read.error.model_dump() if read.error else None,
        }
        yield json.dumps(line) + "\n"


def _finished_jobs(batch_id: uuid.UUID) -> Iterator[Job]:
    # A stream outlives the request's session, so it reads through its own.
    with get_sessionmaker()() as session:
        yield from repository.iter_finished_jobs(session, batch_id)


def _csv_rows(batch_id: uuid.UUID, labels: list[str], *, features: bool) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    features_header = FEATURE_COLUMNS if features else []
    writer.writerow([*FIXED_COLUMNS, *labels, *TRAILING_COLUMNS, *features_header, TRANSCRIPT_COLUMN])
    yield flush()
    for job in _finished_jobs(batch_id):
        result = job.result if job.status == "succeeded" else None
        scores = {s["label"]: s["score"] for s in result.scores} if result else {}
        writer.writerow(
            [
                job.filename or job.audio_url or "",
                job.id,
                job.status,
                result.dominant_label if result else "",
                f"{result.dominant_score:.6f}" if result else "",
                *(f"{scores[label]:.6f}" if label in scores else "" for label in labels),
                job.error_code or "",
                _seconds(job.duration_s),
                _seconds(job.declared_duration_s),
                _flag(job.truncated),
                *_interpretation(result),
                (result.model_name if result else None) or "",
                *(_features(result) if features else []),
                _transcript(result),
            ]
        )
        yield flush()


def _interpretation(result: JobResultRow | None) -> list[str]:
    confidence = (result.confidence if result else None) or {}
    affect = (result.affect if result else None) or {}
    return [
        _score(confidence.get("margin")),
        _flag(result.low_confidence if result else None),
        _score(affect.get("arousal")),
        _score(affect.get("valence")),
    ]


def _features(result: JobResultRow | None) -> list[str]:
    measured = (result.features if result else None) or {}
    mfcc = measured.get("mfcc") or []
    return [_number(measured.get(name)) for name in FEATURE_SCALARS] + [
        _number(mfcc[i] if i < len(mfcc) else None) for i in range(MFCC_COEFFICIENTS)
    ]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _transcript(result: JobResultRow | None) -> str:
    return " ".join(utterance["text"] for utterance in (result.utterances if result else None) or [])


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}"


def _flag(value: bool | None) -> str:
    return "" if value is None else str(value).lower()


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"
