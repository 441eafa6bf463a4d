"""Scores of a stretch of time: the windows' scores averaged, each weighted by how much of it they
cover, so every view of the timeline (episodes, utterances) reads the windows the same way."""

from __future__ import annotations

from collections.abc import Iterable

from shared.schemas.results import Score, Segment


def weighted_scores(weighted: Iterable[tuple[Segment, float]]) -> list[Score]:
    """The mean of the windows' scores by weight, sorted from most to least likely; empty when no
    scored window has weight. Each window's scores sum to 1, so the mean does too."""
    totals: dict[str, float] = {}
    weight = 0.0
    for window, share in weighted:
        if not window.scores or share <= 0.0:
            continue
        weight += share
        for score in window.scores:
            totals[score.label] = totals.get(score.label, 0.0) + score.score * share
    if weight <= 0.0:
        return []
    return sorted(
        (Score(label=label, score=min(1.0, total / weight)) for label, total in totals.items()),
        key=lambda score: score.score,
        reverse=True,
    )
