"""the precision each result was computed at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every result before this column was computed at the checkpoint's own fp32 (or fp16 on CUDA,
    # which nobody can tell now); fp32 is what their scores were compared against.
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('model_precision', sa.String(length=8), server_default='fp32', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.drop_column('model_precision')
