"""What was said, with its emotion: the speech recogniser's timed text laid over the emotion timeline.

Each utterance takes the scores of the windows it overlaps, weighted by the overlap, the way episodes
weight theirs. Times are clamped to the recording: a recogniser may place a last timestamp past the end,
or leave it out when the audio stops mid-word.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from shared.results.weighting import weighted_scores
from shared.schemas.results import Segment, Utterance


@dataclass(frozen=True)
class Spoken:
    """Text as the recogniser timed it; ``end_s`` is None where it gave no closing timestamp."""

    start_s: float | None
    end_s: float | None
    text: str


def with_emotions(spoken: Iterable[Spoken], segments: list[Segment], *, duration_s: float) -> list[Utterance]:
    """Utterances in order of start, inside ``[0, duration_s]``, each with the scores of the windows
    under it; blank text is left out. ``segments`` are the timeline's windows, ordered by time."""
    ends = [segment.end_s for segment in segments]
    utterances = []
    for piece in spoken:
        text = piece.text.strip()
        if not text:
            continue
        start = _clamp(piece.start_s or 0.0, duration_s)
        end = max(start, _clamp(duration_s if piece.end_s is None else piece.end_s, duration_s))
        scores = weighted_scores(_overlaps(segments, ends, start, end))
        utterances.append(
            Utterance(
                start_s=start,
                end_s=end,
                text=text,
                dominant=scores[0] if scores else None,
                scores=scores or None,
            )
        )
    return sorted(utterances, key=lambda utterance: (utterance.start_s, utterance.end_s))


def _overlaps(
    segments: list[Segment], ends: list[float], start: float, end: float
) -> Iterable[tuple[Segment, float]]:
    """Each window under ``[start, end]`` with the seconds it shares with it; an instant (a recogniser's
    zero-length piece) takes the windows that contain it, equally."""
    for segment in segments[bisect_left(ends, start) :]:
        if segment.start_s > end:
            break
        if end > start:
            yield segment, min(end, segment.end_s) - max(start, segment.start_s)
        else:
            yield segment, 1.0


def _clamp(seconds: float, duration_s: float) -> float:
    return min(max(0.0, seconds), duration_s)
