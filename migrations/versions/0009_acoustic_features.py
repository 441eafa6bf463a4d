"""acoustic features: asked for per job, stored with its result

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('with_features', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Nullable: a result has features only when its job asked for them.
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('features', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.drop_column('features')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('with_features')
