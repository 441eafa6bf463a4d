"""The timeline told as episodes: consecutive windows merged into stretches of one dominant emotion.

A window only leads away from the current episode's emotion when another emotion beats it by
``switch_margin``; a switch happens once such windows of one challenger span ``min_seconds``, so a
short blip is absorbed into the episode around it (hysteresis). Near-silent windows end an episode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.results.weighting import weighted_scores
from shared.schemas.results import Episode, Segment


@dataclass
class _Stretch:
    label: str
    windows: list[Segment] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.windows[-1].end_s - self.windows[0].start_s if self.windows else 0.0


def merge_episodes(segments: list[Segment], *, min_seconds: float, switch_margin: float) -> list[Episode]:
    episodes: list[Episode] = []
    current: _Stretch | None = None
    challenge: _Stretch | None = None

    def close(end_s: float | None = None) -> None:
        nonlocal current, challenge
        if current is not None:
            if challenge is not None:
                current.windows.extend(challenge.windows)
            episodes.append(_episode(current, end_s))
        current = challenge = None

    for segment in segments:
        if segment.silent or not segment.scores or segment.dominant is None:
            close()
            continue
        if current is None:
            current = _Stretch(segment.dominant.label, [segment])
            continue
        if not _challenges(segment, current.label, switch_margin):
            if challenge is not None:
                current.windows.extend(challenge.windows)
                challenge = None
            current.windows.append(segment)
            continue
        if challenge is not None and challenge.label != segment.dominant.label:
            current.windows.extend(challenge.windows)
            challenge = None
        challenge = challenge or _Stretch(segment.dominant.label)
        challenge.windows.append(segment)
        if challenge.seconds >= min_seconds:
            if current.seconds < min_seconds:
                # Only a stretch's first episode can be this short: the challenger takes it over.
                challenge.windows[:0] = current.windows
            else:
                episodes.append(_episode(current, end_s=challenge.windows[0].start_s))
            current, challenge = challenge, None
    close()
    return episodes


def _challenges(segment: Segment, label: str, margin: float) -> bool:
    assert segment.dominant is not None and segment.scores is not None
    if segment.dominant.label == label:
        return False
    held = next((s.score for s in segment.scores if s.label == label), 0.0)
    return segment.dominant.score - held >= margin


def _episode(stretch: _Stretch, end_s: float | None) -> Episode:
    """Mean scores weighted by window length; an episode ended by a switch ends where the next starts."""
    means = weighted_scores((window, window.end_s - window.start_s) for window in stretch.windows)
    start_s = stretch.windows[0].start_s
    return Episode(
        start_s=start_s,
        end_s=max(start_s, end_s if end_s is not None else stretch.windows[-1].end_s),
        dominant=next(score for score in means if score.label == stretch.label),
        scores=means,
        windows=len(stretch.windows),
    )
