"""What inference workers count for Prometheus: how long scoring takes, against how much audio."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INFERENCE_SECONDS = Histogram(
    "emoq_inference_seconds",
    "Decoding and scoring one job's audio",
    ["device"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
AUDIO_SECONDS = Counter("emoq_audio_seconds_total", "Seconds of audio analysed", ["device"])
REAL_TIME_FACTOR = Histogram(
    "emoq_real_time_factor",
    "Inference time over audio duration: 0.01 is a minute of audio in 0.6 s",
    ["device"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
)
# The slowest load of any process: the figure that decides how long a scaled-out worker takes to serve.
MODEL_LOAD_SECONDS = Gauge(
    "emoq_model_load_seconds",
    "Time to load the model into a worker process",
    ["model", "revision", "device"],
    multiprocess_mode="max",
)


def record_inference(*, device: str, seconds: float, audio_seconds: float) -> None:
    INFERENCE_SECONDS.labels(device).observe(seconds)
    AUDIO_SECONDS.labels(device).inc(audio_seconds)
    if audio_seconds > 0:
        REAL_TIME_FACTOR.labels(device).observe(seconds / audio_seconds)
