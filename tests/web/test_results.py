"""The page in Chromium against a running EmoQ: files, batches, long audio and the microphone, end to end."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf
from playwright.sync_api import Locator, expect

from tests.audio_factory import write_tone
from tests.integration.stack import Stack
from tests.web.conftest import BATCH_CLIPS, JOB_MS, SHORT_CLIP, OpenPage, drop_files, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.data]

FINAL = re.compile(r"^(succeeded|failed|cancelled)$")


def served_model(stack: Stack) -> dict[str, Any]:
    [model] = stack.client.get("/v1/models").json()["models"]
    return model


def finished_job(card: Locator, stack: Stack) -> dict[str, Any]:
    """Waits until the card shows a final status, then reads the same job from the API."""
    expect(card).to_have_attribute("data-status", FINAL, timeout=JOB_MS)
    job = stack.job(card.get_attribute("data-job-id") or "")
    assert card.get_attribute("data-status") == job["status"]
    return job


def test_one_file_shows_sorted_bars_and_the_dominant_emotion(
    emoq: Stack, open_page: OpenPage, emodb: Path
) -> None:
    labels = served_model(emoq)["labels"]
    # Reduced motion: the bars are drawn at their final width at once, so they can be measured.
    page = open_page(emoq, reduced_motion="reduce")
    expect(page.locator("#model-info")).to_contain_text(f"{len(labels)} emotions")
    page.set_input_files("#file-input", emodb / SHORT_CLIP)

    card = page.locator(".job")
    job = finished_job(card, emoq)
    assert job["status"] == "succeeded", job
    expect(card.locator(".badge")).to_have_text("Done")
    bars = card.locator(".bar")
    expect(bars).to_have_count(len(labels))
    shown = bars.evaluate_all(
        """bars => bars.map(bar => ({
            label: bar.dataset.label,
            percent: parseFloat(bar.querySelector('.bar-value').textContent),
            fill: bar.querySelector('.bar-fill').getBoundingClientRect().width,
            track: bar.querySelector('.bar-track').getBoundingClientRect().width,
            dominant: bar.classList.contains('dominant'),
            background: getComputedStyle(bar).backgroundColor,
        }))"""
    )
    scores = {s["label"]: s["score"] for s in job["result"]["scores"]}
    assert sorted(bar["label"] for bar in shown) == sorted(labels)
    percents = [bar["percent"] for bar in shown]
    assert percents == sorted(percents, reverse=True)
    for bar in shown:
        assert bar["percent"] == pytest.approx(100 * scores[bar["label"]], abs=0.051)
        assert bar["fill"] / bar["track"] == pytest.approx(scores[bar["label"]], abs=0.01)

    dominant = job["result"]["dominant"]["label"]
    [highlighted] = [bar for bar in shown if bar["dominant"]]
    assert highlighted["label"] == dominant == shown[0]["label"]
    assert all(bar["background"] != highlighted["background"] for bar in shown if not bar["dominant"])
    # Said in words too, not by colour alone.
    expect(card.locator(".dominant-label")).to_have_text(dominant.capitalize())
    expect(card.locator(".bar.dominant .tag")).to_have_text("dominant")
    expect(card.locator(".timeline")).to_have_count(1 if len(job["result"]["segments"]) > 1 else 0)
    # How sure it is, and the derived arousal and valence, in words beside the bars.
    result = job["result"]
    runner_up = result["scores"][1]["label"].capitalize()
    confidence = card.locator(".confidence")
    expect(confidence.locator(".confidence-margin")).to_contain_text(f"ahead of {runner_up}")
    expect(confidence).to_have_attribute("data-low", str(result["low_confidence"]).lower())
    expect(confidence.locator(".low-confidence")).to_have_count(1 if result["low_confidence"] else 0)
    expect(card.locator(".affect-arousal")).to_have_text(f"{result['affect']['arousal']:+.2f}")
    expect(card.locator(".affect-valence")).to_have_text(f"{result['affect']['valence']:+.2f}")
    expect(card.locator(".affect")).to_contain_text("derived")
    expect(page.locator("#announcer")).to_contain_text("Dominant emotion")
    screenshot(page, "single-job-light")


def test_a_file_that_is_not_audio_shows_the_problem_title_detail_and_code(
    emoq: Stack, open_page: OpenPage, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("minutes of the meeting, not a recording\n" * 20)
    page = open_page(emoq)
    page.set_input_files("#file-input", notes)

    card = page.locator(".job")
    expect(card).to_have_attribute("data-status", "rejected")
    problem = card.locator(".problem")
    expect(problem).to_contain_text("Not decodable audio")  # the problem's title
    expect(problem).to_contain_text("could not decode audio")  # its detail
    expect(problem.locator("code")).to_have_text("undecodable_audio")
    expect(card.get_by_role("button", name="Send notes.txt again")).to_be_visible()
    expect(card.locator("audio")).to_have_count(0)  # no dead 0:00 player for what is not audio


def test_without_keys_the_page_offers_no_key_form(emoq: Stack, open_page: OpenPage) -> None:
    page = open_page(emoq)

    expect(page.locator("#model-info")).to_contain_text("emotions")
    expect(page.locator("#key-toggle")).to_be_hidden()


def test_the_player_tells_a_clip_length_to_a_tenth_of_a_second(
    emoq: Stack, open_page: OpenPage, tmp_path: Path
) -> None:
    clip = write_tone(tmp_path / "short.wav", fmt="wav", seconds=1.9)
    page = open_page(emoq)
    page.set_input_files("#file-input", clip)

    card = page.locator(".job")
    expect(card.locator(".playback-time")).to_have_text("0 s / 1.9 s")
    expect(card).to_have_attribute("data-status", FINAL, timeout=JOB_MS)


def test_a_file_cut_short_says_so_beside_its_scores(
    emoq: Stack, open_page: OpenPage, long_clip: Path, tmp_path: Path
) -> None:
    speech, rate = sf.read(long_clip, dtype="int16")
    cut = tmp_path / "cut.wav"
    sf.write(cut, speech[: 2 * rate], rate, subtype="PCM_16")
    # The header goes on declaring ten seconds, as a transfer cut short would leave it.
    data = bytearray(cut.read_bytes())
    assert data[36:40] == b"data"
    data[40:44] = (10 * rate * 2).to_bytes(4, "little")
    cut.write_bytes(bytes(data))
    page = open_page(emoq)
    page.set_input_files("#file-input", cut)

    card = page.locator(".job")
    job = finished_job(card, emoq)
    assert job["status"] == "succeeded" and job["input"]["truncated"] is True, job
    notice = card.locator(".truncated")
    expect(notice).to_contain_text("cut short")
    expect(notice).to_contain_text("Only 2 s of the 10 s")
    expect(card.locator(".bar")).not_to_have_count(0)


def test_several_dropped_files_make_a_batch_with_counts_a_table_and_a_csv(
    emoq: Stack, open_page: OpenPage, emodb: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + b"\x00" * 64)
    files = [emodb / name for name in BATCH_CLIPS] + [broken]
    page = open_page(emoq)
    drop_files(page, "#drop-zone", files)

    card = page.locator(".batch")
    expect(card).to_have_attribute("data-status", "completed", timeout=JOB_MS)
    batch = emoq.client.get(f"/v1/batches/{card.get_attribute('data-batch-id')}").json()
    counts = {
        status: int(card.locator(f'dd[data-count="{status}"]').inner_text())
        for status in ("queued", "processing", "succeeded", "failed", "cancelled")
    }
    assert sum(counts.values()) == len(files) == batch["job_count"]
    assert counts == {status: batch["counts"].get(status, 0) for status in counts}
    assert counts["succeeded"] == len(BATCH_CLIPS) and counts["failed"] == 1
    expect(card.locator("progress")).to_have_js_property("value", 1)

    rows = card.locator("tbody tr")
    expect(rows).to_have_count(len(files))
    by_file = {job["input"]["filename"]: job for job in batch["jobs"]}
    for row in rows.all():
        job = by_file[row.locator("td").first.inner_text()]
        assert row.get_attribute("data-status") == job["status"]
        if job["status"] == "succeeded":
            label = job["result"]["dominant"]["label"]
            expect(row.locator(".emotion")).to_have_attribute("data-label", label)
            expect(row.locator(".emotion")).to_have_text(label.capitalize())
            expect(row.locator(".low-confidence")).to_have_count(1 if job["result"]["low_confidence"] else 0)
        else:
            expect(row.locator("code")).to_have_text(job["error"]["code"])
            expect(row).to_contain_text(job["error"]["message"])
    assert set(by_file) == {path.name for path in files}

    with page.expect_download() as download_info:
        card.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    table = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert sorted(row["file"] for row in table) == sorted(path.name for path in files)
    assert {row["file"]: row["dominant_label"] for row in table if row["status"] == "succeeded"} == {
        name: job["result"]["dominant"]["label"] for name, job in by_file.items() if job["result"]
    }
    assert {row["file"]: row["low_confidence"] for row in table if row["status"] == "succeeded"} == {
        name: str(job["result"]["low_confidence"]).lower() for name, job in by_file.items() if job["result"]
    }
    screenshot(page, "batch-light")


def test_long_audio_moves_through_its_stages_to_a_timeline_of_its_segments(
    emoq: Stack, open_page: OpenPage, long_clip: Path
) -> None:
    page = open_page(emoq)
    # Every status the card shows, in order, as a person watching it would see them.
    page.evaluate(
        """() => {
            window.seenStatuses = [];
            const record = (changes) => {
                for (const {target} of changes) {
                    if (target.matches('.job')) window.seenStatuses.push(target.dataset.status);
                }
            };
            new MutationObserver(record).observe(
                document.getElementById('work-list'), {subtree: true, attributeFilter: ['data-status']});
        }"""
    )
    page.set_input_files("#file-input", long_clip)

    card = page.locator(".job")
    job = finished_job(card, emoq)
    assert job["status"] == "succeeded", job
    seen = page.evaluate("() => window.seenStatuses")
    stages = [status for i, status in enumerate(seen) if i == 0 or status != seen[i - 1]]
    # Processing may pass between two polls; the others are always seen, in this order.
    order = ["uploading", "queued", "processing", "succeeded"]
    assert stages[0] == "uploading" and "queued" in stages and stages[-1] == "succeeded", stages
    assert stages == sorted(stages, key=order.index), stages
    assert job["input"]["duration_s"] > served_model(emoq)["window_seconds"]
    segments = job["result"]["segments"]
    assert len(segments) > 1
    chart = card.locator("svg.timeline-chart")
    blocks = chart.locator("rect.segment")
    expect(blocks).to_have_count(len(segments))
    expected = ["silence" if s["silent"] else s["dominant"]["label"] for s in segments]
    assert [block.get_attribute("data-label") for block in blocks.all()] == expected
    # A text alternative: the chart's title and description, and the same facts as a table.
    assert chart.get_attribute("role") == "img"
    expect(chart.locator("desc")).to_contain_text(f"{len(segments)} windows")
    expect(card.locator(".legend li")).to_have_count(len(set(expected)))
    expect(card.locator(".timeline tbody tr")).to_have_count(len(segments))
    # Episodes: one block per stretch of one emotion above the windows, and the same as a list.
    episodes = job["result"]["episodes"]
    assert episodes
    blocks = card.locator("svg.episodes-chart rect.episode")
    expect(blocks).to_have_count(len(episodes))
    assert [block.get_attribute("data-label") for block in blocks.all()] == [
        e["dominant"]["label"] for e in episodes
    ]
    expect(card.locator(".episodes figcaption")).to_contain_text(f"{len(episodes)} stretch")
    expect(card.locator(".episode-list li")).to_have_count(len(episodes))
    card.locator(".timeline summary").click()
    screenshot(page, "timeline-light")


def test_a_recording_from_the_microphone_is_analysed(emoq: Stack, open_page: OpenPage) -> None:
    page = open_page(emoq, permissions=["microphone"])
    record = page.locator("#record-button")
    record.click()
    expect(record).to_have_text("Stop and analyse")
    # Chromium's fake microphone plays a beep: the level meter must rise above silence.
    page.wait_for_function("() => document.getElementById('level-meter').value > 0", timeout=5000)
    page.wait_for_timeout(2500)
    screenshot(page, "recording")
    record.click()

    card = page.locator(".job")
    expect(card.locator("h3")).to_have_text(re.compile(r"^recording-.*\.webm$"))
    job = finished_job(card, emoq)
    # MediaRecorder's WebM/Opus, decoded on the server by PyAV.
    assert (job["input"]["container"], job["input"]["codec"]) == ("webm", "opus")
    if job["status"] == "succeeded":
        expect(card.locator(".bar")).to_have_count(len(served_model(emoq)["labels"]))
    else:
        expect(card.locator(".problem code")).to_have_text(job["error"]["code"])
    expect(page.locator("#level-meter")).to_have_js_property("value", 0)
    screenshot(page, "recording-result")


def test_asking_for_features_plots_pitch_and_loudness_under_the_timeline(
    emoq: Stack, open_page: OpenPage, long_clip: Path
) -> None:
    page = open_page(emoq)
    page.get_by_label("Also measure the voice").check()
    page.set_input_files("#file-input", long_clip)

    card = page.locator(".job")
    job = finished_job(card, emoq)
    assert job["status"] == "succeeded" and job["features"] is True, job
    result = job["result"]
    figure = card.locator("figure.acoustics")
    expect(figure).to_be_visible()
    # Below the timeline, on its time axis: one point per window with a value, gaps where none.
    assert figure.evaluate("f => f.previousElementSibling.classList.contains('timeline')")
    for name, key in (("pitch", "pitch_median_hz"), ("loudness", "loudness_dbfs")):
        chart = card.locator(f"svg.acoustic-chart.{name}")
        assert chart.get_attribute("viewBox") == f"0 0 {result['segments'][-1]['end_s']} 40"
        points = chart.locator("polyline").evaluate_all(
            "lines => lines.reduce((n, line) => n + line.points.numberOfItems, 0)"
        )
        assert points == sum(s["features"].get(key) is not None for s in result["segments"])
        assert chart.get_attribute("role") == "img"
    expect(figure.locator(".acoustic-facts")).to_contain_text(
        f"{result['features']['pitch_median_hz']:.0f} Hz"
    )
    expect(figure.locator("tbody tr")).to_have_count(len(result["segments"]))
    figure.locator("summary").click()
    screenshot(page, "acoustic-features-light")
