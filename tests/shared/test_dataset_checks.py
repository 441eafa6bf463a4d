"""The manifest format and the dataset rules, apart from any upload."""

from __future__ import annotations

import pytest

from shared.datasets.checks import match_rows, require_trainable
from shared.datasets.manifest import ManifestRow, normalize_path, parse_manifest
from shared.errors import DatasetUnusable, InvalidRequest


def test_the_manifest_takes_an_optional_speaker_and_ignores_other_columns() -> None:
    rows = parse_manifest("\ufeffpath, label ,duration_s\n a.wav ,sad,1.0\nb.wav,,2\n")
    with_speakers = parse_manifest("path,label,speaker\na.wav,sad,s1\nb.wav,happy,\n")

    assert rows == [ManifestRow("a.wav", "sad", None), ManifestRow("b.wav", "", None)]
    assert [row.speaker for row in with_speakers] == ["s1", None]


@pytest.mark.parametrize("text", ["path,emotion\na.wav,sad\n", "path,label\n", ""])
def test_a_manifest_without_its_columns_or_rows_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        parse_manifest(text)
    assert raised.value.code == "invalid_manifest"


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("a.wav", "a.wav"),
        ("./sad/../sad/a.wav", "sad/a.wav"),
        ("sad\\a.wav", "sad/a.wav"),
        ("../a.wav", None),
        ("/etc/passwd", None),
        ("C:/a.wav", None),
        ("a\x00.wav", None),
        ("", None),
    ],
)
def test_paths_stay_inside_the_dataset(given: str, normalised: str | None) -> None:
    assert normalize_path(given) == normalised


def test_each_row_is_matched_with_a_sent_file_or_refused_with_a_code() -> None:
    rows = [
        ManifestRow("a.wav", "sad", "s1"),
        ManifestRow("./a.wav", "sad", None),
        ManifestRow("b.wav", "", None),
        ManifestRow("c.wav", "x" * 65, None),
        ManifestRow("d.wav", "happy", "\x07"),
        ManifestRow("gone.wav", "happy", None),
    ]

    matched = match_rows(rows, {"a.wav", "b.wav", "c.wav", "d.wav", "e.wav"}, max_files=10)

    assert [clip.path for clip in matched.wanted] == ["a.wav"]
    assert [(r.path, r.code) for r in matched.refused] == [
        ("./a.wav", "duplicate_path"),
        ("b.wav", "missing_label"),
        ("c.wav", "invalid_label"),
        ("d.wav", "invalid_speaker"),
        ("gone.wav", "missing_file"),
        ("e.wav", "not_in_manifest"),
    ]
    assert matched.labels == {"sad", "happy"}


def test_more_rows_than_allowed_refuse_the_dataset() -> None:
    with pytest.raises(DatasetUnusable) as raised:
        match_rows([ManifestRow(f"{n}.wav", "sad", None) for n in range(3)], set(), max_files=2)
    assert [reason["code"] for reason in raised.value.reasons] == ["too_many_files"]


def test_two_labels_with_enough_files_each_are_trainable() -> None:
    require_trainable(["a", "a", "b", "b"], {"a", "b"}, [], min_per_label=2)
    with pytest.raises(DatasetUnusable) as raised:
        require_trainable(["a", "a", "b"], {"a", "b", "c"}, [], min_per_label=2)
    assert [(r["code"], r["label"], r["files"]) for r in raised.value.reasons] == [
        ("label_short_of_files", "b", 1),
        ("label_short_of_files", "c", 0),
    ]
