"""The speech recogniser a worker process holds for jobs sent with ``transcribe=true``: any
``transformers`` automatic-speech-recognition checkpoint, run through its pipeline with timestamps.

Whisper-like (sequence-to-sequence) checkpoints give timed segments of text, roughly sentences; CTC
checkpoints (wav2vec2) time each word, so each word becomes an utterance. Long audio is cut into
``EMOQ_ASR_CHUNK_SECONDS`` chunks with overlapping strides, which the pipeline stitches back together.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from transformers import Pipeline, pipeline

from shared.audio import decode_to_mono
from shared.errors import EmoQError
from shared.results.utterances import Spoken, with_emotions
from shared.schemas.results import Classification
from worker.inference import resolve_device

log = logging.getLogger(__name__)


class Transcriber:
    def __init__(self, recogniser: Pipeline, *, chunk_seconds: float, beams: int | None = None) -> None:
        self.recogniser = recogniser
        self.chunk_seconds = chunk_seconds
        # Only sequence-to-sequence recognisers search; a CTC head's decoding has no beams to set.
        self.generate = {"num_beams": beams} if beams and recogniser.type.startswith("seq2seq") else {}
        self.sampling_rate: int = recogniser.feature_extractor.sampling_rate
        # CTC heads time characters or words, never segments; words read best under a timeline.
        self.timestamps: bool | str = "word" if recogniser.type.startswith("ctc") else True

    @classmethod
    def load(
        cls, model: str, *, revision: str | None, device: str, chunk_seconds: float, beams: int | None = None
    ) -> Transcriber:
        recogniser = pipeline(
            "automatic-speech-recognition", model=model, revision=revision, device=resolve_device(device)
        )
        return cls(recogniser, chunk_seconds=chunk_seconds, beams=beams)

    def transcribe(self, audio: np.ndarray) -> list[Spoken]:
        """``audio``: mono float32 at ``sampling_rate``. The pieces as the recogniser timed them."""
        output = self.recogniser(
            {"raw": audio, "sampling_rate": self.sampling_rate},
            return_timestamps=self.timestamps,
            chunk_length_s=self.chunk_seconds,
            # The pipeline calls chunking "experimental" for Whisper; its stitching is what it offers.
            ignore_warning=True,
            **({"generate_kwargs": self.generate} if self.generate else {}),
        )
        return [
            Spoken(start_s=chunk["timestamp"][0], end_s=chunk["timestamp"][1], text=chunk["text"])
            for chunk in output.get("chunks", [])
        ]


def add_transcript(
    classification: Classification, path: Path, transcriber: Transcriber, *, max_seconds: float
) -> Classification:
    """The classification with the recording's utterances, each with the emotion of its stretch. The
    audio is decoded again, whole, at the recogniser's rate: the pipeline's chunking needs all of it
    (an hour at 16 kHz is 230 MB). A recogniser that fails on it fails the job (``transcription_failed``)."""
    started = time.perf_counter()
    audio = decode_to_mono(path, target_rate=transcriber.sampling_rate, max_seconds=max_seconds)
    try:
        spoken = transcriber.transcribe(audio)
    except Exception as exc:
        log.exception("speech recognition failed")
        raise EmoQError("speech recognition failed on this audio", code="transcription_failed") from exc
    duration_s = (
        classification.segments[-1].end_s
        if classification.segments
        else len(audio) / transcriber.sampling_rate
    )
    utterances = with_emotions(spoken, classification.segments, duration_s=duration_s)
    log.info(
        "transcribed",
        extra={"utterances": len(utterances), "transcribe_seconds": round(time.perf_counter() - started, 3)},
    )
    return classification.model_copy(update={"utterances": utterances})
