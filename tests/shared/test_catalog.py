"""EMOQ_MODELS, the queues it gives each model, and how each label is shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.broker import all_queues, analysis_queue
from shared.catalog.display import DEFAULT_DISPLAY, SPARE_COLORS, display_for
from shared.catalog.names import ModelEntry, parse_models, parse_names
from shared.config import SHIPPED_MODEL, Settings


def test_models_are_name_equals_source_the_first_is_the_default_and_a_hub_id_may_pin_a_revision() -> None:
    settings = Settings(models=" fast = models/emoq-emodb-small , accurate=org/big-model@v2 ,")

    assert settings.model_entries == [
        ModelEntry("fast", "models/emoq-emodb-small"),
        ModelEntry("accurate", "org/big-model", "v2"),
    ]
    assert (settings.model_names, settings.default_model) == (["fast", "accurate"], "fast")
    assert settings.worker_model_names == ["fast", "accurate"], "a worker serves all of them by default"


def test_without_emoq_models_the_one_model_is_emoq_model_named_default() -> None:
    settings = Settings(model_revision="abc123")

    assert settings.model_entries == [ModelEntry("default", str(SHIPPED_MODEL), "abc123")]
    # Its queues keep the names of single-model versions, so nothing changes for existing deployments.
    assert [analysis_queue("default", bulk=bulk) for bulk in (False, True)] == ["inference", "bulk"]
    assert all_queues(settings) == ["inference", "bulk", "webhooks", "maintenance", "training"]


def test_each_named_model_has_its_own_pair_of_queues() -> None:
    settings = Settings(models="fast=a,accurate=b")

    assert all_queues(settings) == [
        "inference.fast",
        "bulk.fast",
        "inference.accurate",
        "bulk.accurate",
        "webhooks",
        "maintenance",
        "training",
    ]


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("models/emoq-emodb-small", "not name=source"),
        ("fast=", "not name=source"),
        ("Fast=a", "1 to 32 of a-z"),
        ("in.ference=a", "1 to 32 of a-z"),
        ("fast=a,fast=b", "twice"),
        (" , ", "names no model"),
    ],
)
def test_a_malformed_list_is_refused_saying_why(value: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_models(value)
    if value.strip(" ,"):
        with pytest.raises(ValidationError, match=complaint):
            Settings(models=value)


def test_a_worker_serves_a_subset_named_in_emoq_worker_models() -> None:
    assert Settings(models="fast=a,accurate=b", worker_models="accurate").worker_model_names == ["accurate"]
    assert parse_names("b, a, b", ["a", "b"]) == ["b", "a"]
    with pytest.raises(ValidationError, match="unknown model huge; the models are fast, accurate"):
        Settings(models="fast=a,accurate=b", worker_models="huge")


def test_common_labels_have_a_colour_an_emoji_and_a_mood_and_others_a_spare_colour() -> None:
    shown = display_for(["Angry", "sadness", "contempt", "whisper"])

    assert shown["Angry"] == DEFAULT_DISPLAY["angry"]
    assert (shown["Angry"].emoji, shown["Angry"].mood) == ("😠", "intense")
    assert shown["sadness"] == DEFAULT_DISPLAY["sad"], "the spellings datasets use"
    # Unknown labels: a spare colour by their place among the model's labels, no emoji, no mood.
    assert (shown["contempt"].color, shown["contempt"].emoji, shown["contempt"].mood) == (
        SPARE_COLORS[2],
        None,
        None,
    )
    assert shown["whisper"].color == SPARE_COLORS[3]


def test_a_model_s_emoq_display_overrides_what_it_names_and_keeps_the_rest() -> None:
    shown = display_for(
        ["angry", "happy", "contempt"],
        {
            "angry": {"emoji": "😡", "mood": None},
            "contempt": {"color": "#abc", "emoji": "😒", "mood": "jazz"},
        },
    )

    assert shown["angry"].model_dump() == {
        "color": DEFAULT_DISPLAY["angry"].color,
        "emoji": "😡",
        "mood": None,
    }
    assert shown["contempt"].model_dump() == {"color": "#abc", "emoji": "😒", "mood": "jazz"}
    assert shown["happy"] == DEFAULT_DISPLAY["happy"]


@pytest.mark.parametrize(
    ("override", "complaint"),
    [({"color": "red; background: url(x)"}, "#rgb or #rrggbb"), ({"colour": "#fff"}, "unknown keys")],
)
def test_a_malformed_override_is_refused(override: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        display_for(["angry"], {"angry": override})
