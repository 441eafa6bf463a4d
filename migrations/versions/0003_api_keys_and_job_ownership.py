"""api keys and job ownership

Jobs and batches get the key that submitted them (NULL when auth is disabled). Idempotency keys become
unique per owner: a unique constraint on (owner_key_id, idempotency_key) for owned jobs, and, because
NULLs never collide in a unique constraint, a partial unique index on idempotency_key for jobs without
an owner. Both backends support partial indexes, so no sentinel owner is needed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 14:15:41.136412
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_submission_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_key_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_batches_owner_key_id'), ['owner_key_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_batches_owner_key_id_api_keys'), 'api_keys', ['owner_key_id'], ['id'])

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_key_id', sa.Uuid(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_jobs_idempotency_key'), type_='unique')
        # A key's list (newest first) and its submissions in the last minute (the rate limit).
        batch_op.create_index('ix_jobs_owner_key_id_created_at_id', ['owner_key_id', 'created_at', 'id'], unique=False)
        # A key's queued and processing jobs (the quota).
        batch_op.create_index('ix_jobs_owner_key_id_status', ['owner_key_id', 'status'], unique=False)
        batch_op.create_index('uq_jobs_idempotency_key_without_owner', ['idempotency_key'], unique=True, postgresql_where=sa.text('owner_key_id IS NULL'), sqlite_where=sa.text('owner_key_id IS NULL'))
        batch_op.create_unique_constraint('uq_jobs_owner_key_id_idempotency_key', ['owner_key_id', 'idempotency_key'])
        batch_op.create_foreign_key(batch_op.f('fk_jobs_owner_key_id_api_keys'), 'api_keys', ['owner_key_id'], ['id'])


def downgrade() -> None:
    # Without owners, two keys' idempotency keys would collide, and one client could replay another's
    # job: owned jobs lose theirs (the jobs themselves stay).
    op.execute("UPDATE jobs SET idempotency_key = NULL WHERE owner_key_id IS NOT NULL")
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_jobs_owner_key_id_api_keys'), type_='foreignkey')
        batch_op.drop_constraint('uq_jobs_owner_key_id_idempotency_key', type_='unique')
        batch_op.drop_index('uq_jobs_idempotency_key_without_owner', postgresql_where=sa.text('owner_key_id IS NULL'), sqlite_where=sa.text('owner_key_id IS NULL'))
        batch_op.drop_index('ix_jobs_owner_key_id_status')
        batch_op.drop_index('ix_jobs_owner_key_id_created_at_id')
        batch_op.create_unique_constraint(batch_op.f('uq_jobs_idempotency_key'), ['idempotency_key'])
        batch_op.drop_column('owner_key_id')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_batches_owner_key_id_api_keys'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_batches_owner_key_id'))
        batch_op.drop_column('owner_key_id')

    op.drop_table('api_keys')
