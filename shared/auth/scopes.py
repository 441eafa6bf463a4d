"""What a key may do. Reading and changing jobs are apart, so a dashboard's key can only read."""

from __future__ import annotations

from enum import StrEnum

from shared.models.api_key import ALL_SCOPES


class Scope(StrEnum):
    JOBS_READ = "jobs:read"  # jobs, batches, results, deliveries, models, datasets
    JOBS_WRITE = "jobs:write"  # submit, cancel, delete, re-send a delivery, upload a dataset
    ADMIN = "admin"  # the key's webhook secret: reading it lets one sign as EmoQ

    @classmethod
    def parse(cls, stored: str) -> frozenset[Scope]:
        return frozenset(cls(name) for name in stored.split())


EVERY_SCOPE = Scope.parse(ALL_SCOPES)


def to_column(scopes: frozenset[Scope]) -> str:
    """Stored in the order of the enum, so the same scopes always read the same."""
    return " ".join(scope.value for scope in Scope if scope in scopes)
