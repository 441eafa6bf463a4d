"""Confidence, episodes and derived arousal/valence: pure functions over a result's scores."""

from __future__ import annotations

import pytest

from shared.config import Settings
from shared.results.affect import DEFAULT_CIRCUMPLEX, derive_affect, placements_for
from shared.results.confidence import measure
from shared.results.episodes import merge_episodes
from shared.results.interpretation import DEFAULT_LOW_CONFIDENCE, Interpretation
from shared.schemas.results import Classification, Score, Segment, sorted_scores

LABELS = ["angry", "happy", "neutral", "sad"]


def window(start: float, label: str, top: float = 0.7, *, length: float = 1.0) -> Segment:
    rest = (1.0 - top) / (len(LABELS) - 1)
    scores = sorted_scores(LABELS, [top if name == label else rest for name in LABELS])
    return Segment(start_s=start, end_s=start + length, dominant=scores[0], scores=scores)


def silent(start: float) -> Segment:
    return Segment(start_s=start, end_s=start + 1.0, silent=True)


def timeline(labels: str) -> list[Segment]:
    """One-second windows: a=angry h=happy n=neutral s=sad, '.' silent."""
    names = {"a": "angry", "h": "happy", "n": "neutral", "s": "sad"}
    return [silent(i) if c == "." else window(float(i), names[c]) for i, c in enumerate(labels)]


def spans(segments: list[Segment], **kwargs: float) -> list[tuple[float, float, str]]:
    episodes = merge_episodes(segments, **{"min_seconds": 3.0, "switch_margin": 0.1, **kwargs})
    return [(e.start_s, e.end_s, e.dominant.label) for e in episodes]


def test_confidence_is_the_top_score_and_its_margin() -> None:
    confidence = measure(sorted_scores(LABELS, [0.5, 0.3, 0.15, 0.05]))
    assert confidence.score == pytest.approx(0.5)
    assert confidence.margin == pytest.approx(0.2)
    assert measure([Score(label="angry", score=1.0)]).margin == 1.0


def test_episodes_merge_runs_of_one_emotion() -> None:
    assert spans(timeline("aaaahhhhh")) == [(0.0, 4.0, "angry"), (4.0, 9.0, "happy")]


def test_a_blip_shorter_than_the_minimum_is_absorbed() -> None:
    assert spans(timeline("aaaahaaasaaa")) == [(0.0, 12.0, "angry")]
    # Two different challengers in a row do not add up to a switch.
    assert spans(timeline("aaaahsaaa")) == [(0.0, 9.0, "angry")]


def test_a_short_opening_is_taken_over_by_the_emotion_that_follows() -> None:
    assert spans(timeline("hnaaaaa")) == [(0.0, 7.0, "angry")]


def test_a_challenger_must_lead_by_the_margin() -> None:
    # Each window leads by 0.05 over angry, which still holds 0.45: not enough to count as a challenge.
    close_calls = [window(0.0, "angry")] + [
        Segment(
            start_s=float(i),
            end_s=i + 1.0,
            dominant=Score(label="happy", score=0.5),
            scores=sorted_scores(LABELS, [0.45, 0.5, 0.05, 0.0]),
        )
        for i in range(1, 6)
    ]
    assert spans(close_calls) == [(0.0, 6.0, "angry")]
    assert spans(close_calls, switch_margin=0.0) == [(0.0, 6.0, "happy")]


def test_silence_ends_an_episode() -> None:
    assert spans(timeline("aaaa..aa")) == [(0.0, 4.0, "angry"), (6.0, 8.0, "angry")]
    assert spans(timeline("....")) == []


def test_episode_scores_are_the_mean_of_its_windows() -> None:
    [episode] = merge_episodes(
        [window(0.0, "sad", 0.9), window(1.0, "sad", 0.5, length=3.0)], min_seconds=3.0, switch_margin=0.1
    )
    assert episode.dominant.label == "sad"
    assert episode.dominant.score == pytest.approx((0.9 + 0.5 * 3) / 4)
    assert sum(s.score for s in episode.scores) == pytest.approx(1.0)
    assert episode.windows == 2


def test_affect_is_the_probability_weighted_circumplex_place() -> None:
    places = placements_for(LABELS)
    affect = derive_affect(sorted_scores(LABELS, [0.5, 0.5, 0.0, 0.0]), places)
    assert affect is not None and affect.derived is True
    assert affect.valence == pytest.approx(
        (DEFAULT_CIRCUMPLEX["angry"][0] + DEFAULT_CIRCUMPLEX["happy"][0]) / 2
    )
    assert affect.arousal == pytest.approx(
        (DEFAULT_CIRCUMPLEX["angry"][1] + DEFAULT_CIRCUMPLEX["happy"][1]) / 2
    )
    assert affect.coverage == pytest.approx(1.0)


def test_labels_without_a_place_are_left_out_and_counted() -> None:
    places = placements_for(["Angry", "mumbling"])
    affect = derive_affect(sorted_scores(["Angry", "mumbling"], [0.25, 0.75]), places)
    assert affect is not None
    assert (affect.valence, affect.arousal) == pytest.approx(DEFAULT_CIRCUMPLEX["angry"])
    assert affect.coverage == pytest.approx(0.25)
    assert derive_affect(sorted_scores(["mumbling"], [1.0]), placements_for(["mumbling"])) is None


def test_a_model_config_overrides_places() -> None:
    places = placements_for(["angry", "mumbling"], {"mumbling": {"valence": -0.1, "arousal": -0.2}})
    assert places == {"angry": DEFAULT_CIRCUMPLEX["angry"], "mumbling": (-0.1, -0.2)}
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        placements_for(["angry"], {"angry": {"valence": 2.0, "arousal": 0.0}})


def test_threshold_comes_from_settings_then_model_calibration_then_default() -> None:
    def threshold(settings: Settings, config: dict[str, object]) -> float:
        return Interpretation.from_settings(LABELS, config, settings).low_confidence

    assert threshold(Settings(), {}) == DEFAULT_LOW_CONFIDENCE
    assert threshold(Settings(), {"emoq_low_confidence": 0.62}) == 0.62
    assert threshold(Settings(low_confidence=0.3), {"emoq_low_confidence": 0.62}) == 0.3
    assert threshold(Settings(), {"emoq_low_confidence": 0.0}) == 0.0, "a calibrated 0 is a value, not unset"


def test_interpretation_flags_the_result_and_each_window() -> None:
    segments = [window(0.0, "angry", 0.9), window(1.0, "angry", 0.4), silent(2.0)]
    scores = sorted_scores(LABELS, [0.65, 0.15, 0.1, 0.1])
    raw = Classification(dominant=scores[0], scores=scores, segments=segments)
    interpretation = Interpretation.from_settings(LABELS, {}, Settings(low_confidence=0.7))

    result = interpretation.apply(raw)

    assert result.low_confidence is True and result.confidence is not None
    assert result.confidence.margin == pytest.approx(0.5)
    assert [s.low_confidence for s in result.segments] == [False, True, None]
    assert result.episodes is not None and [e.dominant.label for e in result.episodes] == ["angry"]
    assert result.affect is not None and result.affect.derived
