"""What each worker process holds for its lifetime: a classifier per model it serves, each loaded once,
after fork, and the speech recogniser, loaded on the first job that asks for a transcript."""

from __future__ import annotations

import logging
import time
from functools import cache, lru_cache
from typing import Any

import torch
from celery.signals import worker_process_init

from shared.catalog.display import display_for
from shared.config import Settings, get_settings
from shared.db import session_scope
from shared.errors import EmoQError
from shared.jobs import repository
from shared.models import ServedModel
from shared.models.base import utcnow
from shared.results.interpretation import Interpretation
from worker import shutdown
from worker.devices import pool_size, process_device, usable_cores
from worker.inference import AudioClassifier
from worker.metrics import MODEL_LOAD_SECONDS
from worker.transcription import Transcriber

log = logging.getLogger(__name__)


def share_cores(settings: Settings) -> None:
    """Give each worker process its share of the cores (one thread each by default, see ``pool_size``):
    oversubscribed torch threads crawl."""
    threads = settings.torch_threads or max(1, usable_cores() // pool_size(settings))
    torch.set_num_threads(threads)


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


@cache
def get_classifier(name: str) -> AudioClassifier:
    """The classifier of the model named ``name`` in ``EMOQ_MODELS``."""
    settings = get_settings()
    [entry] = [entry for entry in settings.model_entries if entry.name == name]
    share_cores(settings)
    started = time.perf_counter()
    classifier = AudioClassifier.load(
        entry.source,
        device=process_device(settings.device),
        precision=settings.precision,
        revision=entry.revision,
        batch_size=settings.inference_batch_size,
        window_seconds=settings.window_seconds,
        hop_seconds=settings.hop_seconds,
        silence_dbfs=settings.silence_dbfs,
    )
    classifier.warm_up()
    classifier.interpretation = Interpretation.from_settings(
        classifier.labels, classifier.model_config, settings
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
