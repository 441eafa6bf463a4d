"""Utterances laid over the emotion timeline: times kept inside the recording, scores weighted by overlap."""

from __future__ import annotations

import pytest

from shared.results.utterances import Spoken, with_emotions
from shared.schemas.results import Score, Segment


def window(start: float, end: float, angry: float | None) -> Segment:
    if angry is None:
        return Segment(start_s=start, end_s=end, silent=True)
    scores = sorted(
        [Score(label="angry", score=angry), Score(label="sad", score=1.0 - angry)],
        key=lambda s: s.score,
        reverse=True,
    )
    return Segment(start_s=start, end_s=end, dominant=scores[0], scores=scores)


TIMELINE = [window(0.0, 2.0, 0.9), window(2.0, 4.0, 0.3), window(4.0, 6.0, None), window(6.0, 7.5, 0.6)]


def scores_of(utterance) -> dict[str, float]:
    return {s.label: s.score for s in utterance.scores}


def test_an_utterance_takes_the_windows_under_it_weighted_by_overlap() -> None:
    [utterance] = with_emotions([Spoken(1.5, 3.5, " hello there ")], TIMELINE, duration_s=7.5)

    # 0.5 s of a 0.9-angry window, 1.5 s of a 0.3-angry one.
    assert scores_of(utterance)["angry"] == pytest.approx((0.5 * 0.9 + 1.5 * 0.3) / 2.0)
    assert sum(scores_of(utterance).values()) == pytest.approx(1.0)
    assert utterance.dominant is not None and utterance.dominant.label == "sad"
    assert utterance.text == "hello there"


def test_silent_windows_weigh_nothing_and_an_utterance_over_silence_alone_has_no_scores() -> None:
    over_pause, in_pause = with_emotions(
        [Spoken(3.0, 7.0, "across"), Spoken(4.5, 5.5, "hush")], TIMELINE, duration_s=7.5
    )

    assert scores_of(over_pause)["angry"] == pytest.approx((1.0 * 0.3 + 1.0 * 0.6) / 2.0)
    assert in_pause.scores is None and in_pause.dominant is None


def test_times_are_clamped_to_the_recording_ordered_and_blank_text_left_out() -> None:
    spoken = [
        Spoken(6.5, 9.0, "past the end"),
        Spoken(1.0, None, "no closing timestamp"),
        Spoken(None, 0.5, "no opening timestamp"),
        Spoken(3.0, 3.5, "   "),
        Spoken(5.0, 2.0, "backwards"),
    ]

    utterances = with_emotions(spoken, TIMELINE, duration_s=7.5)

    assert [(u.start_s, u.end_s, u.text) for u in utterances] == [
        (0.0, 0.5, "no opening timestamp"),
        (1.0, 7.5, "no closing timestamp"),
        (5.0, 5.0, "backwards"),
        (6.5, 7.5, "past the end"),
    ]


def test_an_instant_takes_the_windows_that_contain_it() -> None:
    [at_end] = with_emotions([Spoken(9.0, 9.5, "late")], TIMELINE, duration_s=7.5)
    [on_edge] = with_emotions([Spoken(2.0, 2.0, "edge")], TIMELINE, duration_s=7.5)

    assert (at_end.start_s, at_end.end_s) == (7.5, 7.5)
    assert scores_of(at_end)["angry"] == pytest.approx(0.6)
    assert scores_of(on_edge)["angry"] == pytest.approx((0.9 + 0.3) / 2)
