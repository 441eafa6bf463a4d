"""datasets: labelled audio uploaded to train on, one row per accepted clip

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 03:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('datasets',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_key_id', sa.Uuid(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clip_count', sa.Integer(), nullable=False),
    sa.Column('label_count', sa.Integer(), nullable=False),
    sa.Column('speaker_count', sa.Integer(), nullable=False),
    sa.Column('total_duration_s', sa.Float(), nullable=False),
    sa.Column('total_bytes', sa.BigInteger(), nullable=False),
    sa.Column('refused', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['owner_key_id'], ['api_keys.id'], name=op.f('fk_datasets_owner_key_id_api_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_datasets'))
    )
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.create_index('ix_datasets_owner_key_id_created_at_id', ['owner_key_id', 'created_at', 'id'], unique=False)

    op.create_table('dataset_clips',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('dataset_id', sa.Uuid(), nullable=False),
    sa.Column('storage_key', sa.String(length=32), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('speaker', sa.String(length=128), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_dataset_clips_dataset_id_datasets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_clips')),
    sa.UniqueConstraint('dataset_id', 'path', name='uq_dataset_clips_dataset_id_path')
    )


def downgrade() -> None:
    op.drop_table('dataset_clips')
    with op.batch_alter_table('datasets', schema=None) as batch_op:
        batch_op.drop_index('ix_datasets_owner_key_id_created_at_id')
    op.drop_table('datasets')
