"""The emotion an utterance should carry, computed apart from the code under test: the mean of the
scored windows under it, weighted by overlap (an instant takes the windows containing it, equally)."""

from __future__ import annotations

from typing import Any


def overlap_weighted_scores(utterance: dict[str, Any], segments: list[dict[str, Any]]) -> dict[str, float]:
    start, end = utterance["start_s"], utterance["end_s"]
    totals: dict[str, float] = {}
    weight = 0.0
    for window in segments:
        if not window.get("scores"):
            continue
        if end > start:
            share = min(end, window["end_s"]) - max(start, window["start_s"])
        else:
            share = 1.0 if window["start_s"] <= start <= window["end_s"] else 0.0
        if share <= 0:
            continue
        weight += share
        for score in window["scores"]:
            totals[score["label"]] = totals.get(score["label"], 0.0) + share * score["score"]
    return {label: total / weight for label, total in totals.items()}


def assert_utterances_fit(utterances: list[dict[str, Any]], segments: list[dict[str, Any]]) -> None:
    """Inside the recording, in order, each with scores that sum to 1 and are the windows' under it."""
    import pytest

    duration = segments[-1]["end_s"]
    assert utterances, "the recogniser wrote nothing"
    assert all(0.0 <= u["start_s"] <= u["end_s"] <= duration for u in utterances)
    assert [u["start_s"] for u in utterances] == sorted(u["start_s"] for u in utterances)
    for utterance in utterances:
        assert utterance["text"] and utterance["text"] == utterance["text"].strip()
        assert utterance["dominant"] == utterance["scores"][0]
        got = {s["label"]: s["score"] for s in utterance["scores"]}
        assert sum(got.values()) == pytest.approx(1.0)
        assert got == pytest.approx(overlap_weighted_scores(utterance, segments))
