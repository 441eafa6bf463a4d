"""API keys in domain terms: create (the key is seen once), list, revoke, and authenticate a request."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.auth import repository, tokens
from shared.auth.caller import Caller
from shared.auth.scopes import EVERY_SCOPE, Scope, to_column
from shared.config import get_settings
from shared.errors import NotFound
from shared.models import ApiKey
from shared.models.base import utcnow
from shared.webhooks.secrets import current_secret


@dataclass(frozen=True)
class CreatedKey:
    row: ApiKey
    key: str  # the secret itself: shown to the operator once, never stored
    webhook_secret: str  # signs this key's webhooks; the key itself can read it again (scope admin)


def create_key(session: Session, name: str, scopes: frozenset[Scope] = EVERY_SCOPE) -> CreatedKey:
    if not scopes:
        raise ValueError("a key needs at least one scope")
    key = tokens.new_key()
    row = repository.add(
        session,
        ApiKey(
            id=uuid.uuid4(),
            name=name,
            prefix=tokens.display_prefix(key),
            key_hash=tokens.hash_key(key),
            scopes=to_column(scopes),
        ),
    )
    return CreatedKey(row=row, key=key, webhook_secret=current_secret(session, row, get_settings()))


def list_keys(session: Session) -> list[ApiKey]:
    return repository.all_keys(session)


def find_key(session: Session, reference: str) -> ApiKey:
    """A key by its id, its displayed prefix, or the key itself."""
    reference = reference.strip().rstrip("…")  # as `emoq keys list` shows a prefix
    try:
        found = repository.by_id(session, uuid.UUID(reference))
    except ValueError:
        found = None
    if found is None and tokens.is_well_formed(reference):
        found = repository.by_hash(session, tokens.hash_key(reference))
    if found is None:
        found = repository.by_prefix(session, reference)
    if found is None:
        raise NotFound("no API key with this id or prefix", code="api_key_not_found")
    return found


def revoke_key(session: Session, reference: str) -> tuple[ApiKey, bool]:
    """Revoke a key at once; its jobs stay, visible to nobody else. Returns the key and whether it was
    live until now."""
    key = find_key(session, reference)
    revoked = repository.revoke(session, key.id, at=utcnow())
    session.refresh(key)
    return key, revoked


def authenticate(session: Session, presented: str) -> Caller | None:
    """The caller behind a presented key, or None for a malformed, unknown or revoked one."""
    if not tokens.is_well_formed(presented):
        return None
    digest = tokens.hash_key(presented)
    key = repository.by_hash(session, digest)
    # Looked up by its hash, so timing reveals nothing of the key; the comparison is constant-time anyway.
    if key is None or not hmac.compare_digest(key.key_hash, digest) or key.revoked_at is not None:
        return None
    return Caller(key_id=key.id, scopes=Scope.parse(key.scopes))
