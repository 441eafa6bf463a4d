"""Regression guard for the model the project ships: its UAR on speakers it never heard must not fall.

It runs the real service path (``AudioClassifier.load`` on the shipped folder, ``stream_mono``, the
checkpoint's conditioning, windowed ``classify``, its temperature) on every clip of the two EmoDB speakers
the model never saw in training or model selection, and on the RAVDESS clips of the labels both corpora
share (English speakers, another corpus: evaluation only, never training).
"""

import os
from pathlib import Path

import pytest

from shared.config import SHIPPED_MODEL, get_settings
from worker.conditioning import Conditioning
from worker.evaluation.runner import Evaluation, evaluate
from worker.evaluation.scope import LabelScope, resolve_scope
from worker.inference import AudioClassifier
from worker.training.manifest import labels_of, read_manifest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TEST_SPEAKERS = ("emodb_14", "emodb_15")  # the card's test split; see models/emoq-emodb-small/README.md
EXPECTED_CLIPS = 125
# Measured UAR on these 125 clips: 0.596 with the shipped conditioning and temperature (0.603 at
# temperature 1; see the model card). The floor sits 0.10 below it: CPU thread counts and library
# versions move a few clips between classes (about 0.01-0.03), while a real regression (wrong windowing,
# normalisation, trimming offsets or label order) drops UAR towards chance, 0.14.
UAR_FLOOR = 0.50
# Measured 15-bin ECE of the reported scores: 0.137 (0.163 at temperature 1). Scores that stopped
# meaning what they say (a temperature applied twice or not at all, a softmax of a softmax) move it
# well past this.
ECE_CEILING = 0.20
RAVDESS_LABELS = ["angry", "disgust", "fear", "happy", "neutral", "sad"]
RAVDESS_CLIPS = 176
# Measured 0.359 (chance 0.167). Each RAVDESS clip opens and closes with about a second of near-silence;
# without the checkpoint's conditioning (trimmed ends, peak level) the same weights score 0.177.
RAVDESS_UAR_FLOOR = 0.30


def _evaluate(
    corpus: str, speakers: tuple[str, ...] | None, labels: list[str] | None
) -> tuple[AudioClassifier, LabelScope, Evaluation]:
    manifest = DATA / corpus / "manifest.csv"
    if not manifest.is_file():
        reason = f"{corpus} manifest not found at {manifest}: the shared data must sit beside the repository"
        # CI always has the data; there, its absence is a broken set-up, not a reason to pass quietly.
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    clips = [clip for clip in read_manifest(manifest) if speakers is None or clip.speaker in speakers]
    classifier = AudioClassifier.load(str(SHIPPED_MODEL), device="cpu")
    scope = resolve_scope(classifier.labels, labels_of(clips), labels)
    scored = scope.scored(clips)
    result = evaluate(classifier, scored, scope, max_seconds=get_settings().max_audio_seconds, progress=False)
    assert len(result.outcomes) == len(scored) and not result.failures
    return classifier, scope, result


@pytest.mark.data
def test_shipped_model_keeps_its_uar_on_held_out_speakers() -> None:
    classifier, scope, result = _evaluate("emodb", TEST_SPEAKERS, None)

    assert len(result.outcomes) == EXPECTED_CLIPS
    assert classifier.labels == ["angry", "bored", "disgust", "fear", "happy", "neutral", "sad"]
    assert result.metrics.uar >= UAR_FLOOR, f"UAR {result.metrics.uar:.3f} fell below {UAR_FLOOR}"
    assert classifier.conditioning == Conditioning(trim_db=40, normalize="peak")
    assert classifier.temperature == pytest.approx(1.2623)
    ece = result.calibration_error(classifier.labels, scope.labels, classifier.temperature)
    assert ece <= ECE_CEILING, f"ECE {ece:.3f} rose above {ECE_CEILING}"


@pytest.mark.data
def test_shipped_model_keeps_its_uar_on_another_corpus() -> None:
    _, _, result = _evaluate("ravdess-dev", None, RAVDESS_LABELS)

    assert len(result.outcomes) == RAVDESS_CLIPS
    uar = result.metrics.uar
    assert uar >= RAVDESS_UAR_FLOOR, f"RAVDESS UAR {uar:.3f} fell below {RAVDESS_UAR_FLOOR}"
