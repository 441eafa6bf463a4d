"""What each worker process holds for its lifetime: a classifier per model it serves, each loaded once,
after fork; the registered model versions its jobs asked for, a few at a time; and the speech recogniser,
loaded on the first job that asks for a transcript."""

from __future__ import annotations

import logging
import time
import uuid
from functools import cache, lru_cache, partial
from typing import Any

from celery.signals import worker_process_init

from shared.catalog.display import display_for
from shared.config import get_settings
from shared.db import session_scope
from shared.errors import EmoQError
from shared.jobs import repository
from shared.models import ServedModel
from shared.models.base import utcnow
from shared.results.interpretation import Interpretation
from shared.storage import get_storage
from worker import shutdown
from worker.cores import share_cores
from worker.devices import process_device
from worker.inference import AudioClassifier
from worker.metrics import MODEL_LOAD_SECONDS
from worker.transcription import Transcriber
from worker.versions import LoadedVersions, load_version

log = logging.getLogger(__name__)


@worker_process_init.connect
def _preload(**_: Any) -> None:
    """Load the models as each inference process starts, not on their first job."""
    if shutdown.requested():
        # A pool process forked while the worker stops would take seconds to load a model it never uses.
        log.info("worker is stopping; the models are not loaded")
        return
    for name in get_settings().worker_model_names:
        try:
            get_classifier(name)
        except Exception:
            # Its jobs stay queued and the task retries the load; the log says why they are not served.
            log.exception("could not load the model", extra={"model": name})


def prepare_classifier(
    source: str, *, revision: str | None = None, window_seconds: float | None, hop_seconds: float | None
) -> AudioClassifier:
    """A checkpoint on this process's device at the service's precision and batch size, warmed up, its
    results interpreted as the settings say: served models and registered versions alike."""
    settings = get_settings()
    share_cores(settings)
    classifier = AudioClassifier.load(
        source,
        device=process_device(settings.device),
        precision=settings.precision,
        revision=revision,
        batch_size=settings.inference_batch_size,
        window_seconds=window_seconds,
        hop_seconds=hop_seconds,
        silence_dbfs=settings.silence_dbfs,
    )
    classifier.warm_up()
    classifier.interpretation = Interpretation.from_settings(
        classifier.labels, classifier.model_config, settings
    )
    return classifier


@cache
def get_classifier(name: str) -> AudioClassifier:
    """The classifier of the model named ``name`` in ``EMOQ_MODELS``."""
    settings = get_settings()
    [entry] = [entry for entry in settings.model_entries if entry.name == name]
    started = time.perf_counter()
    classifier = prepare_classifier(
        entry.source,
        revision=entry.revision,
        window_seconds=settings.window_seconds,
        hop_seconds=settings.hop_seconds,
    )
    load_seconds = time.perf_counter() - started
    MODEL_LOAD_SECONDS.labels(classifier.model_id, classifier.revision, classifier.device.type).set(
        load_seconds
    )
    log.info(
        "model loaded",
        extra={
            "model": name,
            "model_id": classifier.model_id,
            "revision": classifier.revision,
            "device": str(classifier.device),
            "precision": classifier.precision,
            "load_seconds": round(load_seconds, 3),
        },
    )
    record_served_model(name, classifier)
    return classifier


@lru_cache(maxsize=1)
def loaded_versions() -> LoadedVersions:
    """The registered versions this process holds, made on first use (after fork)."""
    settings = get_settings()
    return LoadedVersions(
        settings.model_cache_size,
        partial(load_version, settings=settings, storage=get_storage(), load=prepare_classifier),
    )


def get_version_classifier(version_id: uuid.UUID) -> AudioClassifier:
    """The classifier of a registered model version, loaded on its first job; ``ModelUnavailable`` when
    it cannot be."""
    return loaded_versions().get(version_id)


@lru_cache(maxsize=1)
def get_transcriber() -> Transcriber:
    """Not preloaded: most jobs never ask for a transcript, and a recogniser is larger than the
    classifier. A load that fails is not cached, so the next job tries again."""
    settings = get_settings()
    if not settings.asr_model:
        raise EmoQError(
            "this worker has no speech-recognition model (EMOQ_ASR_MODEL)", code="transcription_unavailable"
        )
    started = time.perf_counter()
    try:
        transcriber = Transcriber.load(
            settings.asr_model,
            revision=settings.asr_revision,
            device=process_device(settings.device),
            chunk_seconds=settings.asr_chunk_seconds,
            beams=settings.asr_beams,
        )
    except Exception as exc:
        log.exception("could not load the speech-recognition model")
        raise EmoQError(
            "the speech-recognition model could not be loaded", code="transcription_unavailable"
        ) from exc
    log.info(
        "speech-recognition model loaded",
        extra={"asr_model": settings.asr_model, "load_seconds": round(time.perf_counter() - started, 3)},
    )
    return transcriber


def record_served_model(name: str, classifier: AudioClassifier) -> None:
    with session_scope() as session:
        repository.record_served_model(
            session,
            ServedModel(
                name=name,
                model_id=classifier.model_id,
                revision=classifier.revision,
                labels=classifier.labels,
                sample_rate=classifier.sampling_rate,
                window_seconds=classifier.window / classifier.sampling_rate,
                hop_seconds=classifier.hop / classifier.sampling_rate,
                device=classifier.device.type,
                precision=classifier.precision,
                display={
                    label: shown.model_dump()
                    for label, shown in display_for(
                        classifier.labels, classifier.model_config.get("emoq_display")
                    ).items()
                },
                last_seen_at=utcnow(),
            ),
        )
