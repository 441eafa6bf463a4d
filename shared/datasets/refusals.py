"""What an upload's report says about what it refused: a file with its reason, or the whole dataset."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shared.errors import DatasetUnusable


@dataclass(frozen=True)
class Refusal:
    """One file left out of a dataset: its path as the client named it and a stable ``code``."""

    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def unusable(code: str, message: str, refused: list[Refusal] | None = None) -> DatasetUnusable:
    """The dataset refused whole for one reason."""
    return DatasetUnusable(
        [{"code": code, "message": message}], [refusal.as_dict() for refusal in refused or []]
    )
