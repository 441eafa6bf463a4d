from pathlib import Path

import pytest

from shared.errors import InvalidRequest
from worker.training.manifest import Clip, parse_list, read_manifest
from worker.training.splits import split_by_speaker

SPEAKERS = [f"spk_{i}" for i in range(8)]


def clips() -> list[Clip]:
    return [
        Clip(Path(f"/corpus/{speaker}_{label}_{n}.flac"), label, speaker)
        for speaker in SPEAKERS
        for label in ("angry", "sad")
        for n in range(3)
    ]


@pytest.mark.parametrize("validation", [["spk_1", "spk_2"], None, []])
def test_split_never_shares_a_speaker_and_keeps_every_clip(validation: list[str] | None) -> None:
    split = split_by_speaker(
        clips(), validation_speakers=validation, test_speakers=["spk_0", "spk_7"], seed=3
    )

    parts = [set(split.speakers(part)) for part in ("train", "validation", "test")]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    assert parts[2] == {"spk_0", "spk_7"}
    assert len(split.train) + len(split.validation) + len(split.test) == len(clips())
    for part in ("train", "validation", "test"):
        assert all(c.speaker in split.speakers(part) for c in getattr(split, part))


def test_validation_speakers_are_drawn_reproducibly_when_not_given() -> None:
    first = split_by_speaker(clips(), validation_speakers=None, test_speakers=["spk_0"], seed=1)
    second = split_by_speaker(clips(), validation_speakers=None, test_speakers=["spk_0"], seed=1)

    assert first.speakers("validation") == second.speakers("validation")
    assert len(first.speakers("validation")) == 1  # about 20% of the 7 non-test speakers
    assert "spk_0" not in first.speakers("validation")


def test_empty_validation_trains_on_every_non_test_speaker() -> None:
    split = split_by_speaker(clips(), validation_speakers=[], test_speakers=["spk_0"])

    assert split.validation == []
    assert len(split.speakers("train")) == 7


def test_unknown_or_doubly_used_speakers_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="not in the manifest"):
        split_by_speaker(clips(), validation_speakers=["nobody"], test_speakers=[])
    with pytest.raises(InvalidRequest, match="both validation and test"):
        split_by_speaker(clips(), validation_speakers=["spk_1"], test_speakers=["spk_1"])
    with pytest.raises(InvalidRequest, match="no speakers left"):
        split_by_speaker(clips(), validation_speakers=SPEAKERS[1:], test_speakers=["spk_0"])


def test_manifest_paths_resolve_against_the_manifest_folder(tmp_path: Path) -> None:
    manifest = tmp_path / "corpus" / "manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text("path,label,speaker,duration_s\na/one.flac,sad,s1,1.0\ntwo.flac,angry,s2,2.0\n")

    rows = read_manifest(manifest)

    assert rows[0] == Clip((tmp_path / "corpus" / "a" / "one.flac").resolve(), "sad", "s1")
    assert rows[1].path == (tmp_path / "corpus" / "two.flac").resolve()


def test_manifest_without_required_columns_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,emotion\none.flac,sad\n")

    with pytest.raises(InvalidRequest, match="label, speaker"):
        read_manifest(manifest)


def test_parse_list_trims_and_skips_blanks() -> None:
    assert parse_list(" a, b,,c ") == ["a", "b", "c"]
    assert parse_list(None) == []
