"""The transcript in the page: offered where the server has a speech recogniser, and shown under the
timeline, one line per utterance with its emotion. A tiny config-built Whisper writes the text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.audio_factory import write_tone
from tests.integration.stack import Stack
from tests.web.conftest import OpenPage, start_emoq
from tests.web.test_results import finished_job

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def emoq_with_asr(tmp_path_factory: pytest.TempPathFactory, tiny_asr_model: Path) -> Iterator[Stack]:
    stack, _ = start_emoq(
        tmp_path_factory.mktemp("web-emoq-asr"),
        {"EMOQ_AUTH_DISABLED": "true", "EMOQ_ASR_MODEL": str(tiny_asr_model)},
    )
    yield stack
    stack.close()


def test_a_transcribed_job_shows_each_utterance_with_its_emotion(
    emoq_with_asr: Stack, open_page: OpenPage, tmp_path: Path
) -> None:
    clip = write_tone(tmp_path / "voice.wav", fmt="wav", seconds=4.0)
    page = open_page(emoq_with_asr)
    expect(page.locator("#transcribe-option")).to_be_visible()
    page.check("#transcribe")
    page.set_input_files("#file-input", clip)

    card = page.locator(".job")
    job = finished_job(card, emoq_with_asr)

    assert job["status"] == "succeeded", job
    utterances = job["result"]["utterances"]
    assert utterances
    lines = card.locator(".transcript .utterance")
    expect(lines).to_have_count(len(utterances))
    shown = lines.evaluate_all(
        "lines => lines.map(l => [l.dataset.label, l.querySelector('.utterance-text').textContent])"
    )
    assert shown == [[(u["dominant"] or {}).get("label", ""), u["text"]] for u in utterances]
    # Under the timeline, where a person reading it looks next.
    order = card.locator(".timeline, .transcript").evaluate_all("nodes => nodes.map(n => n.className)")
    assert order == ["timeline", "transcript"]
