"""Every SQL statement about API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import ApiKey


def add(session: Session, key: ApiKey) -> ApiKey:
    session.add(key)
    session.flush()
    return key


def by_hash(session: Session, key_hash: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


def by_id(session: Session, key_id: uuid.UUID) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke(session: Session, key_id: uuid.UUID, *, at: datetime) -> bool:
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def lock_for_submission(session: Session, key_id: uuid.UUID, *, at: datetime) -> None:
    """Write the key's row: a row lock on PostgreSQL, the write lock on SQLite. Until this transaction
    ends, another submission with the same key waits here, so the counts that follow stay exact across
    API replicas."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .values(last_submission_at=at)
        .execution_options(synchronize_session=False)
    )


def set_webhook_secret(
    session: Session,
    key_id: uuid.UUID,
    *,
    sealed: str,
    previous: str | None,
    rotated_at: datetime | None,
    only_if_unset: bool = False,
) -> bool:
    """Store a sealed secret. ``only_if_unset``: only where the key has none yet, so of two processes
    giving a key its first secret at once, one wins and both then read the winner's."""
    condition = [ApiKey.id == key_id]
    if only_if_unset:
        condition.append(ApiKey.webhook_secret.is_(None))
    result = session.execute(
        update(ApiKey)
        .where(*condition)
        .values(webhook_secret=sealed, previous_webhook_secret=previous, webhook_secret_rotated_at=rotated_at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
