"""Arousal and valence derived from class probabilities through each label's place on the circumplex.

Each emotion label sits at a (valence, arousal) point of Russell's circumplex of affect (Russell 1980;
the placements below are rounded to one decimal, close to Russell & Mehrabian's 1977 ratings of these
terms; a model's folder can override them). A
recording's estimate is the probability-weighted mean of the points of the labels that have one. It is
an estimate derived from a classifier, not a measurement: results say ``"derived": true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.schemas.results import Affect, Score

# (valence, arousal), each in [-1, 1]; keys are lower-case labels, with the spellings datasets use.
_PLACES: dict[tuple[str, ...], tuple[float, float]] = {
    ("angry", "anger", "ang"): (-0.5, 0.6),
    ("bored", "boredom"): (-0.6, -0.6),
    ("calm",): (0.6, -0.5),
    ("disgust", "disgusted", "dis"): (-0.6, 0.3),
    ("fear", "fearful", "afraid", "fea"): (-0.6, 0.6),
    ("happy", "happiness", "joy", "hap"): (0.8, 0.5),
    ("neutral", "neu"): (0.0, 0.0),
    ("sad", "sadness"): (-0.6, -0.3),
    ("surprise", "surprised", "sur"): (0.4, 0.7),
}
DEFAULT_CIRCUMPLEX: dict[str, tuple[float, float]] = {
    name: place for names, place in _PLACES.items() for name in names
}

Placements = dict[str, tuple[float, float]]


def placements_for(labels: list[str], overrides: Mapping[str, Any] | None = None) -> Placements:
    """Each label's (valence, arousal): ``overrides`` (a model's ``emoq_circumplex``, label ->
    ``{"valence": v, "arousal": a}``) first, then the defaults; labels with neither are left out."""
    overrides = overrides or {}
    places: Placements = {}
    for label in labels:
        if label in overrides:
            given = overrides[label]
            places[label] = (_unit(given["valence"]), _unit(given["arousal"]))
        elif label.lower() in DEFAULT_CIRCUMPLEX:
            places[label] = DEFAULT_CIRCUMPLEX[label.lower()]
    return places


def derive_affect(scores: list[Score], places: Placements) -> Affect | None:
    """None when no scored label has a place: there is nothing to derive from."""
    placed = [(score.score, places[score.label]) for score in scores if score.label in places]
    mass = sum(weight for weight, _ in placed)
    if mass <= 0.0:
        return None
    valence = sum(weight * place[0] for weight, place in placed) / mass
    arousal = sum(weight * place[1] for weight, place in placed) / mass
    return Affect(
        arousal=_clamp(arousal), valence=_clamp(valence), coverage=_clamp(mass / sum(s.score for s in scores))
    )


def _unit(value: float) -> float:
    value = float(value)
    if not -1.0 <= value <= 1.0:
        raise ValueError(f"a circumplex coordinate must lie in [-1, 1], not {value}")
    return value


def _clamp(value: float) -> float:
    # A mean of points in [-1, 1] stays there, but for the last float bit.
    return max(-1.0, min(1.0, value))
