"""How each label is shown: a colour, an emoji and a music mood (the mapping earlier tools offered).

Common emotion labels have defaults; any other label gets a spare colour by its place among the model's
labels and no emoji or mood. A model's config can override any of them under ``emoq_display``, the way
it overrides its circumplex placements: ``{"angry": {"color": "#b00020", "emoji": "😡", "mood": "metal"}}``
(each key optional; ``"mood": null`` removes a mood).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.schemas.jobs import LabelDisplay

# Colours are the web page's light theme, so the API and the page agree; keys are lower-case labels,
# with the spellings datasets use.
_DEFAULTS: dict[tuple[str, ...], tuple[str, str, str]] = {
    ("angry", "anger", "ang"): ("#d1453b", "😠", "intense"),
    ("bored", "boredom"): ("#7c8591", "🥱", "mellow"),
    ("calm",): ("#1f9d72", "😌", "peaceful"),
    ("disgust", "disgusted", "dis"): ("#6f8f1f", "🤢", "dark"),
    ("fear", "fearful", "afraid", "fea"): ("#7c4ddb", "😨", "suspenseful"),
    ("happy", "happiness", "joy", "hap"): ("#d19a00", "😄", "upbeat"),
    ("neutral", "neu"): ("#3c8dbc", "😐", "ambient"),
    ("sad", "sadness"): ("#2f55c4", "😢", "melancholic"),
    ("surprise", "surprised", "sur"): ("#d4537e", "😮", "playful"),
}
DEFAULT_DISPLAY: dict[str, LabelDisplay] = {
    name: LabelDisplay(color=color, emoji=emoji, mood=mood)
    for names, (color, emoji, mood) in _DEFAULTS.items()
    for name in names
}
SPARE_COLORS = ("#b5651d", "#16807a", "#9c3f9c", "#5a6b2a")
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def display_for(labels: list[str], overrides: Mapping[str, Any] | None = None) -> dict[str, LabelDisplay]:
    """Every label's display: the model's ``emoq_display`` entry over the defaults."""
    overrides = overrides or {}
    shown: dict[str, LabelDisplay] = {}
    for index, label in enumerate(labels):
        base = DEFAULT_DISPLAY.get(label.lower()) or LabelDisplay(
            color=SPARE_COLORS[index % len(SPARE_COLORS)]
        )
        given = overrides.get(label) or {}
        unknown = set(given) - set(LabelDisplay.model_fields)
        if unknown:
            raise ValueError(f"emoq_display[{label!r}] has unknown keys {sorted(unknown)}")
        if "color" in given and not _HEX_COLOR.fullmatch(str(given["color"])):
            raise ValueError(f"emoq_display[{label!r}].color must be #rgb or #rrggbb, not {given['color']!r}")
        shown[label] = base.model_copy(update=given)
    return shown
