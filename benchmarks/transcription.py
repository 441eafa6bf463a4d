"""What ``transcribe=true`` costs a job: the speech recogniser's pass over a recording, beside the
emotion analysis of the same recording.

    .venv/bin/python -m benchmarks.transcription [--seconds 120] [--repeat 3] [--asr-model PATH_OR_ID] [--asr-beams N]

Writes a recording of that length (noise whose loudness changes every second), then times, side by
side in one run, what a worker does for a job: decoding and classifying it with ``EMOQ_MODEL`` (the
shipped model unless set), and for ``transcribe=true`` also ``add_transcript`` (decoding again at
16 kHz, the recogniser with its timestamps and chunking, and the emotion of each utterance). Without
``--asr-model`` the recogniser is the tiny Whisper the tests build from a config: it measures the
plumbing, not a real Whisper, whose cost is its own network's (give ``--asr-model openai/whisper-small``
on a machine that can download it, or its folder). Run as a module from the repository root: the tiny
Whisper comes from ``tests/model_factory.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from shared.audio import decode_to_mono
from shared.config import get_settings
from tests.model_factory import save_tiny_whisper_asr
from worker.inference import AudioClassifier
from worker.transcription import Transcriber, add_transcript


def recording(path: Path, seconds: float, rate: int = 16000) -> Path:
    rng = np.random.default_rng(0)
    loudness = np.repeat(rng.uniform(0.05, 0.5, int(np.ceil(seconds))), rate)[: round(seconds * rate)]
    sf.write(path, (rng.normal(0, 1, len(loudness)) * loudness).astype(np.float32), rate)
    return path


def median_seconds(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Wall-clock and this process's CPU seconds: on a shared machine the CPU time is the steadier."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--asr-model", help="a transformers ASR checkpoint; default: the tests' tiny Whisper")
    parser.add_argument("--asr-beams", type=int, help="as EMOQ_ASR_BEAMS; default: the pipeline's (5)")
    args = parser.parse_args()
    settings = get_settings()
    with tempfile.TemporaryDirectory() as folder:
        asr_model = args.asr_model or str(save_tiny_whisper_asr(Path(folder) / "tiny-whisper"))
        path = recording(Path(folder) / "speech.wav", args.seconds)
        classifier = AudioClassifier.load(settings.model, device="cpu")
        transcriber = Transcriber.load(
            asr_model,
            revision=None,
            device="cpu",
            chunk_seconds=settings.asr_chunk_seconds,
            beams=args.asr_beams,
        )

        def classify() -> object:
            audio = decode_to_mono(path, target_rate=classifier.sampling_rate, max_seconds=args.seconds + 1)
            return classifier.classify(audio)

        classification = classify()
        emotion = median_seconds(classify, args.repeat)
        transcript = median_seconds(
            lambda: add_transcript(classification, path, transcriber, max_seconds=args.seconds + 1),
            args.repeat,
        )
        utterances = add_transcript(
            classification, path, transcriber, max_seconds=args.seconds + 1
        ).utterances
    per_second = 1000 / args.seconds
    print(
        f"{args.seconds:g} s of audio, emotion model {classifier.model_id}, recogniser {Path(asr_model).name}"
    )
    beams = args.asr_beams or "default"
    print(f"median of {args.repeat}, CPU, beams {beams}, {len(utterances or [])} utterances")
    print("ms per audio second      wall      CPU")
    print(f"emotion job:          {emotion[0] * per_second:8.1f} {emotion[1] * per_second:8.1f}")
    print(
        f"transcribe=true adds: {transcript[0] * per_second:8.1f} {transcript[1] * per_second:8.1f}"
        f"  ({transcript[1] / emotion[1]:.2f}x the emotion job's CPU)"
    )


if __name__ == "__main__":
    main()
