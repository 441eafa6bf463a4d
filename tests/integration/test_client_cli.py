"""The `emoq` command-line client against a running service, through the public API only."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.audio_factory import write_tone
from tests.bad_audio import BAD_UPLOADS
from tests.dataset_factory import write_corpus
from tests.integration.conftest import RunningService
from tests.integration.stack import free_port
from tests.model_factory import LABELS

pytestmark = pytest.mark.integration


def emoq(service_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMOQ_URL": service_url}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def url(service: RunningService) -> str:
    return f"http://127.0.0.1:{service.stack.port}"


def test_submit_and_wait_prints_sorted_scores(url: str, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "hello.wav", fmt="wav", seconds=0.8)

    done = emoq(url, "submit", str(clip), "--wait")

    assert done.returncode == 0, done.stderr
    job_id, name = done.stdout.splitlines()[0].split("\t")
    assert name == "hello.wav"
    lines = [line.split() for line in done.stdout.splitlines() if line.startswith("  ")]
    scores = [float(words[1]) for words in lines if words[0] in LABELS]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    [confidence] = [words for words in lines if words[0] == "confidence"]
    assert confidence[1:3] == [f"{scores[0]:.3f},", "margin"]
    assert float(confidence[3]) == pytest.approx(scores[0] - scores[1], abs=0.0015), "printed rounded"
    assert any(words[0] == "arousal" and words[-1] == "(derived)" for words in lines)
    assert any(words[1] in LABELS and "-" in words[0] for words in lines), "an episode: start-end label"
    status = emoq(url, "status", job_id)
    assert json.loads(status.stdout)["status"] == "succeeded"


def test_submit_with_transcribe_prints_each_utterance_with_its_emotion(url: str, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "said.wav", fmt="wav", seconds=2.0)

    done = emoq(url, "submit", str(clip), "--transcribe", "--wait")

    assert done.returncode == 0, done.stderr
    job_id = done.stdout.splitlines()[0].split("\t")[0]
    utterances = json.loads(emoq(url, "status", job_id).stdout)["result"]["utterances"]
    lines = done.stdout.splitlines()
    start = lines.index(f"  transcript, {len(utterances)} utterances:") + 1
    shown = [line.split(maxsplit=2) for line in lines[start : start + len(utterances)]]
    assert [(words[1], json.loads(words[2])) for words in shown] == [
        (u["dominant"]["label"], u["text"]) for u in utterances
    ]


def test_submit_sends_every_file_and_exits_with_the_worst_outcome(url: str, tmp_path: Path) -> None:
    first = write_tone(tmp_path / "a.wav", fmt="wav", seconds=0.5)
    not_audio = BAD_UPLOADS[1].write(tmp_path)
    last = write_tone(tmp_path / "c.wav", fmt="wav", seconds=0.5)

    done = emoq(url, "submit", str(first), str(not_audio), str(last), "--wait")

    assert done.returncode == 2, "a file the server refused is the worst outcome"
    sent = [line.split("\t")[1] for line in done.stdout.splitlines() if "\t" in line]
    assert sent == ["a.wav", "c.wav"], "the files after the refused one are sent too"
    assert f"{not_audio}: undecodable_audio" in done.stderr
    results = [line.split(":")[0] for line in done.stdout.splitlines() if not line.startswith("  ")]
    assert [name for name in results if not name.count("\t")] == ["a.wav", "c.wav"]


def test_batch_wait_and_results_in_every_format(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    for i in range(3):
        write_tone(folder / f"call{i}.flac", fmt="flac", seconds=0.5)
    BAD_UPLOADS[0].write(folder)

    done = emoq(url, "batch", str(folder), "--wait")

    assert done.returncode == 1, "one file is not audio, so not every job succeeded"
    batch_id = done.stdout.split("\t")[0]
    assert json.loads(done.stdout.splitlines()[-1])["succeeded"] == 3
    table = emoq(url, "results", batch_id).stdout.splitlines()
    assert table[0].split("\t") == ["file", "status", "dominant", "score", "margin", "low_confidence"]
    assert len(table) == 5
    succeeded = [line.split("\t") for line in table[1:] if "\tsucceeded\t" in line]
    assert all(0 <= float(row[4]) <= float(row[3]) and row[5] in ("true", "false") for row in succeeded)
    as_json = json.loads(emoq(url, "results", batch_id, "--format", "json").stdout)
    assert {row["status"] for row in as_json} == {"succeeded", "failed"}
    rows = list(csv.DictReader(io.StringIO(emoq(url, "results", batch_id, "--format", "csv").stdout)))
    assert sorted(row["file"] for row in rows) == sorted(p.name for p in folder.iterdir())


def test_features_on_request_from_the_shell(url: str, tmp_path: Path) -> None:
    clip = write_tone(tmp_path / "voice.wav", fmt="wav", seconds=0.8, freq=220.0)
    folder = tmp_path / "calls"
    folder.mkdir()
    write_tone(folder / "call.wav", fmt="wav", seconds=0.5, freq=220.0)

    single = emoq(url, "submit", str(clip), "--features", "--wait")
    batch = emoq(url, "batch", str(folder), "--features", "--wait")

    assert single.returncode == 0, single.stderr
    [pitch] = [line.split() for line in single.stdout.splitlines() if line.startswith("  pitch")]
    assert pitch[2:4] == ["Hz", "median,"] and float(pitch[1]) == pytest.approx(220.0, rel=0.01)
    assert any("dBFS" in line for line in single.stdout.splitlines())
    assert batch.returncode == 0, batch.stderr
    header, row = (line.split("\t") for line in batch.stdout.splitlines()[1:3])
    assert header[-3:] == ["pitch_hz", "loudness_dbfs", "syllables_per_s"]
    assert float(row[-3]) == pytest.approx(220.0, rel=0.01)
    csv_rows = list(
        csv.DictReader(
            io.StringIO(emoq(url, "results", batch.stdout.split("\t")[0], "--format", "csv").stdout)
        )
    )
    assert float(csv_rows[0]["feature_pitch_median_hz"]) == pytest.approx(220.0, rel=0.01)


def test_exit_codes_scripts_can_rely_on(url: str, tmp_path: Path) -> None:
    not_audio = BAD_UPLOADS[1].write(tmp_path)

    assert emoq(url, "submit", str(not_audio)).returncode == 2
    assert emoq(url, "status", "00000000-0000-0000-0000-000000000000").returncode == 4
    assert emoq(f"http://127.0.0.1:{free_port()}", "status", str(uuid.uuid4())).returncode == 3
    not_an_id = emoq(url, "status", "nope")
    assert not_an_id.returncode == 2 and "UUID" in not_an_id.stderr


def test_watch_a_batch_ends_with_each_jobs_dominant_emotion(url: str, tmp_path: Path) -> None:
    for i in range(2):
        write_tone(tmp_path / f"call{i}.wav", fmt="wav", seconds=0.5)
    batch_id = emoq(url, "batch", str(tmp_path)).stdout.split("\t")[0]

    watched = emoq(url, "watch", batch_id)

    assert watched.returncode == 0, watched.stderr
    lines = watched.stdout.splitlines()
    assert lines[0].split("\t") == ["file", "status", "dominant", "score", "margin", "low_confidence"]
    rows = [line.split("\t") for line in lines[1:-1]]
    assert sorted(row[0] for row in rows) == ["call0.wav", "call1.wav"]
    assert all(row[1] == "succeeded" and row[2] in LABELS and 0 < float(row[3]) <= 1 for row in rows)
    assert json.loads(lines[-1])["succeeded"] == 2


def test_output_into_a_pipe_closed_early_ends_quietly(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    write_tone(folder / "call.wav", fmt="wav", seconds=0.5)
    batch_id = emoq(url, "batch", str(folder), "--wait").stdout.split("\t")[0]
    # Like `emoq results … | head -0`: the reader is gone before the first line is written.
    reader, writer = os.pipe()
    os.close(reader)
    with os.fdopen(writer, "wb") as closed_pipe:
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "results", batch_id, "--format", "json"],
            env={**os.environ, "EMOQ_URL": url},
            stdout=closed_pipe,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )

    assert done.stderr == ""
    assert done.returncode == 141


def test_datasets_upload_list_show_and_delete_from_the_shell(url: str, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "my-corpus")
    (corpus / "unlisted.wav").write_bytes((corpus / "sad" / "sad0.wav").read_bytes())
    with (corpus / "manifest.csv").open("a") as manifest:
        manifest.write("missing.wav,sad,s1\n")

    uploaded = emoq(url, "datasets", "upload", str(corpus))

    assert uploaded.returncode == 0, uploaded.stderr
    dataset_id, name, sent = uploaded.stdout.splitlines()[0].split("\t")
    assert name == "my-corpus" and sent == "10 files sent", "only what the manifest names is sent"
    assert "10 files, 2 labels, 2 speakers" in uploaded.stdout
    assert "missing.wav\tmissing_file" in uploaded.stdout
    listed = emoq(url, "datasets", "list").stdout.splitlines()
    assert [line.split("\t")[:4] for line in listed if line.startswith(dataset_id)] == [
        [dataset_id, "my-corpus", "10", "2"]
    ]
    shown = emoq(url, "datasets", "show", dataset_id, "--json")
    assert {f["path"] for f in json.loads(shown.stdout)["files"]} == {
        p.relative_to(corpus).as_posix() for p in corpus.rglob("*/*.wav")
    }
    assert emoq(url, "datasets", "delete", dataset_id).returncode == 0
    assert emoq(url, "datasets", "show", dataset_id).returncode == 4


def test_datasets_upload_of_an_untrainable_folder_says_why(url: str, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "one-label", labels=("sad",))

    refused = emoq(url, "datasets", "upload", str(corpus))

    assert refused.returncode == 2
    assert "too_few_labels" in refused.stderr
    assert emoq(url, "datasets", "upload", str(tmp_path / "nowhere")).returncode == 2
