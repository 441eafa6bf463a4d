"""The page for everyone: names for every control, the keyboard, both themes, a phone's width, contrast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.integration.stack import Stack
from tests.web.conftest import BATCH_CLIPS, JOB_MS, OpenPage, drop_files, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.data]

PHONE = {"width": 375, "height": 740}
CONTROL_ROLES = {"button", "textbox", "checkbox", "radio", "combobox", "slider", "switch", "link", "meter",
                 "progressbar", "spinbutton", "searchbox", "menuitem", "tab"}  # fmt: skip

# WCAG relative luminance and contrast ratio, computed in the page from the colours it really uses.
CONTRAST_JS = """([selector, backgroundSelector]) => {
    const channels = (colour) => {
        const probe = document.createElement('canvas').getContext('2d');
        probe.fillStyle = colour;
        probe.fillRect(0, 0, 1, 1);
        return [...probe.getImageData(0, 0, 1, 1).data].slice(0, 3);
    };
    const luminance = (colour) => {
        const [r, g, b] = channels(colour).map(v => v / 255)
            .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const text = getComputedStyle(document.querySelector(selector)).color;
    const background = getComputedStyle(document.querySelector(backgroundSelector)).backgroundColor;
    const [light, dark] = [luminance(text), luminance(background)].sort((a, b) => b - a);
    return {text, background, ratio: (light + 0.05) / (dark + 0.05)};
}"""


def page_with_results(
    open_page: OpenPage, stack: Stack, long_clip: Path, emodb: Path, **options: Any
) -> Page:
    """The page with every kind of content on it: a finished job with a timeline, and a finished batch."""
    page = open_page(stack, **options)
    page.set_input_files("#file-input", long_clip)
    expect(page.locator(".job")).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
    drop_files(page, "#drop-zone", [emodb / name for name in BATCH_CLIPS])
    expect(page.locator(".batch")).to_have_attribute("data-status", "completed", timeout=JOB_MS)
    return page


def test_at_a_phone_width_nothing_scrolls_sideways_but_the_tables(
    emoq: Stack, open_page: OpenPage, long_clip: Path, emodb: Path
) -> None:
    page = page_with_results(open_page, emoq, long_clip, emodb, viewport=PHONE)
    page.locator(".timeline summary").click()
    widths = page.evaluate(
        """() => ({page: document.documentElement.scrollWidth, window: window.innerWidth,
                  tables: [...document.querySelectorAll('.table-scroll')].map(box =>
                      ({box: box.clientWidth, overflow: getComputedStyle(box).overflowX}))})"""
    )
    assert widths["page"] <= widths["window"] == PHONE["width"]
    assert widths["tables"] and all(
        t["overflow"] == "auto" and t["box"] < PHONE["width"] for t in widths["tables"]
    )
    screenshot(page, "phone-light")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "phone-dark")


def test_every_control_has_an_accessible_name(
    emoq: Stack, open_page: OpenPage, long_clip: Path, emodb: Path
) -> None:
    page = page_with_results(open_page, emoq, long_clip, emodb)
    # Names as Chromium computes them for assistive technology, not as a test would guess them.
    tree = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    controls = [
        (node["role"]["value"], node.get("name", {}).get("value", "").strip())
        for node in tree
        if not node.get("ignored") and node.get("role", {}).get("value") in CONTROL_ROLES
    ]
    assert len([role for role, _ in controls if role == "button"]) >= 8
    # Without keys there is no key form; tests/web/test_auth_page.py finds its field by its name.
    assert {"meter", "progressbar"} <= {role for role, _ in controls}
    assert [control for control in controls if not control[1]] == []


def test_the_drop_zone_works_from_the_keyboard_with_a_visible_focus(
    emoq: Stack, open_page: OpenPage, emodb: Path
) -> None:
    page = open_page(emoq, path=None)
    # Playwright turns on file-chooser interception when the first listener is added, without waiting for
    # it; a listener added here, well before Enter, keeps expect_file_chooser from missing the dialog.
    page.on("filechooser", lambda chooser: None)
    page.goto("/")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "drop-zone":
            break
    zone = page.locator("#drop-zone")
    expect(zone).to_be_focused()
    outline = zone.evaluate(
        "z => [getComputedStyle(z).outlineStyle, parseFloat(getComputedStyle(z).outlineWidth)]"
    )
    assert outline[0] != "none" and outline[1] >= 2
    screenshot(page, "keyboard-focus", full_page=False)

    with page.expect_file_chooser() as chooser_info:
        page.keyboard.press("Enter")
    chooser = chooser_info.value
    assert chooser.is_multiple()
    chooser.set_files(emodb / BATCH_CLIPS[0])
    expect(page.locator(".job")).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)


def test_light_and_dark_themes_follow_the_system_and_the_toggle(
    emoq: Stack, open_page: OpenPage, long_clip: Path, emodb: Path
) -> None:
    page = page_with_results(open_page, emoq, long_clip, emodb, color_scheme="light")
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    page.emulate_media(color_scheme="dark")
    dark = page.evaluate(background)
    assert light != dark
    screenshot(page, "results-dark")

    # The toggle says what it does: in the dark theme it offers the light one.
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_have_text("Light theme")
    expect(toggle).to_have_accessible_name("Switch to light theme")
    toggle.click()  # dark -> light, against the system's preference, and remembered
    expect(toggle).to_have_text("Dark theme")
    expect(toggle).to_have_accessible_name("Switch to dark theme")
    assert page.evaluate(background) == light
    assert page.evaluate("() => localStorage.getItem('emoq.theme')") == "light"
    page.reload()
    assert page.evaluate(background) == light
    expect(page.get_by_role("button", name="Switch to dark theme")).to_have_text("Dark theme")


def test_text_contrast_meets_wcag_aa_in_both_themes(
    emoq: Stack, open_page: OpenPage, long_clip: Path, emodb: Path
) -> None:
    page = page_with_results(open_page, emoq, long_clip, emodb)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for text, background in [
            ("body", "body"),
            (".panel h2", ".panel"),
            (".work-meta", ".panel"),
            (".drop-sub", ".drop-zone"),
            (".button.primary", ".button.primary"),
            (".bar-value", ".panel"),
            ("td", ".panel"),
            (".badge", ".badge"),
        ]:
            result = page.evaluate(CONTRAST_JS, [text, background])
            assert result["ratio"] >= 4.5, (scheme, text, result)


def test_axe_finds_no_serious_violations_in_either_theme(
    emoq: Stack, open_page: OpenPage, long_clip: Path, emodb: Path
) -> None:
    axe = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="pip install axe-playwright-python"
    )
    page = page_with_results(open_page, emoq, long_clip, emodb)
    page.locator(".timeline summary").click()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        results = axe.Axe().run(page)
        serious = [v for v in results.response["violations"] if v["impact"] in {"serious", "critical"}]
        assert serious == [], f"{scheme}:\n{results.generate_snapshot()}"


def test_bars_grow_into_place_only_when_motion_is_welcome(
    emoq: Stack, open_page: OpenPage, long_clip: Path
) -> None:
    durations = {}
    for motion in ("no-preference", "reduce"):
        page = open_page(emoq, reduced_motion=motion)
        page.set_input_files("#file-input", long_clip)
        expect(page.locator(".job")).to_have_attribute("data-status", "succeeded", timeout=JOB_MS)
        durations[motion] = page.locator(".bar-fill").first.evaluate(
            "fill => parseFloat(getComputedStyle(fill).animationDuration)"
        )
    assert durations["no-preference"] >= 0.2
    assert durations["reduce"] < 0.01
