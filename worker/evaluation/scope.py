"""Which labels an evaluation scores, for data whose vocabulary differs from the model's.

Cross-corpus tests compare a model with data that share only some labels (EmoDB has "bored", RAVDESS has
"calm" and "surprise"). Scoring them fairly means keeping only rows whose label the model can give, and
letting the model choose only among the labels being scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.errors import InvalidRequest
from worker.training.manifest import Clip


@dataclass(frozen=True)
class LabelScope:
    labels: list[str]  # the model labels scored, in the model's order; the argmax runs over these only
    mapping: dict[str, str]  # data label -> model label, for every data label that is scored
    restricted: bool  # the argmax excludes some of the model's labels
    dropped_labels: list[str] = field(default_factory=list)  # data labels whose rows are not scored

    def target(self, data_label: str) -> str | None:
        return self.mapping.get(data_label)

    def scored(self, clips: list[Clip]) -> list[Clip]:
        """The clips this scope scores: those whose label maps to one of the model's."""
        return [clip for clip in clips if self.target(clip.label) is not None]


def parse_label_spec(items: list[str]) -> dict[str, str]:
    """``["angry", "calm=neutral"]`` -> ``{"angry": "angry", "calm": "neutral"}`` (data -> model label)."""
    mapping: dict[str, str] = {}
    for item in items:
        data_label, _, model_label = item.partition("=")
        mapping[data_label.strip()] = (model_label or data_label).strip()
    return mapping


def resolve_scope(model_labels: list[str], data_labels: list[str], requested: list[str] | None) -> LabelScope:
    """Without ``requested``: every model label competes and rows the model cannot label are dropped.

    With it: only the requested labels are scored (after any ``data=model`` mapping), every other row is
    dropped and the argmax is restricted to them.
    """
    if not requested:
        mapping = {label: label for label in data_labels if label in model_labels}
        return LabelScope(
            labels=list(model_labels),
            mapping=mapping,
            restricted=False,
            dropped_labels=sorted(set(data_labels) - set(mapping)),
        )
    mapping = parse_label_spec(requested)
    unknown = sorted({m for m in mapping.values() if m not in model_labels})
    if unknown:
        raise InvalidRequest(
            f"label(s) {', '.join(unknown)} are not among the model's: {', '.join(model_labels)}"
        )
    scored = [label for label in model_labels if label in set(mapping.values())]
    return LabelScope(
        labels=scored,
        mapping={data: model for data, model in mapping.items() if data in data_labels},
        restricted=len(scored) < len(model_labels),
        dropped_labels=sorted(set(data_labels) - set(mapping)),
    )
