"""How sure a set of scores is: the dominant score and its margin over the runner-up."""

from __future__ import annotations

from shared.schemas.results import Confidence, Score


def measure(scores: list[Score]) -> Confidence:
    """``scores`` sorted from most to least likely, as every result holds them."""
    top = scores[0].score
    second = scores[1].score if len(scores) > 1 else 0.0
    return Confidence(score=top, margin=max(0.0, top - second))


def is_low(confidence: Confidence, threshold: float) -> bool:
    return confidence.score < threshold
