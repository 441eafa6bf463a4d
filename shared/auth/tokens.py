"""The shape of an API key: how one is made, hashed and shown."""

from __future__ import annotations

import hashlib
import secrets

SCHEME = "emoq_"
# 32 random bytes: a key cannot be guessed, so one unsalted SHA-256 is enough to store it safely.
RANDOM_BYTES = 32
PREFIX_LENGTH = len(SCHEME) + 8
MAX_KEY_LENGTH = 128


def new_key() -> str:
    return SCHEME + secrets.token_urlsafe(RANDOM_BYTES)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """The part of a key that may be shown: 48 of its 256 random bits, the rest stays secret."""
    return key[:PREFIX_LENGTH]


def is_well_formed(key: str) -> bool:
    """Cheap refusal of anything that cannot be a key, before the database is asked."""
    return key.startswith(SCHEME) and PREFIX_LENGTH < len(key) <= MAX_KEY_LENGTH
