"""The page with two models (EMOQ_MODELS): a picker chooses the model, and each label looks the way the
API says (colour, emoji and mood from the model's folder over the defaults)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from shared.config import SHIPPED_MODEL
from tests.audio_factory import write_tone
from tests.integration.stack import Stack
from tests.web.conftest import JOB_MS, OpenPage, start_emoq

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def two_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # `fast` is the shipped model with every label restyled in its folder; `accurate` the shipped one as is.
    fast = shutil.copytree(SHIPPED_MODEL, tmp_path_factory.mktemp("restyled") / "model")
    config = json.loads((fast / "config.json").read_text())
    config["emoq_display"] = {
        label: {"color": "#123456", "emoji": "🎵", "mood": "test mood"}
        for label in config["id2label"].values()
    }
    (fast / "config.json").write_text(json.dumps(config))
    stack, _ = start_emoq(
        tmp_path_factory.mktemp("web-two-models"),
        {"EMOQ_AUTH_DISABLED": "true", "EMOQ_MODELS": f"fast={fast},accurate={SHIPPED_MODEL}"},
    )
    yield stack
    stack.close()


def test_a_picker_chooses_the_model_and_labels_look_as_the_api_says(
    two_models: Stack, open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page(two_models)
    picker = page.locator("#model-picker")
    expect(page.locator("#model-field")).to_be_visible()
    expect(picker.locator("option")).to_have_count(2)
    expect(picker).to_have_value("fast")
    picker.select_option("accurate")
    page.set_input_files("#file-input", write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.0))

    card = page.locator(".job")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    job = two_models.job(card.get_attribute("data-job-id") or "")
    assert (job["model"], job["result"]["model"]["name"]) == ("accurate", "accurate")
    expect(card.locator(".model-used")).to_contain_text("accurate")
    # Labels both models share take the first (default) model's look: fast's folder restyled them all.
    dominant = card.locator(".dominant-line")
    expect(dominant.locator(".swatch")).to_have_css("background-color", "rgb(18, 52, 86)")
    expect(dominant.locator(".emoji")).to_have_attribute("data-emoji", "🎵")
    expect(card.locator(".mood")).to_contain_text("test mood")


def test_with_one_model_there_is_no_picker_and_colours_are_the_defaults(
    emoq: Stack, open_page: OpenPage, tmp_path: Path
) -> None:
    [model] = emoq.client.get("/v1/models").json()["models"]
    page = open_page(emoq)
    expect(page.locator("#model-info")).to_contain_text("emotions")
    expect(page.locator("#model-field")).to_be_hidden()
    page.set_input_files("#file-input", write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.0))

    card = page.locator(".job")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    label = emoq.job(card.get_attribute("data-job-id") or "")["result"]["dominant"]["label"]
    shown = model["display"][label]
    expect(card.locator(".dominant-line .emoji")).to_have_attribute("data-emoji", shown["emoji"])
    colour = card.locator(".dominant-line .swatch").evaluate("swatch => swatch.style.background")
    red, green, blue = (int(shown["color"][i : i + 2], 16) for i in (1, 3, 5))
    assert colour == f"rgb({red}, {green}, {blue})"
