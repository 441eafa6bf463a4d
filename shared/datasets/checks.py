"""The rules a dataset is held to, apart from reading files: which manifest rows name a usable file, and
whether what was accepted can be trained on (at least two labels, enough files for each)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from shared.datasets.manifest import ManifestRow, normalize_path
from shared.datasets.refusals import Refusal
from shared.errors import DatasetUnusable
from shared.models.dataset import LABEL_LENGTH, PATH_LENGTH, SPEAKER_LENGTH

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class WantedClip:
    """A manifest row whose file was sent: still to be probed."""

    path: str  # normalised
    label: str
    speaker: str | None


@dataclass(frozen=True)
class Matched:
    wanted: list[WantedClip]
    refused: list[Refusal]
    labels: set[str]  # every valid label the manifest names, whether or not its files survive


def match_rows(rows: list[ManifestRow], sent: Collection[str], *, max_files: int) -> Matched:
    """Each row against the files sent (by normalised path). A row is refused for a bad path, label or
    speaker, a path named twice, or a file not sent; a file no row names is refused as well."""
    if len(rows) > max_files:
        raise DatasetUnusable(
            [{"code": "too_many_files", "message": f"the manifest names more than {max_files} files"}]
        )
    wanted: list[WantedClip] = []
    refused: list[Refusal] = []
    labels: set[str] = set()
    named: set[str] = set()
    for row in rows:
        path = normalize_path(row.path)
        problem = _row_problem(row, path, named, sent)
        if path is not None:
            named.add(path)
        if row.label and not _bad_text(row.label, LABEL_LENGTH):
            labels.add(row.label)
        if problem is not None:
            refused.append(Refusal(row.path[:PATH_LENGTH], *problem))
        else:
            wanted.append(WantedClip(path=path or "", label=row.label, speaker=row.speaker))
    refused += [
        Refusal(path[:PATH_LENGTH], "not_in_manifest", "no manifest row names this file")
        for path in sorted(set(sent) - named)
    ]
    return Matched(wanted=wanted, refused=refused, labels=labels)


def _row_problem(
    row: ManifestRow, path: str | None, named: set[str], sent: Collection[str]
) -> tuple[str, str] | None:
    if path is None or len(path) > PATH_LENGTH:
        return "invalid_path", "the path is empty, too long, absolute or leaves the dataset's folder"
    if path in named:
        return "duplicate_path", "an earlier row names the same file"
    if not row.label:
        return "missing_label", "the row has no label"
    if _bad_text(row.label, LABEL_LENGTH):
        return "invalid_label", f"a label has at most {LABEL_LENGTH} characters and no control characters"
    if row.speaker is not None and _bad_text(row.speaker, SPEAKER_LENGTH):
        return (
            "invalid_speaker",
            f"a speaker has at most {SPEAKER_LENGTH} characters and no control characters",
        )
    if path not in sent:
        return "missing_file", "the manifest names a file that was not sent"
    return None


def _bad_text(value: str, max_length: int) -> bool:
    return len(value) > max_length or bool(_CONTROL.search(value))


def require_trainable(
    accepted_labels: list[str], manifest_labels: set[str], refused: list[Refusal], *, min_per_label: int
) -> None:
    """At least two labels, and every label the manifest names with ``min_per_label`` accepted files:
    a label whose files were all refused is short of files, not silently dropped."""
    counts = Counter(accepted_labels)
    reasons = []
    if len(counts) < 2:
        reasons.append(
            {"code": "too_few_labels", "message": f"{len(counts)} label(s) have files; training needs two"}
        )
    for label in sorted(manifest_labels):
        if counts[label] < min_per_label:
            reasons.append(
                {
                    "code": "label_short_of_files",
                    "message": f"label {label!r} has {counts[label]} usable file(s); at least"
                    f" {min_per_label} are needed",
                    "label": label,
                    "files": counts[label],
                }
            )
    if reasons:
        raise DatasetUnusable(reasons, [refusal.as_dict() for refusal in refused])
