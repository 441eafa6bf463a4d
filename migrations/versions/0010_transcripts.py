"""transcripts with emotions: a job may ask for one, and its result carries the utterances

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcribe', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    # Nullable: only jobs sent with transcribe=true have utterances.
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.add_column(sa.Column('utterances', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_results', schema=None) as batch_op:
        batch_op.drop_column('utterances')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('transcribe')
