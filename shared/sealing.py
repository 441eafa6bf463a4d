"""Secrets at rest that must be read back (the webhook secrets sign with them): sealed with Fernet.

The sealing keys come from ``EMOQ_SECRET_KEY`` (comma-separated, newest first: tokens sealed under an
older key still open, and ``emoq keys reseal`` moves them to the newest). Production requires it; in
development a key is made once in ``<data dir>/secret-key``. A copy of the database alone opens nothing.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from shared.config import Settings
from shared.errors import ServiceUnavailable
from shared.secret_files import read_or_create


class SealedSecretUnreadable(ServiceUnavailable):
    """No sealing key opens the token: EMOQ_SECRET_KEY lost the key it was sealed with."""

    code = "sealing_key_mismatch"


def development_key_path(settings: Settings) -> Path:
    return settings.data_dir / "secret-key"


def _sealer(settings: Settings) -> MultiFernet:
    keys = settings.sealing_keys
    if keys is None:
        key, _ = read_or_create(development_key_path(settings), lambda: Fernet.generate_key().decode())
        keys = [key]
    return MultiFernet([Fernet(key) for key in keys])


def seal(plaintext: str, settings: Settings) -> str:
    return _sealer(settings).encrypt(plaintext.encode()).decode()


def unseal(token: str, settings: Settings) -> str:
    try:
        return _sealer(settings).decrypt(token.encode()).decode()
    except InvalidToken:
        raise SealedSecretUnreadable(
            "a stored secret was sealed with a key that EMOQ_SECRET_KEY no longer lists"
        ) from None


def reseal(token: str, settings: Settings) -> str:
    """The same secret sealed under the newest key, so older keys can be retired."""
    try:
        return _sealer(settings).rotate(token.encode()).decode()
    except InvalidToken:
        raise SealedSecretUnreadable(
            "a stored secret was sealed with a key that EMOQ_SECRET_KEY no longer lists"
        ) from None
