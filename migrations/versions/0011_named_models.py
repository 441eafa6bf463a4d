"""several models, one service: the model each job asks for, and what each named model shows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: jobs from before named models asked for none; the default model serves them.
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model', sa.String(length=32), nullable=True))
    # The name of the model that scored a result, as its worker wrote it.
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('model_name', sa.String(length=32), nullable=True))
    # What workers reported at start-up, now keyed by name too. Only a record of what is running: every
    # worker of this version writes its row again as it starts, so the table is rebuilt empty.
    op.drop_table('served_models')
    op.create_table('served_models',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('model_id', sa.String(length=255), nullable=False),
    sa.Column('revision', sa.String(length=64), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('sample_rate', sa.Integer(), nullable=False),
    sa.Column('window_seconds', sa.Float(), nullable=False),
    sa.Column('hop_seconds', sa.Float(), nullable=False),
    sa.Column('device', sa.String(length=16), nullable=False),
    sa.Column('precision', sa.String(length=8), nullable=False),
    sa.Column('display', sa.JSON(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', 'model_id', 'revision', name=op.f('pk_served_models'))
    )


def downgrade() -> None:
    op.drop_table('served_models')
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
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.drop_column('model_name')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('model')
