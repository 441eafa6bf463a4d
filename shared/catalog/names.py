"""``EMOQ_MODELS``: the checkpoints one service serves, each under a short name clients ask for.

The syntax is a comma-separated list of ``name=source``, where the source is a local folder or a hub id,
optionally pinned as ``hub/id@revision``: ``fast=models/emoq-emodb-small,accurate=org/big@v2``. The first
is the default. Unset, the one model is ``EMOQ_MODEL`` (pinned by ``EMOQ_MODEL_REVISION``), named
``default``. Names become parts of queue names and URLs, hence their narrow alphabet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_NAME = "default"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class ModelEntry:
    name: str
    source: str  # a local folder or a hub id
    revision: str | None = None


def parse_models(raw: str) -> list[ModelEntry]:
    """The entries of an ``EMOQ_MODELS`` value, in order; ``ValueError`` says what is wrong with it."""
    entries: list[ModelEntry] = []
    for part in (part.strip() for part in raw.split(",")):
        if not part:
            continue
        name, equals, source = (side.strip() for side in part.partition("="))
        if not equals or not source:
            raise ValueError(f"EMOQ_MODELS entry {part!r} is not name=source")
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"EMOQ_MODELS name {name!r}: 1 to 32 of a-z, 0-9, '-' and '_', starting with a letter or digit"
            )
        if any(entry.name == name for entry in entries):
            raise ValueError(f"EMOQ_MODELS names {name!r} twice")
        source, at, revision = source.rpartition("@") if "@" in source else (source, "", "")
        entries.append(ModelEntry(name=name, source=source, revision=revision if at else None))
    if not entries:
        raise ValueError("EMOQ_MODELS names no model")
    return entries


def parse_names(raw: str, known: list[str]) -> list[str]:
    """A comma-separated subset of ``known`` (``EMOQ_WORKER_MODELS``); empty means all."""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    if not names:
        return list(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown model {', '.join(unknown)}; the models are {', '.join(known)}")
    return list(dict.fromkeys(names))
