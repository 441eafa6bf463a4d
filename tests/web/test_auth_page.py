"""The page on a server that wants API keys: it asks for one, and keeps it out of every URL and of
localStorage."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request, expect

from tests.integration.stack import Stack
from tests.web.conftest import BATCH_CLIPS, JOB_MS, SHORT_CLIP, OpenPage, drop_files, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.data]


def test_the_page_asks_for_a_key_after_a_401_and_keeps_it_in_the_tab_only(
    secured_emoq: tuple[Stack, str], open_page: OpenPage, emodb: Path
) -> None:
    stack, key = secured_emoq
    page = open_page(stack, path=None)
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto("/")

    # The model list answers 401 without a key: the page says so and puts the cursor in the key field.
    panel = page.locator("#key-panel")
    expect(panel.get_by_role("alert")).to_contain_text("This server needs an API key")
    expect(page.get_by_role("button", name="API key")).to_be_visible()
    expect(page.get_by_role("textbox", name="API key")).to_be_focused()
    assert page.locator("#api-key").get_attribute("type") == "password"
    screenshot(page, "auth-prompt")

    # A file sent without a key is refused with the problem's words, and can be sent again later.
    page.set_input_files("#file-input", emodb / SHORT_CLIP)
    card = page.locator(".job")
    expect(card).to_have_attribute("data-status", "rejected")
    expect(card.locator(".problem")).to_contain_text("Unauthorized")
    expect(card.locator(".problem code")).to_have_text("unauthorized")

    page.locator("#api-key").fill(key)
    page.locator("#api-key").press("Enter")
    expect(page.locator("#key-state")).to_have_text("A key is set for this tab.")
    expect(page.locator("#api-key")).to_have_value("")
    expect(panel.get_by_role("alert")).to_be_hidden()
    expect(page.locator("#model-info")).to_contain_text("emotions")

    card.get_by_role("button", name=f"Send {SHORT_CLIP} again").click()
    expect(card).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    drop_files(page, "#drop-zone", [emodb / name for name in BATCH_CLIPS[:2]])
    batch = page.locator(".batch")
    expect(batch).to_have_attribute("data-status", "completed", timeout=JOB_MS)
    with page.expect_download() as download:
        batch.get_by_role("button", name="Download CSV").click()
    assert len(Path(download.value.path()).read_text().splitlines()) == 1 + 2

    assert key not in page.url
    assert not [r.url for r in requests if key in r.url]
    headers = {id(r): r.all_headers() for r in requests}
    # Referrer-Policy: no-referrer, so not even the page's own address leaves with a request.
    # (blob: URLs, the local playback, never leave the browser.)
    assert not [r.url for r in requests if r.url.startswith("http") and "referer" in headers[id(r)]]
    with_key = {
        f"{r.method} {urlsplit(r.url).path}"
        for r in requests
        if headers[id(r)].get("authorization") == f"Bearer {key}"
    }
    assert {"GET /v1/models", "POST /v1/jobs", "POST /v1/batches"} <= with_key
    assert page.evaluate("() => sessionStorage.getItem('emoq.apiKey')") == key
    assert key not in page.evaluate("() => JSON.stringify({...localStorage})")
    assert page.context.cookies() == []

    # Another tab has its own session storage: the key does not follow it there.
    other = page.context.new_page()
    other.goto("/")
    expect(other.locator("#key-panel").get_by_role("alert")).to_contain_text("needs an API key")
