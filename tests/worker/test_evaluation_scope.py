import pytest

from shared.errors import InvalidRequest
from shared.schemas.results import sorted_scores
from worker.evaluation.runner import best_label
from worker.evaluation.scope import parse_label_spec, resolve_scope

MODEL = ["angry", "bored", "disgust", "fear", "happy", "neutral", "sad"]
RAVDESS = ["angry", "calm", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
SHARED = ["angry", "disgust", "fear", "happy", "neutral", "sad"]


def test_requested_labels_restrict_rows_and_the_argmax() -> None:
    scope = resolve_scope(MODEL, RAVDESS, SHARED)

    assert scope.labels == SHARED
    assert scope.restricted
    assert scope.target("calm") is None and scope.target("surprise") is None
    assert scope.target("sad") == "sad"
    assert scope.dropped_labels == ["calm", "surprise"]


def test_a_data_label_can_be_mapped_onto_a_model_label() -> None:
    scope = resolve_scope(MODEL, RAVDESS, ["angry", "calm=neutral", "sad"])

    assert scope.labels == ["angry", "neutral", "sad"]
    assert scope.target("calm") == "neutral"
    assert scope.target("neutral") is None  # not requested, so not scored


def test_without_a_request_every_model_label_competes_and_unknown_rows_drop() -> None:
    scope = resolve_scope(MODEL, RAVDESS, None)

    assert scope.labels == MODEL
    assert not scope.restricted
    assert scope.dropped_labels == ["calm", "surprise"]


def test_a_label_the_model_lacks_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="calm"):
        resolve_scope(MODEL, RAVDESS, ["angry", "calm"])


def test_parse_label_spec() -> None:
    assert parse_label_spec(["a", " b = c "]) == {"a": "a", "b": "c"}


def test_best_label_skips_labels_outside_the_scope() -> None:
    scores = sorted_scores(MODEL, [0.05, 0.5, 0.05, 0.1, 0.2, 0.05, 0.05])

    assert best_label(scores, MODEL) == "bored"
    assert best_label(scores, SHARED) == "happy"
