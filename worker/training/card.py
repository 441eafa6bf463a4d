"""The model card (README.md) written beside every checkpoint: what it was trained on, how, and how well."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from worker.evaluation.metrics import Metrics
from worker.training.architecture import SAMPLING_RATE
from worker.training.splits import SpeakerSplit
from worker.training.trainer import TrainingResult, TrainSettings

# Corpora whose terms the card can state; for any other the card tells the reader to check them.
KNOWN_CORPORA = {
    "emodb": (
        "Berlin Database of Emotional Speech (EmoDB), German, acted; 16 kHz mono.",
        "CC0-1.0, as declared by audEERING's republication of the corpus. Please cite F. Burkhardt et al., "
        '"A database of German emotional speech", Interspeech 2005, doi:10.21437/Interspeech.2005-446.',
    ),
}


@dataclass(frozen=True)
class CardFacts:
    model_name: str
    location: str  # where the checkpoint was written, for the loading example
    manifest: Path
    labels: list[str]
    split: SpeakerSplit
    settings: TrainSettings
    result: TrainingResult
    initialised_from: str
    parameters: int
    architecture: str
    device: str
    command: str
    minutes: float
    window_seconds: float
    hop_seconds: float


def render_card(facts: CardFacts) -> str:
    corpus = facts.manifest.parent.name
    description, licence = KNOWN_CORPORA.get(
        corpus, (f"Corpus in `{corpus}/`.", "Check the corpus's own licence before sharing this model.")
    )
    result = facts.result
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: audio-classification",
        f"license: {'cc0-1.0' if corpus == 'emodb' else 'other'}",
        "tags: [speech-emotion-recognition, wav2vec2, emoq]",
        "---",
        "",
        f"# {facts.model_name}",
        "",
        f"A `Wav2Vec2ForSequenceClassification` ({facts.parameters / 1e6:.2f} M parameters) that labels "
        f"speech with one of {len(facts.labels)} emotions: {', '.join(facts.labels)}. It scores "
        f"{facts.window_seconds:g} s windows every {facts.hop_seconds:g} s (`emoq_window_seconds`, "
        "`emoq_hop_seconds` in config.json) and averages them, "
        "weighted by duration, over a recording.",
        "",
        "Loads with plain transformers, no custom code:",
        "",
        "```python",
        "from transformers import AutoFeatureExtractor, AutoModelForAudioClassification",
        f'model = AutoModelForAudioClassification.from_pretrained("{facts.location}")',
        f'extractor = AutoFeatureExtractor.from_pretrained("{facts.location}")',
        "```",
        "",
        "## Data",
        "",
        description,
        "",
        f"Licence of the training data: {licence}",
        "",
        "Split by speaker, never by file (the same sentences recur across speakers and emotions):",
        "",
        "| part | speakers | clips |",
        "| --- | --- | --- |",
    ]
    for part in ("train", "validation", "test"):
        clips = getattr(facts.split, part)
        lines.append(f"| {part} | {', '.join(facts.split.speakers(part)) or '-'} | {len(clips)} |")
    lines += ["", "## Training", "", f"- initialised from: {facts.initialised_from}"]
    lines += [f"- architecture: {facts.architecture}"]
    lines += [f"- {key}: {value}" for key, value in _settings_items(facts.settings)]
    lines += [
        f"- device: {facts.device}; wall time {facts.minutes:.1f} min",
        f"- epochs run: {len(result.history)}; weights kept from epoch {result.selected_epoch}"
        + (" (early stopping)" if result.stopped_early else ""),
        "",
        "Exact command:",
        "",
        "```",
        facts.command,
        "```",
        "",
        "## Results",
        "",
        "Measured at the end of training through the service's own windowed scoring (the worker's "
        "`AudioClassifier`).",
    ]
    if result.validation is not None:
        lines += ["", "### Validation speakers (used to choose the epoch, so optimistic)", ""]
        lines += metrics_markdown(result.validation, facts.labels)
    if result.test is not None:
        lines += ["", "### Test speakers (never used for training or model selection)", ""]
        lines += metrics_markdown(result.test, facts.labels)
    lines += ["", "### Training curve", "", *curve_markdown(result)]
    lines += ["", "## Limitations", "", *LIMITATIONS]
    return "\n".join(lines) + "\n"


LIMITATIONS = [
    "- Trained on acted speech from a handful of speakers of one language; expect much lower accuracy on "
    "spontaneous speech, other languages, other microphones and rooms.",
    "- With two test speakers every figure carries several points of noise; per-class figures rest on a few "
    "clips each.",
    "- Emotion categories are a simplification: the model outputs its best guess among the labels it knows "
    "and never abstains. Do not use it to make decisions about people.",
]


def metrics_markdown(metrics: Metrics, labels: list[str]) -> list[str]:
    lines = [
        f"UAR **{metrics.uar:.3f}**, accuracy {metrics.accuracy:.3f}, macro-F1 {metrics.macro_f1:.3f}, "
        f"n = {metrics.n} (chance UAR {1 / len(labels):.3f})",
        "",
        "| label | precision | recall | F1 | support |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {label} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |"
        for label, c in zip(labels, metrics.per_class, strict=True)
    ]
    lines += ["", "Confusion matrix (rows: true, columns: predicted):", ""]
    lines += ["| true \\ predicted | " + " | ".join(labels) + " |", "| --- " * (len(labels) + 1) + "|"]
    lines += [
        f"| {label} | " + " | ".join(str(int(v)) for v in row) + " |"
        for label, row in zip(labels, metrics.confusion, strict=True)
    ]
    return lines


def describe_architecture(config: object) -> str:
    frame_ms = 1000 * math.prod(config.conv_stride) / SAMPLING_RATE
    return (
        f"{len(config.conv_dim)} conv layers ({', '.join(map(str, config.conv_dim))} channels, strides "
        f"{'-'.join(map(str, config.conv_stride))}: {frame_ms:g} ms frames, "
        f"{config.feat_extract_norm} norm), hidden {config.hidden_size}, {config.num_hidden_layers} transformer "
        f"layers, {config.num_attention_heads} heads, FFN {config.intermediate_size}"
    )


def curve_markdown(result: TrainingResult, rows: int = 15) -> list[str]:
    """About ``rows`` evenly spaced epochs, always with the selected and the last one."""
    history = result.history
    step = max(1, -(-len(history) // rows))
    shown = [r for r in history if r.epoch % step == 0 or r.epoch in (1, result.selected_epoch, len(history))]
    if all(r.validation_uar is None for r in history):
        lines = ["| epoch | training loss |", "| --- | --- |"]
        return lines + [f"| {r.epoch} | {r.loss:.3f} |" for r in shown]
    lines = ["| epoch | training loss | validation UAR | mean of last epochs |", "| --- | --- | --- | --- |"]
    return lines + [
        f"| {r.epoch} | {r.loss:.3f} | {_fmt(r.validation_uar)} | {_fmt(r.smoothed_uar)} |" for r in shown
    ]


def _settings_items(settings: TrainSettings) -> list[tuple[str, object]]:
    items = [(f.name, getattr(settings, f.name)) for f in dataclasses.fields(settings) if f.name != "augment"]
    items += [
        (f"augment.{f.name}", getattr(settings.augment, f.name)) for f in dataclasses.fields(settings.augment)
    ]
    return items


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
