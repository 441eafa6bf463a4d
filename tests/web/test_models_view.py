"""The page's "Your models" view: trained models listed and picked for the next analysis, and a training
started from a dataset zip, followed to its end and its confusion matrix shown.

Versions are registered directly in the service's database (tests/model_versions.py), as a finished
training registers them. The trainings API (POST/GET /v1/trainings) is another part of the service; here
the page is held to its documented contract by answering those two routes in the browser, while the
dataset upload, the model list, the picker and the job go to the real service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Route, expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from shared.config import Settings
from shared.storage import open_storage
from tests.audio_factory import write_tone
from tests.dataset_factory import write_corpus, zip_folder
from tests.integration.stack import Stack
from tests.model_factory import save_tiny_checkpoint
from tests.model_versions import register_version
from tests.web.conftest import JOB_MS, OpenPage, start_emoq

pytestmark = pytest.mark.integration

# A 1x1 PNG: what the page shows of the server's confusion picture does not depend on its pixels.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


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


def test_a_training_is_started_from_a_zip_followed_and_its_confusion_matrix_shown(
    stack: Stack, version_id: str, open_page: OpenPage, tmp_path: Path
) -> None:
    archive = tmp_path / "tones.zip"
    archive.write_bytes(zip_folder(write_corpus(tmp_path / "tones")))
    sent: list[dict[str, Any]] = []
    states = iter(
        [
            {
                "status": "running",
                "progress": 0.5,
                "epochs": [{"epoch": 1, "loss": 1.2, "validation_uar": 0.5}],
            },
            {
                "status": "succeeded",
                "progress": 1.0,
                "epochs": [
                    {"epoch": 1, "loss": 1.2, "validation_uar": 0.5},
                    {"epoch": 2, "loss": 0.8, "validation_uar": 0.75},
                ],
                "evaluation": {
                    "uar": 0.75,
                    "macro_f1": 0.7,
                    "per_class": {},
                    "confusion": {"labels": ["angry", "sad"], "matrix": [[4, 1], [1, 4]]},
                },
                "model_version_id": version_id,
                "confusion_url": "/v1/trainings/t1/confusion.png",
            },
        ]
    )

    def trainings(route: Route) -> None:
        request = route.request
        if request.method == "POST":
            sent.append(json.loads(request.post_data or "{}"))
            body = {"id": "t1", "status": "queued", "progress": 0.0, "epochs": []}
            route.fulfill(status=202, json=body)
        elif request.url.endswith(".png"):
            route.fulfill(status=200, body=PNG, content_type="image/png")
        else:
            route.fulfill(status=200, json={"id": "t1", "error": None, **next(states)})

    page = open_page(stack)
    page.route("**/v1/trainings**", trainings)
    page.set_input_files("#dataset-file", archive)
    page.fill("#training-name", "tones v2")
    page.fill("#training-epochs", "2")
    page.get_by_role("button", name="Upload and train").click()

    training = page.locator("#training")
    expect(training).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    expect(page.locator("#training-meta")).to_contain_text("10 files, 2 labels, 2 speakers")
    expect(page.locator("#training-epoch-list li")).to_have_count(2)
    matrix = page.locator("table.confusion")
    expect(matrix.locator("tbody tr")).to_have_count(2)
    expect(matrix.locator("td.hit")).to_have_text(["4", "4"])
    expect(page.locator(".evaluation-figures")).to_contain_text("UAR 75.0%")
    expect(page.locator(".confusion-image")).to_be_visible()
    [dataset] = stack.client.get("/v1/datasets").json()["items"]
    assert sent == [{"dataset_id": dataset["id"], "name": "tones v2", "epochs": 2}]

    page.get_by_role("button", name="Use for the next analysis").first.click()
    expect(page.locator("#model-picker")).to_have_value(version_id)
