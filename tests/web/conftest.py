"""A real EmoQ (the embedded default serving the shipped model) and a real Chromium, for the web page."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from tests.conftest import require_shared_data
from tests.integration.stack import Stack

# A page opener: open_page(stack, path="/", **browser_context_options) -> Page.
OpenPage = Callable[..., Page]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    # Grants the microphone without a prompt and feeds it Chromium's built-in beeping test signal.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def require_chromium() -> Path:
    """Debian's Chromium, driven by Playwright (which never downloads one): skip without it, fail under CI."""
    if CHROMIUM.is_file():
        return CHROMIUM
    message = f"the web page tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)


def start_emoq(root: Path, env: dict[str, str], key_name: str | None = None) -> tuple[Stack, str | None]:
    """`emoq run` in ``root``, ready to serve; with ``key_name``, also an API key made by `emoq keys create`."""
    env = {"EMOQ_DATA_DIR": str(root / "var"), **env}
    stack = Stack(root, env)
    # The shipped model and the defaults, whatever this shell exports: the results must be real ones.
    for name in [name for name in os.environ if name.startswith("EMOQ_") and name not in env]:
        stack.env.pop(name, None)
    key = None
    try:
        if key_name is not None:
            stack.emoq("migrate")
            key = create_key(stack, key_name)
            # For the test's own API calls; the page gets no such help.
            stack.client.headers["Authorization"] = f"Bearer {key}"
        stack.start("emoq-run", "run")
        stack.wait_ready()
    except BaseException:
        stack.close()
        raise
    return stack, key


def create_key(stack: Stack, name: str) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", "create", "--name", name],
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # The key is alone on stdout, so scripts can capture it.
    return created.stdout.strip()


@pytest.fixture(scope="package")
def emoq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Served as `make run` serves: keyless on 127.0.0.1."""
    stack, _ = start_emoq(tmp_path_factory.mktemp("web-emoq"), {"EMOQ_AUTH_DISABLED": "true"})
    yield stack
    stack.close()


@pytest.fixture(scope="package")
def secured_emoq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    """With API keys required, as in production; and one key."""
    stack, key = start_emoq(
        tmp_path_factory.mktemp("web-emoq-secured"), {"EMOQ_AUTH_DISABLED": "false"}, key_name="web-tests"
    )
    assert key is not None
    yield stack, key
    stack.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=LAUNCH_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def emodb() -> Path:
    """Real speech: the EmoDB clips of the team's corpus."""
    return require_shared_data() / "emodb"


# EmoDB clips. Shorter than the shipped model's 3 s window: one segment, so no timeline.
SHORT_CLIP = "12a02Ac.flac"
BATCH_CLIPS = ("03a01Wa.flac", "08b03Tc.flac", "14a02Nc.flac")
# Four emotions one after another, about 12 s: longer than a window, with a timeline worth seeing.
LONG_CLIP_PARTS = ("03a01Wa.flac", "16a05Tb.flac", "03a02Fc.flac", "03a01Nc.flac")


@pytest.fixture(scope="package")
def long_clip(emodb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    clips = [sf.read(emodb / name, dtype="float32") for name in LONG_CLIP_PARTS]
    [rate] = {rate for _, rate in clips}
    path = tmp_path_factory.mktemp("long-clip") / "four-emotions.flac"
    sf.write(path, np.concatenate([samples for samples, _ in clips]), rate)
    return path


# How long a job may take in the tests; seconds with the shipped model, but a worker may be restarting.
JOB_MS = 30_000


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """Opens the page of a stack (``path=None``: a blank tab) in a fresh browser context; fails the test on
    any script error or Content-Security-Policy violation the page reports."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # The browser logs every non-2xx fetch; the tests assert on the page's handling of those instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def open_(stack: Stack, path: str | None = "/", **context_options: Any) -> Page:
        # A fixed locale, so the numbers the page shows parse the same everywhere.
        context = browser.new_context(
            base_url=str(stack.client.base_url), accept_downloads=True, locale="en-US", **context_options
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        if path is not None:
            page.goto(path)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"the page reported errors: {errors}"


def drop_files(page: Page, selector: str, paths: list[Path]) -> None:
    """Drags files onto an element as a person would: dragenter, dragover, then drop with a DataTransfer."""
    files = [{"name": p.name, "data": base64.b64encode(p.read_bytes()).decode()} for p in paths]
    transfer = page.evaluate_handle(
        """files => {
            const transfer = new DataTransfer();
            for (const {name, data} of files) {
                const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name));
            }
            return transfer;
        }""",
        files,
    )
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(selector, event, {"dataTransfer": transfer})


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Saved under artifacts/web/ for people to look at; the path is printed so it shows in the test log."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    return path
