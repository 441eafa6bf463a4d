"""The answer of ``POST /predict``, in the shape older synchronous emotion servers gave."""

from __future__ import annotations

from pydantic import BaseModel

from shared.schemas.results import Score


class Prediction(BaseModel):
    results: list[Score]
    dominant: Score
