"""A whole ``emoq train`` run on synthetic tones with a tiny network: seconds, not minutes."""

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.numpy import load_file
from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

from cli import train as command
from tests.model_factory import save_tiny_checkpoint
from worker.evaluation.runner import evaluate
from worker.evaluation.scope import resolve_scope
from worker.inference import AudioClassifier
from worker.training.manifest import read_manifest
from worker.training.validation import clip_probabilities

RATE = 16000
# Each "emotion" is a pitch; each "speaker" shifts it a little, so the task is learnable but not trivial.
PITCHES = {"angry": 220.0, "happy": 330.0, "sad": 150.0}
TINY = {
    "hidden_size": 32,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "conv_dim": [16, 16, 16, 16],
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
    "classifier_proj_size": 16,
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir()
    rows = ["path,label,speaker,duration_s"]
    rng = np.random.default_rng(0)
    for s, speaker in enumerate(["s1", "s2", "s3", "s4"]):
        for label, pitch in PITCHES.items():
            for n, seconds in enumerate((0.9, 2.2)):
                t = np.arange(round(seconds * RATE)) / RATE
                wave = 0.5 * np.sin(2 * np.pi * pitch * (1 + 0.03 * s) * t) + 0.01 * rng.standard_normal(
                    len(t)
                )
                name = f"{speaker}_{label}_{n}.flac"
                sf.write(folder / name, wave.astype(np.float32), RATE)
                rows.append(f"{name},{label},{speaker},{seconds}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def run_train(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["train", *argv])
    return args.handler(args)


def tiny_train(
    manifest: Path, output: Path, *extra: str, held_out: tuple[str, ...] = ("--test-speakers", "s4")
) -> int:
    overrides = [
        item for key, value in TINY.items() for item in ("--config-override", f"{key}={json.dumps(value)}")
    ]
    fixed = [
        *held_out,
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--crops-per-clip",
        "1",
        "--seed",
        "5",
    ]
    fixed += ["--device", "cpu"]
    return run_train(
        [
            "--manifest",
            str(manifest),
            "--output",
            str(output),
            "--config-preset",
            "small",
            *overrides,
            *fixed,
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("data") / "tones")


@pytest.fixture(scope="module")
def checkpoint(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("out") / "tiny-model"
    assert tiny_train(corpus, output, "--val-speakers", "s3") == 0
    return output


def test_checkpoint_loads_with_plain_transformers(checkpoint: Path) -> None:
    model = AutoModelForAudioClassification.from_pretrained(checkpoint)
    extractor = AutoFeatureExtractor.from_pretrained(checkpoint)

    assert type(model).__name__ == "Wav2Vec2ForSequenceClassification"
    assert model.config.id2label == {0: "angry", 1: "happy", 2: "sad"}
    assert model.config.label2id == {"angry": 0, "happy": 1, "sad": 2}
    assert model.config.hidden_size == 32
    assert (model.config.emoq_window_seconds, model.config.emoq_hop_seconds) == (1.5, 1.0)
    assert extractor.sampling_rate == RATE and extractor.do_normalize and extractor.return_attention_mask
    assert sorted(p.name for p in checkpoint.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ]


def test_checkpoint_serves_through_the_worker_classifier(checkpoint: Path) -> None:
    classifier = AudioClassifier.load(str(checkpoint), device="cpu")
    t = np.arange(3 * RATE) / RATE
    result = classifier.classify((0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))

    assert classifier.labels == ["angry", "happy", "sad"]
    assert {s.label for s in result.scores} == set(PITCHES)
    assert sum(s.score for s in result.scores) == pytest.approx(1.0, abs=1e-5)
    assert len(result.segments) == 3  # 1.5 s windows every 1.0 s over 3 s: [0, 1.5], [1, 2.5], [2, 3]


def test_model_card_records_split_settings_results_and_command(checkpoint: Path) -> None:
    card = (checkpoint / "README.md").read_text()

    assert "| train | s1, s2 | 12 |" in card
    assert "| validation | s3 | 6 |" in card
    assert "| test | s4 | 6 |" in card
    assert "Test speakers (never used for training or model selection)" in card
    assert "Confusion matrix" in card
    assert "label_smoothing: 0.1" in card
    assert "- architecture: 4 conv layers (16, 16, 16, 16 channels, strides 5-4-4-4: 20 ms frames" in card
    assert "emoq train --manifest" in card and "--val-speakers s3" in card
    assert "## Limitations" in card


def test_training_is_reproducible_from_the_seed(corpus: Path, checkpoint: Path, tmp_path: Path) -> None:
    assert tiny_train(corpus, tmp_path / "again", "--val-speakers", "s3") == 0

    first, second = (
        load_file(checkpoint / "model.safetensors"),
        load_file(tmp_path / "again" / "model.safetensors"),
    )
    assert first.keys() == second.keys()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_training_without_validation_keeps_the_last_epoch(corpus: Path, tmp_path: Path) -> None:
    assert tiny_train(corpus, tmp_path / "final", "--val-speakers", "none", "--epochs", "2") == 0

    card = (tmp_path / "final" / "README.md").read_text()
    assert "| validation | - | 0 |" in card
    assert "epochs run: 2; weights kept from epoch 2" in card


def test_unknown_speaker_is_reported_without_a_traceback(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tiny_train(corpus, tmp_path / "never", "--val-speakers", "nobody") == 2

    assert "speaker(s) not in the manifest: nobody" in capsys.readouterr().err
    assert not (tmp_path / "never").exists()


def test_validation_counts_a_silent_clip_as_a_miss_instead_of_crashing(checkpoint: Path) -> None:
    model = AutoModelForAudioClassification.from_pretrained(checkpoint)
    extractor = AutoFeatureExtractor.from_pretrained(checkpoint)
    t = np.arange(2 * RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)

    rows = clip_probabilities(
        model, extractor, [np.zeros(RATE, dtype=np.float32), tone], device=torch.device("cpu")
    )

    assert rows[0] == pytest.approx([1 / 3] * 3)
    assert rows[1].sum() == pytest.approx(1.0, abs=1e-5)


def test_fine_tuning_starts_from_a_local_checkpoint_with_a_new_head(corpus: Path, tmp_path: Path) -> None:
    pretrained = save_tiny_checkpoint(tmp_path / "pretrained")  # four labels; the corpus has three
    output = tmp_path / "tuned"
    argv = ["--manifest", str(corpus), "--output", str(output), "--init-from", str(pretrained)]
    assert (
        run_train(
            [*argv, "--val-speakers", "s3", "--epochs", "1", "--crops-per-clip", "1", "--device", "cpu"]
        )
        == 0
    )

    model = AutoModelForAudioClassification.from_pretrained(output)
    assert model.config.id2label == {0: "angry", 1: "happy", 2: "sad"}
    assert model.config.conv_dim == [16, 16, 16]  # the pretrained encoder, not the preset
    assert f"initialised from: {pretrained}" in (output / "README.md").read_text()


def test_conditioning_is_stored_in_the_checkpoint_and_applied_to_training_clips(
    corpus: Path, tmp_path: Path
) -> None:
    from worker.conditioning import Conditioning
    from worker.training.manifest import read_manifest
    from worker.training.run import _decode

    output = tmp_path / "conditioned"
    assert tiny_train(corpus, output, "--val-speakers", "none", "--trim-db", "30", "--normalize", "peak") == 0

    config = json.loads((output / "config.json").read_text())
    assert config["emoq_preprocessing"] == {"trim_db": 30.0, "normalize": "peak"}
    assert "--trim-db 30.0 --normalize peak" in (output / "README.md").read_text()
    classifier = AudioClassifier.load(str(output), device="cpu")
    assert classifier.conditioning == Conditioning(trim_db=30.0, normalize="peak")

    # A training clip with a quiet second before it is trimmed and scaled exactly as inference will.
    wave = np.concatenate([np.zeros(RATE, dtype=np.float32), 0.2 * np.ones(RATE, dtype=np.float32)])
    sf.write(tmp_path / "lead.flac", wave, RATE)
    (tmp_path / "m.csv").write_text("path,label,speaker\nlead.flac,sad,s1\n")
    decoded = _decode(read_manifest(tmp_path / "m.csv"), ["sad"], classifier.conditioning)
    assert decoded is not None
    assert len(decoded.waveforms[0]) < 1.2 * RATE and np.max(np.abs(decoded.waveforms[0])) == pytest.approx(
        1.0
    )


def test_cross_validation_scores_every_fold_on_speakers_it_never_heard(corpus: Path, tmp_path: Path) -> None:
    folds = ("--fold", "s1,s2", "--fold", "s3,s4")
    assert tiny_train(corpus, tmp_path / "cv", held_out=folds) == 0

    summary = json.loads((tmp_path / "cv" / "crossval.json").read_text())
    assert [fold["speakers"] for fold in summary["folds"]] == [["s1", "s2"], ["s3", "s4"]]
    for k, fold in enumerate(summary["folds"], start=1):
        card = (tmp_path / "cv" / f"fold-{k}" / "README.md").read_text()
        held = ", ".join(fold["speakers"])
        assert f"| test | {held} | 12 |" in card and "| validation | - | 0 |" in card
        assert sorted(fold["per_speaker_uar"]) == fold["speakers"] and fold["n"] == 12
        # Each fold's checkpoint is scored as the service scores it: `emoq evaluate` gives the same UAR.
        classifier = AudioClassifier.load(fold["checkpoint"], device="cpu")
        clips = [c for c in read_manifest(corpus) if c.speaker in fold["speakers"]]
        alone = evaluate(
            classifier,
            clips,
            resolve_scope(classifier.labels, classifier.labels, None),
            max_seconds=60.0,
            progress=False,
        )
        assert fold["uar"] == pytest.approx(alone.metrics.uar)
    uars = [fold["uar"] for fold in summary["folds"]]
    assert summary["uar_mean"] == pytest.approx(np.mean(uars))
    assert summary["uar_std"] == pytest.approx(np.std(uars, ddof=1))
    assert summary["uar_min"] == min(uars)
    assert np.asarray(summary["confusion"]).sum() == 24
    calibration = summary["calibration"]
    assert 0.0 <= calibration["ece_uncalibrated"] <= 1.0 and 0.0 <= calibration["ece_cross_validated"] <= 1.0
    assert calibration["temperature"] > 0


def test_a_speaker_in_two_folds_is_refused(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folds = ("--fold", "s1,s2", "--fold", "s2,s3")
    assert tiny_train(corpus, tmp_path / "cv", held_out=folds) == 2

    assert "speaker(s) in more than one fold: s2" in capsys.readouterr().err
    assert not (tmp_path / "cv").exists()


def test_a_speed_range_that_would_stop_or_reverse_the_audio_is_refused(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as refused:
        tiny_train(corpus, tmp_path / "out", "--speed-range", "0.7")

    assert refused.value.code == 2 and not (tmp_path / "out").exists()


def test_window_and_hop_are_the_training_crop_and_reach_the_service(corpus: Path, tmp_path: Path) -> None:
    output = tmp_path / "long"
    assert (
        tiny_train(
            corpus,
            output,
            *(
                "--val-speakers",
                "none",
                "--window-seconds",
                "2",
                "--hop-seconds",
                "1.5",
                "--speed-range",
                "0.2",
                "--tempo-range",
                "0.05",
            ),
        )
        == 0
    )

    config = json.loads((output / "config.json").read_text())
    assert (config["emoq_window_seconds"], config["emoq_hop_seconds"]) == (2.0, 1.5)
    card = (output / "README.md").read_text()
    assert "It scores 2 s windows every 1.5 s" in card
    assert "--window-seconds 2.0 --hop-seconds 1.5 --speed-range 0.2" in card
    assert "--tempo-range 0.05" in card
    classifier = AudioClassifier.load(str(output), device="cpu")
    t = np.arange(round(3.5 * RATE)) / RATE
    result = classifier.classify((0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32))
    assert [(s.start_s, s.end_s) for s in result.segments] == [(0.0, 2.0), (1.5, 3.5)]
