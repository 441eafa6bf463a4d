"""what a result says beyond its scores: confidence, episodes, derived arousal and valence

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: results stored before this revision were never interpreted, and are not made up now.
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidence', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('low_confidence', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('episodes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('affect', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.drop_column('affect')
        batch_op.drop_column('episodes')
        batch_op.drop_column('low_confidence')
        batch_op.drop_column('confidence')
