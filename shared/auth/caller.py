"""Who is calling. Every read a client makes is filtered through ``owned_by``: the one rule of visibility."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from shared.auth.scopes import EVERY_SCOPE, Scope
from shared.errors import InsufficientScope


@dataclass(frozen=True)
class Caller:
    """The API key behind a request; ``key_id`` is None when auth is disabled (one local user)."""

    key_id: uuid.UUID | None
    scopes: frozenset[Scope] = field(default=EVERY_SCOPE)

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise InsufficientScope(scope.value)


ANONYMOUS = Caller(key_id=None)


def owned_by(column: InstrumentedAttribute[uuid.UUID | None], caller: Caller) -> ColumnElement[bool]:
    """Rows that belong to the caller. With auth disabled, only rows created with auth disabled: turning
    auth off for a while on localhost does not open the keys' jobs to anyone."""
    return column.is_(None) if caller.key_id is None else column == caller.key_id
