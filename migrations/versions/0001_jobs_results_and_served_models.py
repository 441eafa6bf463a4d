"""jobs, results and served models

Revision ID: 0001
Revises:
Create Date: 2026-11-21 13:12:29.705988
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('content_type', sa.String(length=127), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('container', sa.String(length=32), nullable=True),
    sa.Column('codec', sa.String(length=32), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('sample_rate', sa.Integer(), nullable=True),
    sa.Column('channels', sa.Integer(), nullable=True),
    sa.Column('metadata', sa.JSON(), nullable=True),
    sa.Column('webhook_url', sa.String(length=2048), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('audio_key', sa.String(length=255), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_jobs_idempotency_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_jobs_status_created_at', ['status', 'created_at'], unique=False)

    op.create_table('served_models',
    sa.Column('model_id', sa.String(length=255), nullable=False),
    sa.Column('revision', sa.String(length=64), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('sample_rate', sa.Integer(), nullable=False),
    sa.Column('window_seconds', sa.Float(), nullable=False),
    sa.Column('hop_seconds', sa.Float(), nullable=False),
    sa.Column('device', sa.String(length=16), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('model_id', 'revision', name=op.f('pk_served_models'))
    )
    op.create_table('job_results',
    sa.Column('job_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('model_id', sa.String(length=255), nullable=False),
    sa.Column('model_revision', sa.String(length=64), nullable=False),
    sa.Column('dominant_label', sa.String(length=64), nullable=False),
    sa.Column('dominant_score', sa.Float(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('segments', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_results_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_results'))
    )


def downgrade() -> None:
    op.drop_table('job_results')
    op.drop_table('served_models')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_status_created_at')
        batch_op.drop_index('ix_jobs_created_at_id')

    op.drop_table('jobs')
