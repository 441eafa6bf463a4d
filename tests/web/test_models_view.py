"""The page's "Your models" view through `emoq run` (API, worker and trainer): a model registered directly
(tests/model_versions.py) is listed and picked for the next analysis; a training started from a dataset
zip is followed to its end, its confusion matrix shown, and the model it made analyses the next upload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.storage import open_storage
from tests.audio_factory import write_tone
from tests.dataset_factory import write_corpus, zip_folder
from tests.integration.stack import Stack
from tests.model_factory import save_tiny_checkpoint
from tests.model_versions import register_version
from tests.web.conftest import JOB_MS, OpenPage, screenshot, start_emoq

pytestmark = pytest.mark.integration

# One epoch of the shipped architecture on ten half-second clips, with the set-up and the evaluation.
TRAINING_MS = 240_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[Stack]:
    """Keyless, serving the tiny model: the view is about the caller's own models, not the shipped one."""
    running, _ = start_emoq(
        tmp_path_factory.mktemp("web-models"),
        {"EMOQ_AUTH_DISABLED": "true", "EMOQ_MODEL": str(tiny_model), "EMOQ_WINDOW_SECONDS": "0.25"},
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def version_id(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    settings = Settings(data_dir=Path(stack.env["EMOQ_DATA_DIR"]))
    checkpoint = save_tiny_checkpoint(tmp_path_factory.mktemp("custom"), seed=7)
    engine = create_engine(settings.database_url)
    with Session(engine) as session, session.begin():
        version = register_version(session, open_storage(settings), checkpoint, name="my tones")
        registered = str(version.id)
    engine.dispose()
    return registered


def test_a_trained_model_is_listed_and_picked_for_the_next_analysis(
    stack: Stack, version_id: str, open_page: OpenPage, tmp_path: Path
) -> None:
    page = open_page(stack)
    item = page.locator(f'.version[data-version-id="{version_id}"]')
    expect(item).to_contain_text("my tones")
    expect(item).to_contain_text("UAR 61.0%")
    expect(page.locator("#versions-empty")).to_be_hidden()
    # One served model and one of the caller's: a choice, so the picker shows.
    expect(page.locator("#model-field")).to_be_visible()
    expect(page.locator("#model-picker")).to_have_value("default")

    item.get_by_role("button", name="Use for the next analysis").click()
    expect(page.locator("#model-picker")).to_have_value(version_id)
    expect(page.locator("#model-info")).to_contain_text("Your model my tones")
    page.set_input_files("#file-input", write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.0))

    card = page.locator(".job")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    job = stack.job(card.get_attribute("data-job-id") or "")
    assert (job["model_version_id"], job["result"]["model"]["id"]) == (version_id, version_id)
    expect(card.locator(".model-used")).to_contain_text("my tones (your model)")


def test_a_training_is_started_from_a_zip_followed_and_its_model_used_next(
    stack: Stack, open_page: OpenPage, tmp_path: Path
) -> None:
    archive = tmp_path / "tones.zip"
    archive.write_bytes(zip_folder(write_corpus(tmp_path / "tones", speakers=3)))

    page = open_page(stack)
    page.set_input_files("#dataset-file", archive)
    page.fill("#training-name", "tones v2")
    page.fill("#training-epochs", "1")
    page.get_by_role("button", name="Upload and train").click()

    training = page.locator("#training")
    expect(training).to_have_attribute("data-status", "succeeded", timeout=TRAINING_MS)
    expect(page.locator("#training-meta")).to_contain_text("10 files, 2 labels, 3 speakers")
    expect(page.locator("#training-epoch-list li")).to_have_count(1)
    [trained] = stack.client.get("/v1/trainings").json()["items"]
    assert (trained["params"]["name"], trained["params"]["epochs"]) == ("tones v2", 1)
    matrix = page.locator("table.confusion")
    confusion = trained["evaluation"]["confusion"]
    expect(matrix.locator("tbody tr")).to_have_count(len(confusion["labels"]))
    diagonal = [str(row[i]) for i, row in enumerate(confusion["matrix"])]
    expect(matrix.locator("td.hit")).to_have_text(diagonal)
    expect(page.locator(".evaluation-figures")).to_contain_text("UAR")
    # The server's picture, fetched with the key like every call and shown from a blob.
    expect(page.locator(".confusion-image")).to_be_visible()
    expect(page.locator(f'.version[data-version-id="{trained["model_version_id"]}"]')).to_contain_text(
        "tones v2"
    )
    page.locator("#training").scroll_into_view_if_needed()
    screenshot(page, "models-view")

    page.locator("#training-use").click()
    expect(page.locator("#model-picker")).to_have_value(trained["model_version_id"])
    page.set_input_files("#file-input", write_tone(tmp_path / "tone.wav", fmt="wav", seconds=1.0))
    card = page.locator(".job")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    job = stack.job(card.get_attribute("data-job-id") or "")
    assert job["model_version_id"] == trained["model_version_id"]
