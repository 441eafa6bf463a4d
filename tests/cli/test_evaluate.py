"""``emoq evaluate`` end to end on a tiny random checkpoint and tone files, through the real decode and
classify path."""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cli import evaluate as command
from tests.audio_factory import write_tone
from tests.model_factory import save_tiny_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_checkpoint(
        tmp_path_factory.mktemp("model") / "tiny"
    )  # labels angry, happy, neutral, sad


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    rows = ["path,label,speaker"]
    for i, (label, speaker) in enumerate(
        [("angry", "a"), ("happy", "a"), ("sad", "b"), ("neutral", "b"), ("calm", "b"), ("sad", "a")]
    ):
        write_tone(folder / f"{i}.wav", fmt="wav", seconds=2.5, freq=150.0 + 60 * i)
        rows.append(f"{i}.wav,{label},{speaker}")
    (folder / "broken.wav").write_bytes(b"RIFF not really audio")
    rows.append("broken.wav,angry,b")
    sf.write(folder / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    rows.append("silent.wav,happy,b")
    path = folder / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def evaluate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["evaluate", "--device", "cpu", *argv])
    code = args.handler(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_report_has_every_figure(
    checkpoint: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = evaluate(["--model", str(checkpoint), "--manifest", str(manifest), "--json"], capsys)

    assert code == 0
    report = json.loads(out)  # one JSON object and nothing else on stdout
    assert report["n"] == 5  # calm is unknown to the model; one file fails to decode, one is silent
    assert report["labels"] == ["angry", "happy", "neutral", "sad"]
    assert report["restricted_to"] is None
    assert report["dropped_labels"] == ["calm"]
    assert [f["code"] for f in report["failed"]] == ["undecodable_audio", "no_speech"]
    assert sum(map(sum, report["confusion"])) == 5
    assert set(report["per_class"]["sad"]) == {"precision", "recall", "f1", "support"}
    assert report["per_class"]["sad"]["support"] == 2
    for key in ("accuracy", "uar", "macro_f1"):
        assert 0.0 <= report[key] <= 1.0
    assert report["audio_seconds_per_second"] > 0
    assert report["audio_seconds"] == pytest.approx(12.5)
    assert "calm" in err  # the note goes to stderr so stdout stays JSON


def test_restricted_labels_are_reported(
    checkpoint: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = evaluate(
        ["--model", str(checkpoint), "--manifest", str(manifest), "--labels", "sad,calm=neutral", "--json"],
        capsys,
    )

    report = json.loads(out)
    assert code == 0
    assert report["restricted_to"] == ["neutral", "sad"]
    assert report["n"] == 3  # two sad clips and the calm one, scored as neutral
    assert "restricted to 2 shared labels" in report["note"]


def test_text_report_speakers_and_png(
    checkpoint: Path, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "plots" / "confusion.png"
    code, out, _ = evaluate(
        [
            "--model",
            str(checkpoint),
            "--manifest",
            str(manifest),
            "--speakers",
            "a",
            "--confusion-png",
            str(png),
        ],
        capsys,
    )

    assert code == 0
    assert "model " in out and "3 clips" in out
    assert "UAR" in out and "macro-F1" in out and "confusion" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_model_comes_from_settings(
    checkpoint: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.config import get_settings

    monkeypatch.setenv("EMOQ_MODEL", str(checkpoint))
    get_settings.cache_clear()
    try:
        code, out, _ = evaluate(["--manifest", str(manifest), "--json"], capsys)
    finally:
        get_settings.cache_clear()

    assert code == 0
    assert json.loads(out)["model"] == str(checkpoint)


def test_unknown_speaker_is_an_error_message(
    checkpoint: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = evaluate(
        ["--model", str(checkpoint), "--manifest", str(manifest), "--speakers", "zz"], capsys
    )

    assert code == 2
    assert "zz" in err


def test_per_speaker_uar_and_calibration_are_reported(
    checkpoint: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = evaluate(["--model", str(checkpoint), "--manifest", str(manifest), "--json"], capsys)

    report = json.loads(out)
    assert code == 0
    assert set(report["per_speaker"]) == {"a", "b"}
    assert report["per_speaker"]["a"]["n"] + report["per_speaker"]["b"]["n"] == report["n"]
    calibration = report["calibration"]
    assert calibration["temperature"] == 1.0  # nothing stored: the scores are reported uncalibrated
    assert calibration["ece"] == calibration["ece_uncalibrated"]
    assert 0.0 <= calibration["ece"] <= 1.0


def test_fit_temperature_writes_it_into_the_checkpoint(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = save_tiny_checkpoint(tmp_path / "tiny")

    code, out, err = evaluate(
        ["--model", str(checkpoint), "--manifest", str(manifest), "--fit-temperature", "--json"], capsys
    )

    assert code == 0
    stored = json.loads((checkpoint / "config.json").read_text())["emoq_temperature"]
    calibration = json.loads(out)["calibration"]
    assert calibration["temperature"] == pytest.approx(stored, abs=1e-4) and stored != 1.0
    assert "written to" in err

    again, out, _ = evaluate(["--model", str(checkpoint), "--manifest", str(manifest), "--json"], capsys)
    assert again == 0 and json.loads(out)["calibration"]["temperature"] == stored


def test_fit_temperature_refuses_a_restricted_label_set(
    checkpoint: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = evaluate(
        [
            "--model",
            str(checkpoint),
            "--manifest",
            str(manifest),
            "--labels",
            "sad,angry",
            "--fit-temperature",
        ],
        capsys,
    )

    assert code == 2 and "--labels" in err
